import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadConfig } from "./config";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);
loadConfig(window.location).then(
  (config) => root.render(<App config={config} />),
  (error: unknown) =>
    root.render(
      <p className="error" role="alert">
        The page cannot start: {String(error)}
      </p>,
    ),
);

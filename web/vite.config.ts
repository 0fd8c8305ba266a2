import { defineConfig } from "vite";

export default defineConfig({
  // The contract module lives outside web/ (contracts/export): the dev server may read it.
  server: { fs: { allow: [".", "../contracts/export"] } },
  // One bundle, most of it livekit-client: splitting it would not make the page start sooner.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
});

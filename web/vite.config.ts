import { defineConfig } from "vite";

// The contract module lives outside web/ (contracts/export): the dev server may read it.
export default defineConfig({
  server: { fs: { allow: [".", "../contracts/export"] } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
});

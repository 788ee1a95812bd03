import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Built into dist/, which the console backend serves at /. `npm run dev` proxies the API
// to a console started by `make run`.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 400 },
  server: {
    port: 5173,
    host: "127.0.0.1",
    proxy: { "/api": { target: "http://127.0.0.1:8000", changeOrigin: false } },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The server (ignis-server) serves dist/ at `/`; in `vite dev`, API calls go to a server on :8080.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  server: {
    proxy: Object.fromEntries(
      ["/v1", "/oidc", "/interaction", "/invite", "/healthz"].map((p) => [p, "http://127.0.0.1:8080"]),
    ),
  },
});

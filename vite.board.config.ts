// The supervisors' board page (renderer/board): its own Vite entry, built into out/board, which
// `callpop hub --board-port` serves (main/core/hub/team/board-server.ts) and the CLI bundle ships beside
// out/cli. Same stack as the app's renderer (React, Vite), same shared styles and helpers.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: resolve('renderer/board'),
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: resolve('out/board'),
    emptyOutDir: true,
    minify: true,
    // MQTT.js for browsers is one large module; the page loads once on a wall display.
    chunkSizeWarningLimit: 1024,
  },
});

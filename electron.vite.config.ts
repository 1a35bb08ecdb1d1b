// electron-vite builds the three Electron bundles: main (Electron main + the core service host
// that runs in a utilityProcess), the sandboxed preload (CommonJS, as sandboxed preloads require),
// and the React renderer (two pages: the main window and the popup).
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: {
        input: {
          index: resolve('main/app/index.ts'),
          'service-host': resolve('main/core/desktop/utility-process.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // Sandboxed preloads cannot require npm packages: bundle everything into one CJS file.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve('main/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    base: './',
    plugins: [react()],
    build: {
      outDir: 'out/renderer',
      minify: true,
      rolldownOptions: {
        input: {
          index: resolve('renderer/index.html'),
          popup: resolve('renderer/popup.html'),
        },
      },
    },
  },
});

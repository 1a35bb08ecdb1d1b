// Builds the renderer (out/renderer) with the renderer section of electron.vite.config.ts, for browser
// tests and benches run before (or without) a full `npm run build`.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'vite';
import type { InlineConfig } from 'vite';

/** CALLPOP_RENDERER_OUT lets parallel work build and serve its own copy (default out/renderer). */
export const rendererDir = resolve(process.env.CALLPOP_RENDERER_OUT || 'out/renderer');

export async function buildRenderer(): Promise<void> {
  const config = (await import('../../../electron.vite.config')).default as { renderer: InlineConfig };
  const r = config.renderer;
  await build({
    ...r,
    configFile: false,
    logLevel: 'warn',
    root: resolve(r.root ?? 'renderer'),
    build: { ...r.build, outDir: rendererDir, emptyOutDir: true },
  });
}

/** Build only when there is no built renderer yet (`npm test` builds it before e2e). */
export async function ensureRendererBuilt(): Promise<void> {
  if (!existsSync(resolve(rendererDir, 'index.html')) || !existsSync(resolve(rendererDir, 'popup.html')) || process.env.CALLPOP_REBUILD_RENDERER === '1') {
    await buildRenderer();
  }
}

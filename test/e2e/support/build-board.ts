// Builds the supervisors' board page (out/board, vite.board.config.ts) for browser tests and the board
// bench when it is not built yet (`npm run build` builds it).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'vite';

export const boardDir = resolve('out/board');

export async function ensureBoardBuilt(): Promise<void> {
  if (existsSync(resolve(boardDir, 'index.html')) && process.env.CALLPOP_REBUILD_RENDERER !== '1') return;
  await build({ configFile: resolve('vite.board.config.ts'), logLevel: 'warn' });
}

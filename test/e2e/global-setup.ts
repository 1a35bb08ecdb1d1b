// Make sure there is a built renderer to serve (`npm test` builds it first; a lone `npx playwright test` may not).
import { ensureRendererBuilt } from './support/build-renderer';

export default async function globalSetup(): Promise<void> {
  await ensureRendererBuilt();
}

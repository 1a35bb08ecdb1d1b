// ESM resolve hook for the startup smoke test: `import … from 'electron'` (the app's bundle and
// electron-store) gets the stand-in.
const standIn = new URL('./electron.mjs', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: standIn, shortCircuit: true };
  return next(specifier, context);
}

// `node --import ./register.mjs out/main/index.js`: puts the stand-in in Electron's place for both
// module systems (ESM imports through a resolve hook, CommonJS require() of electron-updater through
// Module._resolveFilename).
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';

register('./hooks.mjs', import.meta.url);

const standIn = fileURLToPath(new URL('./electron.cjs', import.meta.url));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'electron' ? standIn : resolveFilename.call(this, request, ...rest);
};

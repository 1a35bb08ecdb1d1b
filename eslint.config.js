// Layering (as in vscode's common/node/browser/electron-main split), enforced here:
//   shared/    pure TypeScript: no Node, DOM-only, Electron or React imports
//   main/core/ and main/cli/: Node, never Electron, never main/app
//   renderer/  imports shared/ only
//   main/app/  Electron main; nothing imports it
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const electronPkgs = ['electron', 'electron-store', 'electron-updater', '@electron/*'];
const rule = (paths, patterns) => ['error', { paths: paths.map((name) => ({ name, message: 'Layering: not allowed in this folder (see eslint.config.js).' })), patterns }];
const noApp = { group: ['**/main/app/**', '**/app/**', '../app', '../../app'], message: 'Layering: nothing imports main/app.' };
const noRenderer = { group: ['**/renderer/**'], message: 'Layering: only the renderer bundle imports renderer/.' };
const noMain = { group: ['**/main/**'], message: 'Layering: this folder may not import main/.' };
const coreBase = [noApp, noRenderer, { group: electronPkgs, message: 'Layering: the core runs without Electron.' }];
// The call feeds, the hub and storage work on domain types (shared/call-record.ts, shared/call-log.ts,
// shared/source-state.ts); only the desktop backend that answers the UI speaks its IPC contract.
const noUiContract = { group: ['**/shared/ipc/**'], message: 'Rooms: feeds, the hub, downloads and the call log never depend on the UI contract (domain types: shared/source-state.ts, shared/call-log.ts, shared/download-progress.ts).' };

// main/core/hub/: the PBX-wide call log (log/), the MQTT brokers and their files (broker/), the agents'
// accounts (accounts/), queues, callbacks and the board (team/); the orchestration beside them wires them.
const hubRooms = [
  { room: 'log', not: ['broker', 'accounts', 'team'], why: 'is storage: it knows no broker, account or team' },
  { room: 'broker', not: ['log', 'team'], why: 'carries messages: it never reads the call log or the team' },
  { room: 'accounts', not: ['log', 'broker', 'team'], why: 'is the agents file: brokers and the team read it, not the other way' },
  { room: 'team', not: ['log'], why: 'gets its records from the orchestration, never from the call log' },
];
const hubOrchestration = ['hub', 'ingest', 'open-lists', 'agents-watcher', 'sync-responder'];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test/artifacts/**', 'test-results/**', 'playwright-report/**', 'bin/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: { 'no-restricted-imports': rule([...nodeBuiltins, ...electronPkgs, 'react', 'react-dom'], [noApp, noRenderer, noMain, { group: electronPkgs, message: 'Layering: shared/ is pure.' }]) },
  },
  {
    files: ['main/core/**/*.ts', 'main/cli/**/*.ts'],
    rules: { 'no-restricted-imports': rule(electronPkgs, [noApp, noRenderer, { group: electronPkgs, message: 'Layering: the core runs without Electron.' }]) },
  },
  {
    files: ['main/core/{feed,receiver,hub-client,call-control,hub,download}/**/*.ts'],
    rules: { 'no-restricted-imports': rule(electronPkgs, [...coreBase, noUiContract]) },
  },
  {
    // Rooms inside main/core: the call log is storage. It depends neither on the UI's IPC contract
    // (its domain types are in shared/call-log.ts) nor on what feeds it (feeds import it).
    files: ['main/core/call-log/**/*.ts'],
    rules: {
      'no-restricted-imports': rule(electronPkgs, [
        ...coreBase,
        noUiContract,
        { group: ['**/core/feed/**', '**/core/hub/**', '**/core/hub-client/**', '**/core/listener/**', '**/core/receiver/**', '**/core/desktop/**', '../feed/**', '../hub/**', '../hub-client/**', '../listener/**', '../receiver/**', '../desktop/**'], message: 'Rooms: the call log is storage; what feeds it imports it, not the other way.' },
      ]),
    },
  },
  ...hubRooms.map(({ room, not, why }) => ({
    // Rooms inside main/core/hub (one idea each): only hub.ts and its parts beside it wire them together.
    files: [`main/core/hub/${room}/**/*.ts`],
    rules: {
      'no-restricted-imports': rule(electronPkgs, [
        ...coreBase,
        noUiContract,
        { group: not.flatMap((r) => [`../${r}`, `../${r}/**`, `**/hub/${r}/**`]), message: `Rooms: main/core/hub/${room}/ ${why}.` },
        { group: hubOrchestration.flatMap((f) => [`../${f}`, `**/hub/${f}`]), message: `Rooms: main/core/hub/${room}/ is wired by the hub's orchestration (main/core/hub/*.ts), never the other way.` },
      ]),
    },
  })),
  {
    files: ['main/preload.ts'],
    rules: { 'no-restricted-imports': rule(nodeBuiltins, [noApp, noRenderer, { group: ['**/main/core/**', '**/core/**'], message: 'Layering: the preload only bridges IPC.' }]) },
  },
  {
    files: ['main/app/**/*.ts'],
    rules: { 'no-restricted-imports': rule([], [noRenderer]) },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': rule([...nodeBuiltins, ...electronPkgs], [noApp, noMain, { group: electronPkgs, message: 'Layering: the renderer talks to main only through window.callpop.' }]),
    },
  },
  {
    // CommonJS on purpose: the startup smoke test's stand-in Electron is what `require('electron')` finds.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': rule(['electron'], []) },
  },
);

#!/usr/bin/env node
// `npm run dist:check` — a LAYOUT CHECK of the packaged app, not an installer build.
//
// Electron cannot be downloaded on our machines, so this packs the app with electron-builder's
// `dir` target (Linux x64) against a stand-in Electron folder: a placeholder `electron` file that
// carries only the fuse wire electron-builder flips (sentinel + version + fuse states), no real
// binary. Then it inspects what electron-builder produced: the fuses, resources/app.asar (built
// bundles, production dependencies, nothing from sources/tests/dev dependencies), package.json's
// `main`, and the asarUnpack'd files. No installer (NSIS/MSI/dmg/pkg/AppImage/deb/rpm) is built
// or tested here; use `npm run dist` on a machine that can download Electron for that.
//
// Requires `npm run build` first. One line per check; exits 1 on any failure.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules, createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const asar = require('@electron/asar');
const yaml = require('js-yaml');
const { getCurrentFuseWire, FuseV1Options } = require('@electron/fuses');

const started = Date.now();
let failures = 0;
const check = (ok, label, detail = '') => {
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}${!ok && detail ? ` — ${detail}` : ''}`);
};

const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
const builderConfig = yaml.load(await readFile(path.join(root, 'electron-builder.yml'), 'utf8'));

const requiredBuilt = ['out/main/index.js', 'out/main/service-host.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'out/renderer/popup.html'];
const missingBuilt = requiredBuilt.filter((f) => !existsSync(path.join(root, f)));
if (missingBuilt.length) {
  console.log(`FAIL build output missing (${missingBuilt.join(', ')}) — run \`npm run build\` first`);
  process.exit(1);
}

console.log('dist:check — layout check of the packed app (electron-builder --dir, stand-in Electron); NOT an installer build');

// ---- stand-in Electron ------------------------------------------------------------------------
// Electron's default fuse wire: RunAsNode, CookieEncryption, NodeOptions, Inspect, AsarIntegrity,
// OnlyLoadAppFromAsar, V8Snapshot, FileProtocolExtraPrivileges. Flipped ones show the config applied.
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const defaultWire = '10110001';
const work = await mkdtemp(path.join(tmpdir(), 'callpop-dist-check-'));
try {
  const electronDist = path.join(work, 'electron-dist');
  await mkdir(path.join(electronDist, 'resources'), { recursive: true });
  await mkdir(path.join(electronDist, 'locales'), { recursive: true });
  const stub = Buffer.concat([
    Buffer.from('#!/bin/sh\necho "Callpop dist:check stand-in, not Electron" >&2\nexit 1\n# '),
    Buffer.from(SENTINEL),
    Buffer.from([1, defaultWire.length]),
    Buffer.from(defaultWire),
    Buffer.from('\n'),
  ]);
  await writeFile(path.join(electronDist, 'electron'), stub);
  await chmod(path.join(electronDist, 'electron'), 0o755);
  await writeFile(path.join(electronDist, 'LICENSE'), 'stand-in\n');
  await writeFile(path.join(electronDist, 'locales', 'en-US.pak'), '');

  // ---- pack ------------------------------------------------------------------------------------
  const output = path.join(work, 'dist');
  const { build, Platform, Arch } = await import('electron-builder');
  const electronVersion = JSON.parse(await readFile(require.resolve('electron/package.json'), 'utf8')).version;
  try {
    await build({
      projectDir: root,
      targets: Platform.LINUX.createTarget('dir', Arch.x64),
      publish: 'never',
      config: { electronDist, electronVersion, directories: { output } },
    });
    check(true, `electron-builder packed ${pkg.name} ${pkg.version} (linux-x64 dir) against the stand-in Electron ${electronVersion}`);
  } catch (e) {
    check(false, 'electron-builder --dir pack', String(e?.message ?? e).split('\n')[0]);
    throw new Error('pack failed', { cause: e });
  }

  const appDir = path.join(output, 'linux-unpacked');
  const exe = path.join(appDir, builderConfig.linux?.executableName ?? pkg.name);
  check(existsSync(exe), `executable renamed to ${path.basename(exe)}`);

  // ---- fuses -----------------------------------------------------------------------------------
  const wire = await getCurrentFuseWire(exe);
  const wanted = builderConfig.electronFuses ?? {};
  const fuseName = (key) => key.charAt(0).toUpperCase() + key.slice(1);
  const wrong = [];
  for (const [key, on] of Object.entries(wanted)) {
    const idx = FuseV1Options[fuseName(key)];
    if (idx === undefined) wrong.push(`${key}: unknown fuse`);
    else if (wire[idx] !== (on ? 49 : 48)) wrong.push(`${key} should be ${on ? 'on' : 'off'}`);
  }
  // And the hardening the issue asks for, whatever the config says.
  const required = { RunAsNode: false, EnableNodeOptionsEnvironmentVariable: false, EnableNodeCliInspectArguments: false, OnlyLoadAppFromAsar: true };
  for (const [name, on] of Object.entries(required)) if (wire[FuseV1Options[name]] !== (on ? 49 : 48)) wrong.push(`${name} must be ${on ? 'on' : 'off'}`);
  check(wrong.length === 0 && Object.keys(wanted).length >= 5, `fuses flipped as configured (${Object.entries(wanted).map(([k, v]) => `${k}=${v}`).join(', ')})`, wrong.join('; '));

  // ---- app.asar --------------------------------------------------------------------------------
  const resources = path.join(appDir, 'resources');
  const archive = path.join(resources, 'app.asar');
  check(existsSync(archive), 'resources/app.asar exists');
  check(!existsSync(path.join(resources, 'app')), 'no unpacked resources/app folder (asar only)');
  const files = asar.listPackage(archive, { isPack: false }).map((f) => f.replace(/\\/g, '/').replace(/^\//, ''));
  const has = new Set(files);
  const { size } = await stat(archive);
  console.log(`     app.asar: ${files.length} entries, ${(size / 1024 / 1024).toFixed(1)} MB`);

  const missing = requiredBuilt.filter((f) => !has.has(f));
  check(missing.length === 0, `built bundles inside the asar (${requiredBuilt.length})`, missing.join(', '));
  const rendererAssets = files.filter((f) => f.startsWith('out/renderer/assets/'));
  check(rendererAssets.length > 0, `renderer assets inside the asar (${rendererAssets.length} files)`);

  const packedPkg = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8'));
  const mainEntry = path.posix.normalize(packedPkg.main ?? 'index.js');
  check(has.has(mainEntry), `package.json main "${packedPkg.main}" is a file inside the asar`);
  check(!packedPkg.devDependencies, 'packed package.json carries no devDependencies');

  // Production dependencies: every bare import of the main-process bundles, and every declared
  // dependency, must resolve inside the asar's node_modules (with their own dependencies).
  const bareImports = new Set();
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  for (const f of files.filter((x) => /^out\/main\/.*\.(c|m)?js$/.test(x))) {
    const src = asar.extractFile(archive, f).toString('utf8');
    for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["']([^"'./][^"']*)["']/g)) {
      const spec = m[1];
      if (builtins.has(spec) || spec === 'electron' || spec.startsWith('electron/')) continue;
      bareImports.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  }
  // A sandboxed preload can require only electron and a few built-ins, so it must be self-contained.
  const preloadSrc = asar.extractFile(archive, 'out/preload/index.cjs').toString('utf8');
  const sandboxOk = new Set(['electron', 'events', 'timers', 'url', 'node:events', 'node:timers', 'node:url']);
  const preloadRequires = [...new Set([...preloadSrc.matchAll(/\brequire\s*\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]))];
  const badPreload = preloadRequires.filter((r) => !sandboxOk.has(r));
  check(badPreload.length === 0, `sandboxed preload is self-contained (requires: ${preloadRequires.join(', ') || 'nothing'})`, `also requires ${badPreload.join(', ')}`);

  const topLevel = (name) => has.has(`node_modules/${name}/package.json`);
  const missingImports = [...bareImports].filter((n) => !topLevel(n));
  check(missingImports.length === 0, `main's runtime imports present in the asar (${[...bareImports].sort().join(', ') || 'none: fully bundled'})`, `missing: ${missingImports.join(', ')}`);

  // Dependencies only the `callpop` command uses; electron-builder.yml leaves them out on purpose.
  const cliOnly = ['node-notifier'];
  check(cliOnly.every((n) => !topLevel(n)), `CLI-only dependencies left out of the app (${cliOnly.join(', ')})`);
  const declared = Object.keys(pkg.dependencies ?? {}).filter((n) => !cliOnly.includes(n));
  const missingDeclared = declared.filter((n) => !topLevel(n));
  check(missingDeclared.length === 0, `production dependencies present (${declared.length})`, `missing: ${missingDeclared.join(', ')}`);

  // Transitive closure as Node would resolve it (nested node_modules first, then hoisted).
  const unresolved = [];
  const seen = new Set();
  const visit = (dir, name) => {
    let at = dir;
    for (;;) {
      const cand = `${at ? `${at}/` : ''}node_modules/${name}`;
      if (has.has(`${cand}/package.json`)) {
        if (seen.has(cand)) return;
        seen.add(cand);
        const p = JSON.parse(asar.extractFile(archive, `${cand}/package.json`).toString('utf8'));
        for (const dep of Object.keys(p.dependencies ?? {})) visit(cand, dep);
        return;
      }
      if (!at) break;
      const i = at.lastIndexOf('/node_modules/');
      at = i < 0 ? '' : at.slice(0, i);
    }
    unresolved.push(`${name} (needed by ${dir || 'the app'})`);
  };
  for (const n of new Set([...declared, ...bareImports])) visit('', n);
  check(unresolved.length === 0, `dependency closure resolves inside the asar (${seen.size} packages)`, unresolved.slice(0, 5).join(', '));

  // ---- nothing that must not ship --------------------------------------------------------------
  const outside = files.filter((f) => !f.startsWith('node_modules/'));
  const runtimeAsset = (f) => f === 'assets' || f === 'assets/tray' || f === 'assets/icon.png' || /^assets\/tray\/[\w@-]+\.png$/.test(f);
  const strayTop = outside.filter((f) => !(f === 'package.json' || f === 'out' || f.startsWith('out/') || f === 'node_modules' || runtimeAsset(f)));
  check(strayTop.length === 0, 'only out/, package.json and the runtime icons outside node_modules', strayTop.slice(0, 5).join(', '));
  const trayIcons = ['listening', 'missed', 'error', 'paused'].flatMap((v) => [`assets/tray/tray-${v}-16.png`, `assets/tray/tray-${v}-16@2x.png`]);
  const trayMissing = [...trayIcons, 'assets/tray/trayTemplate.png', 'assets/icon.png'].filter((f) => !has.has(f));
  check(trayMissing.length === 0, 'tray and window icons inside the asar (assets/tray/*, assets/icon.png)', trayMissing.join(', '));
  const sources = outside.filter((f) => /\.(ts|tsx|mts|cts|svg)$/.test(f) || /^(shared|main|renderer|test|bench|scripts|docs|build)(\/|$)/.test(f));
  check(sources.length === 0, 'no TypeScript sources, tests or source folders', sources.slice(0, 5).join(', '));
  const maps = files.filter((f) => f.startsWith('out/') && f.endsWith('.map'));
  check(maps.length === 0, 'no source maps of our bundles', maps.slice(0, 3).join(', '));
  const prodClosure = new Set([...seen].map((p) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length)));
  const devOnly = Object.keys(pkg.devDependencies ?? {}).filter((d) => !prodClosure.has(d));
  const shippedDev = devOnly.filter((d) => files.some((f) => f === `node_modules/${d}` || f.endsWith(`/node_modules/${d}`)));
  check(shippedDev.length === 0, `no dev dependencies (${devOnly.length} checked: electron, vite, vitest, playwright, typescript, …)`, shippedDev.join(', '));
  const testDirs = outside.filter((f) => /(^|\/)(test|tests|__tests__)(\/|$)/.test(f));
  check(testDirs.length === 0, 'no test folders in our files', testDirs.slice(0, 3).join(', '));

  // ---- asarUnpack ------------------------------------------------------------------------------
  const header = asar.getRawHeader(archive).header;
  const unpacked = [];
  const walk = (node, prefix) => {
    for (const [name, entry] of Object.entries(node.files ?? {})) {
      const p = prefix ? `${prefix}/${name}` : name;
      if (entry.files) walk(entry, p);
      else if (entry.unpacked) unpacked.push(p);
    }
  };
  walk(header, '');
  const notThere = unpacked.filter((p) => !existsSync(path.join(resources, 'app.asar.unpacked', p)));
  check(notThere.length === 0, `asarUnpack'd files are in resources/app.asar.unpacked where Electron reads them (${unpacked.length} files)`, notThere.slice(0, 3).join(', '));
  const wantUnpacked = (builderConfig.asarUnpack ?? []).map((g) => g.replace(/\/\*\*$/, '/'));
  const expectedRoots = wantUnpacked.filter((prefix) => files.some((f) => f.startsWith(prefix)));
  const packedInstead = expectedRoots.filter((prefix) => !unpacked.some((p) => p.startsWith(prefix)));
  check(packedInstead.length === 0, `asarUnpack patterns took effect (${expectedRoots.join(', ') || 'none apply'})`, packedInstead.join(', '));

  // ---- icons and metadata (what the installers will use) -----------------------------------------
  const icons = ['assets/icon.ico', 'assets/icon.icns', 'assets/icon.png'].filter((f) => !existsSync(path.join(root, f)));
  check(icons.length === 0, 'installer icons exist (assets/icon.ico, .icns, .png)', icons.join(', '));
  if (icons.length === 0) {
    const pngSize = (b) => (b.readUInt32BE(0) === 0x89504e47 ? b.readUInt32BE(16) : -1);
    const icoBuf = await readFile(path.join(root, 'assets/icon.ico'));
    const icoSizes = Array.from({ length: icoBuf.readUInt16LE(4) }, (_, i) => icoBuf[6 + 16 * i] || 256);
    const icoMissing = [16, 24, 32, 48, 256].filter((n) => !icoSizes.includes(n));
    check(icoBuf.readUInt16LE(2) === 1 && icoMissing.length === 0, `icon.ico has ${icoSizes.join('/')} px`, `missing ${icoMissing.join(', ')}`);
    const icnsBuf = await readFile(path.join(root, 'assets/icon.icns'));
    const icnsTypes = [];
    for (let at = 8; at + 8 <= icnsBuf.length; at += icnsBuf.readUInt32BE(at + 4)) icnsTypes.push(icnsBuf.toString('ascii', at, at + 4));
    const icnsOk = icnsBuf.toString('ascii', 0, 4) === 'icns' && icnsBuf.readUInt32BE(4) === icnsBuf.length && ['ic07', 'ic08', 'ic09', 'ic10'].every((t) => icnsTypes.includes(t));
    check(icnsOk, `icon.icns has ${icnsTypes.join(' ')}`);
    const png = await readFile(path.join(root, 'assets/icon.png'));
    check(pngSize(png) >= 512, `icon.png is ${pngSize(png)} px (Linux needs ≥ 256)`);
  }
  check(existsSync(path.join(root, 'build', 'installer.nsh')), 'NSIS include build/installer.nsh exists');
  console.log('     note: the packed executable is the stand-in, so the app itself was not started');
} catch (e) {
  if (String(e?.message) !== 'pack failed') check(false, 'dist:check crashed', String(e?.stack ?? e).split('\n').slice(0, 3).join(' | '));
} finally {
  await rm(work, { recursive: true, force: true });
}

console.log(`dist:check ${failures === 0 ? 'passed' : `FAILED (${failures})`} in ${((Date.now() - started) / 1000).toFixed(1)} s — layout only; installers are built by \`npm run dist\` where Electron can be downloaded`);
process.exit(failures === 0 ? 0 : 1);

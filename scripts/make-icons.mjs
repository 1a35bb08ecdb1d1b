#!/usr/bin/env node
// `npm run icons` — every icon from the one source image, assets/icon.svg, rendered by Chromium
// (playwright-core; CHROMIUM_PATH, else /usr/bin/chromium). The outputs are committed, so builds
// and `npm ci` never need Chromium. Writes into assets/:
//   icon.png (512), icon-1024.png           Linux / window icon, sources for electron-builder
//   icon.ico  16…48 as 32-bit BMP + 256 PNG  Windows exe, NSIS, MSI, shortcuts
//   icon.icns 16…1024 PNG entries            macOS (Big Sur grid: artwork at 80.5 %)
//   tray/tray-{listening,missed,error,paused}-{16,32}[@2x].png   Windows / Linux tray (colour)
//   tray/tray{,Missed,Error,Paused}Template[@2x].png          macOS menu bar (black + alpha)
// The ICO and ICNS containers are written here: both are a small header plus the images.
/* global window, document, Image -- used inside page.evaluate, which runs in Chromium */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const assets = path.join(root, 'assets');
const svg = await readFile(path.join(assets, 'icon.svg'), 'utf8');

const executablePath = process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });

/** Styles appended to the SVG for each look (later rules win over the source's own <style>). */
const looks = {
  app: '',
  grey: '#bgGrad stop:first-child{stop-color:#9ca3af}#bgGrad stop:last-child{stop-color:#4b5563}',
  glyphBlack: '.bg{display:none}.glyph{stroke:#000}.glyph .solid{fill:#000}',
};
const withStyle = (look) => svg.replace('</svg>', `<style>${looks[look]}</style></svg>`);

try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><body></body>');
  // In the page: render an SVG to a size×size canvas, optionally cropped to the glyph, scaled, badged.
  await page.evaluate(() => {
    window.renderIcon = async ({ svgText, size, scale = 1, crop = false, badge = null, mono = false }) => {
      const img = new Image();
      img.src = `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(svgText)))}`;
      await img.decode();
      let sx = 0, sy = 0, sw = 512, sh = 512;
      if (crop) {
        // Tight square around the drawn pixels, so the glyph fills the tray slot.
        const probe = document.createElement('canvas');
        probe.width = probe.height = 512;
        const pc = probe.getContext('2d');
        pc.drawImage(img, 0, 0, 512, 512);
        const a = pc.getImageData(0, 0, 512, 512).data;
        let x0 = 512, y0 = 512, x1 = 0, y1 = 0;
        for (let y = 0; y < 512; y++) for (let x = 0; x < 512; x++) if (a[(y * 512 + x) * 4 + 3] > 8) {
          x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
        }
        const side = Math.max(x1 - x0, y1 - y0) * 1.04;
        sx = (x0 + x1) / 2 - side / 2; sy = (y0 + y1) / 2 - side / 2; sw = sh = side;
      }
      const c = document.createElement('canvas');
      c.width = c.height = size;
      const g = c.getContext('2d');
      g.imageSmoothingQuality = 'high';
      const d = size * scale, off = (size - d) / 2;
      g.drawImage(img, sx, sy, sw, sh, off, off, d, d);
      if (badge) {
        // A dot in a corner with a transparent ring around it, legible on any taskbar colour.
        const r = size * 0.25, cx = badge.corner === 'br' ? size - r : size - r, cy = badge.corner === 'br' ? size - r : r;
        g.globalCompositeOperation = 'destination-out';
        g.beginPath(); g.arc(cx, cy, r + Math.max(1, size * 0.06), 0, Math.PI * 2); g.fill();
        g.globalCompositeOperation = 'source-over';
        const ink = mono ? '#000' : badge.color;
        g.fillStyle = ink;
        g.beginPath(); g.arc(cx, cy, r, 0, Math.PI * 2); g.fill();
        const knock = (draw) => { g.globalCompositeOperation = mono ? 'destination-out' : 'source-over'; g.fillStyle = '#fff'; draw(); g.globalCompositeOperation = 'source-over'; };
        if (badge.kind === 'pause') knock(() => { const w = r * 0.32, h = r * 1.05; g.fillRect(cx - w * 1.45, cy - h / 2, w, h); g.fillRect(cx + w * 0.45, cy - h / 2, w, h); });
        if (badge.kind === 'alert') knock(() => { const w = r * 0.3; g.fillRect(cx - w / 2, cy - r * 0.62, w, r * 0.78); g.fillRect(cx - w / 2, cy + r * 0.3, w, w); });
      }
      const rgba = g.getImageData(0, 0, size, size).data;
      let bin = '';
      for (let i = 0; i < rgba.length; i++) bin += String.fromCharCode(rgba[i]);
      return { png: c.toDataURL('image/png').split(',')[1], rgba: btoa(bin) };
    };
  });

  const render = async (opts) => {
    const r = await page.evaluate((o) => window.renderIcon(o), opts);
    return { png: Buffer.from(r.png, 'base64'), rgba: Buffer.from(r.rgba, 'base64'), size: opts.size };
  };
  const written = [];
  const out = async (rel, data) => {
    await mkdir(path.dirname(path.join(assets, rel)), { recursive: true });
    await writeFile(path.join(assets, rel), data);
    written.push(`${rel} (${data.length} B)`);
  };

  // ---- app icons ------------------------------------------------------------------------------
  const app = withStyle('app');
  await out('icon.png', (await render({ svgText: app, size: 512 })).png);
  await out('icon-1024.png', (await render({ svgText: app, size: 1024 })).png);

  const icoSizes = [16, 20, 24, 32, 40, 48, 64, 128, 256];
  await out('icon.ico', ico(await Promise.all(icoSizes.map((size) => render({ svgText: app, size })))));

  // macOS draws icons on an 824/1024 grid; the source's rounded square spans 464/512.
  const macScale = 824 / 1024 / (464 / 512);
  const icnsTypes = [['icp4', 16], ['icp5', 32], ['icp6', 64], ['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024], ['ic11', 32], ['ic12', 64], ['ic13', 256], ['ic14', 512]];
  const macPng = new Map();
  for (const size of new Set(icnsTypes.map(([, s]) => s))) macPng.set(size, (await render({ svgText: app, size, scale: macScale })).png);
  await out('icon.icns', icns(icnsTypes.map(([type, size]) => [type, macPng.get(size)])));

  // ---- tray icons ------------------------------------------------------------------------------
  const variants = {
    listening: { look: 'app', badge: null },
    missed: { look: 'app', badge: { corner: 'tr', color: '#ef4444', kind: 'dot' } },
    error: { look: 'grey', badge: { corner: 'br', color: '#f59e0b', kind: 'alert' } },
    paused: { look: 'grey', badge: { corner: 'br', color: '#1f2937', kind: 'pause' } },
  };
  for (const [name, v] of Object.entries(variants)) {
    for (const base of [16, 32]) {
      await out(`tray/tray-${name}-${base}.png`, (await render({ svgText: withStyle(v.look), size: base, badge: v.badge })).png);
      await out(`tray/tray-${name}-${base}@2x.png`, (await render({ svgText: withStyle(v.look), size: base * 2, badge: v.badge })).png);
    }
    // macOS template images: black + alpha only; the menu bar tints them. Name must end in "Template".
    const tName = name === 'listening' ? 'trayTemplate' : `tray${name[0].toUpperCase()}${name.slice(1)}Template`;
    for (const [suffix, size] of [['', 16], ['@2x', 32]]) {
      await out(`tray/${tName}${suffix}.png`, (await render({ svgText: withStyle('glyphBlack'), size, crop: true, badge: v.badge, mono: true })).png);
    }
  }
  for (const w of written) console.log(`wrote assets/${w}`);
} finally {
  await browser.close();
}

/** ICO: sizes < 256 as 32-bit BMP (what every Windows tool reads), 256 as PNG. */
function ico(images) {
  const entries = images.map(({ size, png, rgba }) => {
    if (size >= 256) return { size, data: png };
    const maskRow = Math.ceil(size / 32) * 4;
    const header = Buffer.alloc(40);
    header.writeUInt32LE(40, 0);
    header.writeInt32LE(size, 4);
    header.writeInt32LE(size * 2, 8); // XOR image + AND mask
    header.writeUInt16LE(1, 12);
    header.writeUInt16LE(32, 14);
    header.writeUInt32LE(size * size * 4 + maskRow * size, 20);
    const pixels = Buffer.alloc(size * size * 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const s = ((size - 1 - y) * size + x) * 4; // BMP rows are bottom-up
        const d = (y * size + x) * 4;
        pixels[d] = rgba[s + 2];
        pixels[d + 1] = rgba[s + 1];
        pixels[d + 2] = rgba[s];
        pixels[d + 3] = rgba[s + 3];
      }
    }
    return { size, data: Buffer.concat([header, pixels, Buffer.alloc(maskRow * size)]) };
  });
  const dir = Buffer.alloc(6 + 16 * entries.length);
  dir.writeUInt16LE(0, 0);
  dir.writeUInt16LE(1, 2);
  dir.writeUInt16LE(entries.length, 4);
  let offset = dir.length;
  entries.forEach(({ size, data }, i) => {
    const at = 6 + 16 * i;
    dir.writeUInt8(size >= 256 ? 0 : size, at);
    dir.writeUInt8(size >= 256 ? 0 : size, at + 1);
    dir.writeUInt16LE(1, at + 4);
    dir.writeUInt16LE(32, at + 6);
    dir.writeUInt32LE(data.length, at + 8);
    dir.writeUInt32LE(offset, at + 12);
    offset += data.length;
  });
  return Buffer.concat([dir, ...entries.map((e) => e.data)]);
}

/** ICNS: "icns" + total length, then (type, length incl. 8-byte header, PNG) entries. */
function icns(entries) {
  const parts = entries.map(([type, png]) => {
    const h = Buffer.alloc(8);
    h.write(type, 0, 'ascii');
    h.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([h, png]);
  });
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(8);
  h.write('icns', 0, 'ascii');
  h.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([h, body]);
}

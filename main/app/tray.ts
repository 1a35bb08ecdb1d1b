// The tray icon: state at a glance (listening / error / paused / missed calls), the same text in
// the tooltip, and the menu: Open, Pause popups, Settings, Open logs folder, Quit.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Menu, Tray, nativeImage } from 'electron';
import type { NativeImage } from 'electron';
import type { AppStatus } from '../../shared/ipc/contract';

export type TrayVariant = 'listening' | 'error' | 'paused' | 'missed';

/** Icon variant and tooltip for a status; errors win over pause, pause over missed calls. */
export function trayLook(status: AppStatus): { variant: TrayVariant; tooltip: string } {
  const s = status.service;
  const lines: string[] = [];
  let variant: TrayVariant = 'listening';
  switch (s.state) {
    case 'listening':
      lines.push(`Callpop — listening on port ${s.port}`);
      break;
    case 'starting':
      lines.push('Callpop — starting…');
      break;
    case 'stopped':
      lines.push('Callpop — stopped');
      variant = 'error';
      break;
    case 'restarting':
      lines.push(`Callpop — the core service stopped; restarting (attempt ${s.attempt})`);
      variant = 'error';
      break;
    case 'error':
      lines.push(`Callpop — ${s.message}`);
      variant = 'error';
      break;
  }
  if (status.policyError) {
    lines.push(`Policy file ignored: ${status.policyError}`);
    variant = 'error';
  }
  if (status.popupsPaused) {
    lines.push('popups paused');
    if (variant !== 'error') variant = 'paused';
  }
  if (status.missedUnseen > 0) {
    lines.push(`${status.missedUnseen} missed`);
    if (variant === 'listening') variant = 'missed';
  }
  // Windows limits tooltips to 127 characters.
  const tooltip = lines.join('\n');
  return { variant, tooltip: tooltip.length > 127 ? `${tooltip.slice(0, 126)}…` : tooltip };
}

export interface TrayActions {
  open(): void;
  setPaused(paused: boolean): void;
  settings(): void;
  openLogs(): void;
  quit(): void;
}

export class TrayController {
  private readonly tray: Tray;
  private readonly icons = new Map<TrayVariant, NativeImage>();

  constructor(
    private readonly assetsDir: string,
    private readonly actions: TrayActions,
  ) {
    this.tray = new Tray(this.icon('listening'));
    this.tray.on('click', () => actions.open());
  }

  update(status: AppStatus): void {
    const { variant, tooltip } = trayLook(status);
    this.tray.setImage(this.icon(variant));
    this.tray.setToolTip(tooltip);
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Open Callpop', click: () => this.actions.open() },
        { label: 'Pause popups', type: 'checkbox', checked: status.popupsPaused, click: (item) => this.actions.setPaused(item.checked) },
        { label: 'Settings…', click: () => this.actions.settings() },
        { label: 'Open logs folder', click: () => this.actions.openLogs() },
        { type: 'separator' },
        { label: 'Quit Callpop', click: () => this.actions.quit() },
      ]),
    );
  }

  /** Near the tray: the popup goes to the work-area corner closest to these bounds. */
  bounds() {
    return this.tray.getBounds();
  }

  destroy(): void {
    this.tray.destroy();
  }

  // assets/tray-<variant>.png, else assets/tray.png, else an empty image (icons may not exist yet).
  private icon(variant: TrayVariant): NativeImage {
    let img = this.icons.get(variant);
    if (!img) {
      const file = [join(this.assetsDir, `tray-${variant}.png`), join(this.assetsDir, 'tray.png')].find((f) => existsSync(f));
      img = file ? nativeImage.createFromPath(file) : nativeImage.createEmpty();
      if (process.platform === 'darwin' && file) img.setTemplateImage(variant === 'listening');
      this.icons.set(variant, img);
    }
    return img;
  }
}

// The tray icon: state at a glance (listening or connected to the hub / error / paused / missed calls),
// the same text in the tooltip, and the menu: Open, Pause popups, Settings, Open logs folder, Quit.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Menu, Tray, nativeImage } from 'electron';
import type { NativeImage } from 'electron';
import { hubNeedsAttention, hubStatusText } from '../../shared/hub-status';
import type { AppStatus } from '../../shared/ipc/contract';
import { pbxNeedsAttention, pbxStatusText } from '../../shared/pbx-status';

export type TrayVariant = 'listening' | 'error' | 'paused' | 'missed';

/** Icon variant and tooltip for a status; errors win over pause, pause over missed calls. */
export function trayLook(status: AppStatus): { variant: TrayVariant; tooltip: string } {
  const s = status.service;
  const lines: string[] = [];
  let variant: TrayVariant = 'listening';
  switch (s.state) {
    case 'listening':
      lines.push(`Callpop — listening on port ${s.port}`);
      if (s.notice) lines.push(s.notice);
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
    // Source "hub": connected looks like listening; anything that keeps calls from coming is an error.
    case 'hub-connecting':
    case 'hub-connected':
    case 'hub-reconnecting':
    case 'hub-refused':
    case 'hub-offline':
    case 'hub-setup':
      lines.push(`Callpop — ${hubStatusText(s)}`);
      if (hubNeedsAttention(s)) variant = 'error';
      break;
    // Source "call-control": the same, with the PBX's words.
    case 'pbx-connecting':
    case 'pbx-connected':
    case 'pbx-reconnecting':
    case 'pbx-refused':
      lines.push(`Callpop — ${pbxStatusText(s)}`);
      if (pbxNeedsAttention(s)) variant = 'error';
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
  if (status.callbacksOpen) {
    lines.push(`${status.callbacksOpen} to call back`);
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

  /**
   * assets/tray/: macOS template images (trayTemplate.png, trayErrorTemplate.png, …; the @2x files
   * are picked up by Electron), tray-<variant>-16.png on Windows, -32 on Linux. Missing → empty image.
   */
  private icon(variant: TrayVariant): NativeImage {
    let img = this.icons.get(variant);
    if (!img) {
      const cap = variant === 'listening' ? '' : variant[0]!.toUpperCase() + variant.slice(1);
      const name = process.platform === 'darwin' ? `tray${cap}Template.png` : `tray-${variant}-${process.platform === 'win32' ? 16 : 32}.png`;
      const file = join(this.assetsDir, name);
      img = existsSync(file) ? nativeImage.createFromPath(file) : nativeImage.createEmpty();
      if (process.platform === 'darwin' && !img.isEmpty()) img.setTemplateImage(true);
      this.icons.set(variant, img);
    }
    return img;
  }
}

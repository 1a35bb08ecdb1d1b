// The ESM face of the stand-in (./electron.cjs): the same object, as named exports.
import { createRequire } from 'node:module';

const electron = createRequire(import.meta.url)('./electron.cjs');
export default electron;
export const {
  app, BrowserWindow, ipcMain, utilityProcess, session, protocol, screen, nativeImage, Tray, Notification, Menu, MenuItem,
  globalShortcut, safeStorage, nativeTheme, powerMonitor, shell, clipboard, dialog, autoUpdater, net, webContents, crashReporter,
  powerSaveBlocker, systemPreferences, desktopCapturer, contentTracing, netLog, pushNotifications, inAppPurchase, MessageChannelMain,
  BaseWindow, WebContentsView, View, ShareMenu, TouchBar, ImageView, webFrameMain, contextBridge, ipcRenderer, webFrame, parentPort,
} = electron;

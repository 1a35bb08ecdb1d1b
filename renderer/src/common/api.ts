// The one door to main: window.callpop, provided by the preload (or the e2e bridge).
import type { CallpopApi } from '../../../shared/ipc/api';

declare global {
  interface Window {
    callpop: CallpopApi;
  }
}

export const api = (): CallpopApi => window.callpop;

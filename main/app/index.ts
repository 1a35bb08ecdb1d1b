// Electron main entry (placeholder until the desktop issue lands).
export {};

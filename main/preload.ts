// Sandboxed preload (placeholder until the desktop issue lands).
export {};

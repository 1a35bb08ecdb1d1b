// utilityProcess entry for the core service (placeholder until the desktop issue lands).
export {};

// Types for build.mjs.
export function buildIsStale(): boolean;
export function buildIfStale(log?: (message: string) => void): void;

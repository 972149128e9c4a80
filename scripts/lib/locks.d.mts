// Types for locks.mjs.
export interface RemovedLock {
  path: string;
  pid: number;
  timestamp: string;
}
export function clearStaleLocks(stack: string, options?: { dir?: string; host?: string }): RemovedLock[];

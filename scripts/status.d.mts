// Types for status.mjs: what its tests use.
export interface ServiceStatus {
  service: string;
  port: number;
  url: string;
  active: string | null;
  liveVersion: string | null;
  maintenance: boolean;
  colors: Record<"blue" | "green", string | null>;
  /** Failed builds kept for inspection, relative to the project, oldest first. */
  keptFailedBuilds: string[];
  /** What the processes answered (probeLive); absent when they were not asked. */
  live?: unknown;
}
export interface LocalStatus {
  stack: string;
  manifest: string | null;
  services: ServiceStatus[];
  latestRecord: { release: string; outcome: string; date: string } | null;
  restorableBackup: string | null;
}
export function localStatus(stack: string): LocalStatus;
export function probeLive(status: LocalStatus, timeoutMs?: number): Promise<LocalStatus>;
export function printStatus(status: LocalStatus, write?: (line: string) => void): void;

// Types for build.mjs.
export function buildIsStale(): boolean;
export function buildIfStale(log?: (message: string) => void): void;
export function build(log?: (message: string) => void): void;
/** The kubernetes runner Job's script, bundled with the contract: dist/runner/shipgate-runner.mjs. */
export const runnerBundle: string;

// The local platform's providers act for one engine run. The engine starts the dynamic provider
// process as its own child and stops it when the run ends; when the engine crashes or is killed
// instead, the provider is handed to another parent and would go on with whatever it was doing (a
// verification that switches users back, a slot that starts a process) with nobody watching and
// no state written. This module makes such an orphan do nothing users can see: mutating calls
// refuse once the engine is gone, and the provider process exits within a fraction of a second.
// A re-run of the release converges from what is left.

/** The parent process when this module was first loaded: the engine, in the provider process. */
const enginePid = process.ppid;

/** How often the provider process checks that its engine still runs. */
export const engineWatchIntervalMs = 200;

/** True when the process that started this one (the engine) is gone: we were handed on. */
export function engineGone(startedBy: number = enginePid, parentNow: number = process.ppid): boolean {
  return parentNow !== startedBy;
}

/** False in a process that acts on its own between engine runs (the supervisor), not for an engine. */
let actsForEngine = true;

/**
 * Declares this process independent of the engine that (indirectly) started it: the supervisor
 * restarts processes between runs, so it must not refuse to act once that engine has exited.
 */
export function actOnOwnAuthority(): void {
  actsForEngine = false;
}

/** Throws, naming `action`, when the engine that started this process is gone. */
export function assertEngineAlive(action: string, startedBy = enginePid, parentNow = process.ppid): void {
  if (actsForEngine && engineGone(startedBy, parentNow)) {
    throw new Error(
      `not ${action}: the Pulumi engine that started this provider (pid ${startedBy}) is gone. ` +
        "Nothing more is done for that run; run the release again (after `pulumi cancel` if the " +
        "stack is still locked) and it converges from what is running.",
    );
  }
}

/** True in the engine's dynamic-provider process (@pulumi/pulumi's cmd/dynamic-provider). */
export function isDynamicProviderProcess(argv: readonly string[] = process.argv): boolean {
  return /[\\/]cmd[\\/]dynamic-provider[\\/]index\.js$/.test(argv[1] ?? "");
}

/**
 * Exits the process (code 1) once its engine is gone; the timer does not keep it alive otherwise.
 * Returns a function that stops watching.
 */
export function exitWithEngine(
  onGone: () => void = () => {
    process.stderr.write(`shipgate: the engine (pid ${enginePid}) is gone; the provider stops\n`);
    process.exit(1);
  },
  startedBy = enginePid,
  parentNow: () => number = () => process.ppid,
): () => void {
  const timer = setInterval(() => {
    if (engineGone(startedBy, parentNow())) {
      clearInterval(timer);
      onGone();
    }
  }, engineWatchIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

if (isDynamicProviderProcess()) exitWithEngine();

// What happens to a build that failed to start or failed its gate, once its process is stopped.
// By default (keepFailedBuilds 0) its folder in the colour is removed: the build itself stays in the
// artifacts folder, and its log stays in the colour's log, which the step's error names. A service
// that keeps failed builds gets the folder, the log and a note of the failure moved, stopped, to
// `services/<service>/failed/<id>/` (layout.ts), newest `keepFailedBuilds` of them; older ones are
// removed when another is kept. Nothing kept there is a colour: no pid, spec or restart file goes
// with it, so neither the supervisor, the router nor a rollback can ever start or reach it.
//
// Secrets reach a build only through its environment, which is never written here; a build that
// printed a secret's value, or wrote it into its folder, has every occurrence of the stack's values
// replaced by "[secret]" in what is kept. No Pulumi imports: the handlers load this in the provider.
import { constants } from "node:fs";
import { access, mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Color } from "../../components/platform";
import { redactSecrets } from "../../contract";
import { failedBuildsDirOf, slotPaths } from "./layout";

/** `<time>-<colour>-<version>`: names sort by when the build failed (UTC, milliseconds). */
const KEPT_ID_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-(blue|green)-[A-Za-z0-9._-]+$/;

/** The note kept beside a failed build: what failed, where, and why. */
export interface FailedBuildNote {
  readonly service: string;
  readonly color: Color;
  readonly version: string;
  readonly digest: string;
  readonly stage: "start" | "gate";
  /** The step's error (secret values redacted). */
  readonly reason: string;
}

export const keptNoteFile = "failure.json";

/** The folder name of a build kept at `at`. */
export function keptBuildId(at: Date, color: Color, version: string): string {
  return `${at.toISOString().replace(/[:.]/g, "-")}-${color}-${version.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

/**
 * The keep-or-clean decision, on names alone: whether the new failed build is kept, and which kept
 * ones (oldest first) make room for it so that at most `keep` remain. With `keep` 0 nothing is kept
 * and nothing already kept is touched (destroy removes it). Only names this module gave are counted
 * or removed: anything else an operator put in the folder stays.
 */
export function planKeptBuilds(
  existing: readonly string[],
  keep: number,
): { readonly keep: boolean; readonly remove: readonly string[] } {
  if (!Number.isInteger(keep) || keep < 0) {
    throw new Error(`keepFailedBuilds: expected a whole number of 0 or more, got ${String(keep)}`);
  }
  if (keep === 0) return { keep: false, remove: [] };
  const kept = existing.filter((name) => KEPT_ID_PATTERN.test(name)).sort();
  return { keep: true, remove: kept.slice(0, Math.max(0, kept.length - (keep - 1))) };
}

export interface SetAsideArgs {
  readonly projectDir: string;
  /** The failed colour's folder (absolute). */
  readonly slotDir: string;
  /** The service's keepFailedBuilds (0: keep none). */
  readonly keep: number;
  readonly note: FailedBuildNote;
  /** The values of the build's secret variables: redacted from everything kept. */
  readonly secrets: readonly string[];
  readonly now?: Date;
}

export interface SetAside {
  /** Where the build is kept, relative to the project; undefined when it was not kept. */
  readonly kept?: string;
  /** A sentence for the step's error: where to look, or what could not be done. */
  readonly note: string;
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/**
 * Rewrites `file` with every occurrence of a secret value replaced. Byte for byte (latin1 maps each
 * byte to one character), so a binary file is changed only where a value's bytes stand.
 */
async function redactFile(file: string, values: readonly string[]): Promise<void> {
  const bytes = (await readFile(file)).toString("latin1");
  const redacted = redactSecrets(
    bytes,
    values.map((value) => Buffer.from(value, "utf8").toString("latin1")),
  );
  if (redacted !== bytes) await writeFile(file, Buffer.from(redacted, "latin1"));
}

async function redactTree(dir: string, values: readonly string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await redactTree(full, values);
    else if (entry.isFile()) await redactFile(full, values);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Cleans up or keeps the stopped build of the colour in `slotDir` (see the top of this file). Never
 * throws: the step's own error is what the release fails with, and this only adds a sentence to it.
 * The caller has stopped the process and holds the colour's lock.
 */
export async function setAsideFailedBuild(args: SetAsideArgs): Promise<SetAside> {
  // The service's folder of kept builds, beside its colours.
  const failedDir = failedBuildsDirOf(args.slotDir);
  const slot = slotPaths(args.slotDir);
  const removeBuild = async (why: string): Promise<SetAside> => {
    try {
      await rm(slot.appDir, { recursive: true, force: true });
      return { note: why };
    } catch (error) {
      return { note: `${why} Its folder ${slot.appDir} could not be removed (${messageOf(error)}).` };
    }
  };
  let plan;
  try {
    plan = planKeptBuilds(await readdir(failedDir).catch(() => []), args.keep);
  } catch (error) {
    return removeBuild(`The failed build was not kept for inspection (${messageOf(error)}).`);
  }
  if (!plan.keep) return removeBuild("");
  if (!(await exists(slot.appDir))) return { note: "" }; // nothing of it left to keep (a retry of a stopped colour)

  const at = args.now ?? new Date();
  const id = keptBuildId(at, args.note.color, args.note.version);
  const dest = join(failedDir, id);
  try {
    // Readable by this user only: a build's log may say more than its authors meant it to.
    await mkdir(failedDir, { recursive: true, mode: 0o700 });
    await mkdir(dest, { mode: 0o700 });
    await rename(slot.appDir, join(dest, "app"));
    if (await exists(slot.logFile)) await rename(slot.logFile, join(dest, "app.log"));
    const values = args.secrets.filter((value) => value.length > 0);
    if (values.length > 0) await redactTree(dest, values);
    const note = { ...args.note, reason: redactSecrets(args.note.reason, values), keptAt: at.toISOString() };
    await writeFile(join(dest, keptNoteFile), `${JSON.stringify(note, null, 2)}\n`, { mode: 0o600 });
  } catch (error) {
    // A half-kept build is not left looking like a kept one, nor (holding a value unredacted) at all.
    await rm(dest, { recursive: true, force: true }).catch(() => undefined);
    return removeBuild(`The failed build could not be kept for inspection (${messageOf(error)}).`);
  }
  const pruned: string[] = [];
  for (const name of plan.remove) {
    await rm(join(failedDir, name), { recursive: true, force: true }).then(
      () => pruned.push(name),
      () => undefined,
    );
  }
  const kept = relative(args.projectDir, dest);
  return {
    kept,
    note:
      `The failed build is kept, stopped, for inspection in ${kept} (its folder app/, its log app.log, ` +
      `and ${keptNoteFile}); the ${args.keep} newest failed builds of ${args.note.service} are kept` +
      (pruned.length > 0
        ? `, so ${pruned.length} older one${pruned.length === 1 ? " was" : "s were"} removed.`
        : "."),
  };
}

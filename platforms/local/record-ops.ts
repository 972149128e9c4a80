// The deployment record, as plain functions: the record dynamic provider only calls these. It is the
// seed's "Deployment Documentation" (issue, release, date, changes deployed, verification, issues,
// sign-off) plus what the release did: type, strategy, outcome, rollback trigger, colours, backup and
// a timeline. Stored as JSON (for tools) and Markdown (for people). No Pulumi imports, so a provider
// can load this module with `await import()` inside its methods.
//
// The fields the release knows before it runs have the shape components/record-draft.ts builds, so a
// provider completes that draft with the outcome and validates the whole with `deploymentRecordSchema`.
import writeFileAtomic from "write-file-atomic";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  type DeploymentRecord,
  LATEST_RECORD_FILE,
  parseDeploymentRecord,
  recordFileStem,
  renderRecordMarkdown,
  requireRecord,
} from "../../contract/record";

// The record's schema and Markdown live in the contract, shared by every platform.
export {
  type DeploymentRecord,
  deploymentRecordSchema,
  LATEST_RECORD_FILE,
  parseDeploymentRecord,
  RECORD_OUTCOMES,
  type RecordOutcome,
  RECORD_TRIGGERS,
  recordFileStem,
  renderRecordMarkdown,
} from "../../contract/record";

// ---------------------------------------------------------------------------------------------
// Files

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export interface StoredRecord {
  readonly record: DeploymentRecord;
  readonly jsonPath: string;
  readonly markdownPath: string;
}

/**
 * Writes the record as `<dir>/<stem>.json` and `<dir>/<stem>.md` (a second record with the same stem
 * gets `-2`, `-3`... rather than replacing the first), and makes it `<dir>/latest.json` unless that
 * already holds a later release.
 */
export async function writeRecord(args: { dir: string; record: DeploymentRecord }): Promise<StoredRecord> {
  const record = requireRecord(args.record, "the deployment record to write", "fix these fields");
  await mkdir(args.dir, { recursive: true });
  const stem = recordFileStem(record);
  let name = stem;
  for (
    let n = 2;
    (await exists(join(args.dir, `${name}.json`))) || (await exists(join(args.dir, `${name}.md`)));
    n++
  ) {
    name = `${stem}-${n}`;
  }
  const jsonPath = join(args.dir, `${name}.json`);
  const markdownPath = join(args.dir, `${name}.md`);
  const json = `${JSON.stringify(record, null, 2)}\n`;
  await writeFileAtomic(markdownPath, renderRecordMarkdown(record));
  await writeFileAtomic(jsonPath, json);

  const latestPath = join(args.dir, LATEST_RECORD_FILE);
  const current = await readFile(latestPath, "utf8").then(
    (content) => parseDeploymentRecord(JSON.parse(content)),
    () => undefined,
  );
  if (current === undefined || !current.ok || Date.parse(current.value.date) <= Date.parse(record.date)) {
    await writeFileAtomic(latestPath, json);
  }
  return { record, jsonPath, markdownPath };
}

/**
 * Every record in `dir`, newest first (by date, then file name). A JSON file that is not a valid record
 * is an error naming it: the folder holds records only.
 */
export async function readRecords(dir: string): Promise<StoredRecord[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") return [];
    throw error;
  }
  const stored: StoredRecord[] = [];
  for (const name of names) {
    if (!name.endsWith(".json") || name === LATEST_RECORD_FILE || name.startsWith(".")) continue;
    const jsonPath = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(jsonPath, "utf8"));
    } catch {
      throw new Error(`deployment record ${jsonPath} is not valid JSON; move it out of ${dir} or restore it`);
    }
    stored.push({
      record: requireRecord(raw, `deployment record ${jsonPath}`, `move it out of ${dir} or fix it`),
      jsonPath,
      markdownPath: join(dir, `${name.slice(0, -".json".length)}.md`),
    });
  }
  // Same date: `<stem>-3` was written after `<stem>-2`, which was written after `<stem>`.
  const sequence = (path: string) => Number(/Z-(\d+)\.json$/.exec(path)?.[1] ?? "1");
  return stored.sort(
    (a, b) =>
      Date.parse(b.record.date) - Date.parse(a.record.date) ||
      sequence(b.jsonPath) - sequence(a.jsonPath) ||
      (a.jsonPath < b.jsonPath ? 1 : a.jsonPath > b.jsonPath ? -1 : 0),
  );
}

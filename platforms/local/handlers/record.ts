// The deployment record: the release's draft (known at program time) completed with what happened
// (backups, gates, switch, verification), written as JSON and Markdown. Records are documentation:
// deleting the resource keeps the files.
import { join, relative } from "node:path";
import type { Color } from "../../../components/platform";
import { type ProbeTrigger, type ServiceResult, succeededRecord } from "../../../contract";
import type { LocalHandlers } from "../provider-factory";
import { type DeploymentRecord, parseDeploymentRecord, writeRecord } from "../record-ops";
import { pruneBackups } from "./backup";

export interface RecordOutcome {
  readonly outcome: DeploymentRecord["outcome"];
  readonly rollback: { readonly trigger: ProbeTrigger; readonly reason: string; readonly at: string } | null;
  readonly activeColor: Color | null;
  readonly previousColor: Color | null;
  readonly backup: { readonly id: string; readonly digest: string } | null;
  readonly gates: DeploymentRecord["verification"]["gates"];
  readonly performance: DeploymentRecord["verification"]["performance"];
  readonly system: string;
  readonly issuesFound: number;
  readonly timeline: DeploymentRecord["timeline"];
  readonly date: string;
}

/** The draft (see components/record-draft.ts) plus what happened, validated against the record's schema. */
export function completeRecord(
  draft: Readonly<Record<string, unknown>>,
  outcome: RecordOutcome,
): DeploymentRecord {
  const raw = {
    ...draft,
    date: outcome.date,
    outcome: outcome.outcome,
    rollback: outcome.rollback,
    activeColor: outcome.activeColor,
    previousColor: outcome.previousColor,
    backup: outcome.backup,
    verification: {
      system: outcome.system,
      gates: outcome.gates,
      performance: outcome.performance,
      users: null,
    },
    issues: { found: outcome.issuesFound, resolved: 0, pending: outcome.issuesFound, workarounds: [] },
    timeline: outcome.timeline,
  };
  const parsed = parseDeploymentRecord(raw);
  if (!parsed.ok) throw new Error(`the deployment record is not valid: ${parsed.issues.join("; ")}`);
  return parsed.value;
}

export interface RecordInputs {
  readonly releaseKey: string;
  /** Where records go, relative to the project. */
  readonly dir: string;
  /** The draft and, under `results`, each service's step outputs. */
  readonly record: Readonly<Record<string, unknown>> & {
    readonly results?: Readonly<Record<string, ServiceResult>>;
    readonly colors?: Readonly<Record<string, { readonly active: Color; readonly previous: Color | null }>>;
  };
  /** Per service: where its backups are (relative to the project) and how many to keep. */
  readonly retention?: Readonly<Record<string, { readonly backupRoot: string; readonly keep: number }>>;
}

export interface RecordOutputs extends RecordInputs {
  readonly jsonPath: string;
  readonly markdownPath: string;
}

function succeeded(inputs: RecordInputs): DeploymentRecord {
  const { results = {}, colors = {}, ...draft } = inputs.record;
  // The record's date is when it is written: the release's last step; the timeline has the rest.
  return succeededRecord(draft, { results, colors, date: new Date().toISOString() });
}

async function write(projectDir: string, inputs: RecordInputs): Promise<RecordOutputs> {
  const stored = await writeRecord({ dir: join(projectDir, inputs.dir), record: succeeded(inputs) });
  // The release succeeded (this record is its last step): only now may older backups go.
  for (const [service, retention] of Object.entries(inputs.retention ?? {})) {
    const current = inputs.record.results?.[service]?.backup?.id;
    if (current !== undefined)
      await pruneBackups(join(projectDir, retention.backupRoot), current, retention.keep);
  }
  return {
    ...inputs,
    jsonPath: relative(projectDir, stored.jsonPath),
    markdownPath: relative(projectDir, stored.markdownPath),
  };
}

export const handlers: LocalHandlers<RecordInputs, RecordOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    // A record documents a release run: it is written again when the release or what happened
    // (the steps' results) changes, not when a later run of the same release plans differently
    // (a run with nothing to do sees the release's colour as already live).
    const changes =
      olds.releaseKey !== news.releaseKey ||
      olds.dir !== news.dir ||
      JSON.stringify(olds.record.results ?? {}) !== JSON.stringify(news.record.results ?? {});
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(projectDir, inputs) {
    return { id: inputs.releaseKey, outs: await write(projectDir, inputs) };
  },
  async update(projectDir, _id, _olds, news) {
    return { outs: await write(projectDir, news) };
  },
};

// A failed step on the local platform leaves what a failed release owes the team: the deployment
// record (contract/record.ts, JSON and Markdown like every record) and a notice to the team and
// support, written by the failing step itself before its error fails the `pulumi up`. Users are left
// on what served them: a maintenance response the release put up is lifted when the colour behind it
// still answers. Neither a record that cannot be written nor a webhook that fails hides the step's
// own error: they are added to it. No Pulumi imports: the handlers load this in the provider process.
import { join, relative } from "node:path";
import {
  describeServed,
  type FailureFacts,
  type FailureStage,
  failedRecord,
  failureNotice,
  failureTrigger,
  RecordedFailure,
  type Served,
  StepFailure,
} from "../../contract";
import { notify } from "./notify-ops";
import type { LocalHandlers } from "./provider-factory";
import { writeRecord } from "./record-ops";
import { getRouterStatus, setRouterMaintenance } from "./router/router-client";

type Color = "blue" | "green";

/** What every step of a release carries so that it can record its own failure. */
export interface FailureContext {
  readonly service: string;
  readonly release: { readonly changeId: string; readonly version: string; readonly key: string };
  /** The record's fields known before the release ran (components/record-draft.ts). */
  readonly record: Readonly<Record<string, unknown>>;
  /** What served users when the release was planned; null for a first release. */
  readonly served: Served | null;
  /** The colour this release deploys to. */
  readonly candidate: Color;
  /** Whether the release starts the candidate anew: then the candidate's process is not what served. */
  readonly restarts: boolean;
  /** Relative to the project. */
  readonly recordsDir: string;
  readonly notificationsLog: string;
  /** The service router's admin port: asked what serves users, and told to lift maintenance. */
  readonly adminPort: number;
}

/** The inputs a failing step reads: its failure context, and the stack's webhook (a secret input). */
export interface FailingInputs {
  readonly failure?: FailureContext;
  readonly webhookUrl?: string | null;
}

export interface WriteFailureArgs {
  readonly recordsDir: string;
  readonly notificationsLog: string;
  readonly webhookUrl: string | null;
  readonly release: { readonly changeId: string; readonly version: string };
  readonly record: Readonly<Record<string, unknown>>;
  readonly facts: FailureFacts;
}

/**
 * Writes the failure record, then the notice (which names the record). Never throws: what went wrong
 * here is returned as a sentence for the step to add to its own error.
 */
export async function writeFailure(projectDir: string, args: WriteFailureArgs): Promise<string> {
  const notes: string[] = [];
  let location: string | null = null;
  try {
    const stored = await writeRecord({
      dir: join(projectDir, args.recordsDir),
      record: failedRecord(args.record, args.facts),
    });
    location = relative(projectDir, stored.markdownPath);
    notes.push(`Record: ${location}.`);
  } catch (error) {
    notes.push(`The failure record could not be written (${messageOf(error)}); write it by hand.`);
  }
  const webhookUrl = process.env["SHIPGATE_WEBHOOK_URL"] || args.webhookUrl || undefined;
  try {
    // A webhook that fails is logged by notify and never thrown (the contract's webhook rule).
    await notify({
      channel: { logFile: join(projectDir, args.notificationsLog), ...(webhookUrl ? { webhookUrl } : {}) },
      event: failureNotice(args.release, args.facts, location),
    });
  } catch (error) {
    notes.push(`The team could not be notified (${messageOf(error)}); tell them.`);
  }
  return notes.join(" ");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Answers at all (any status): the colour behind the router is there to serve users. */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * What serves users now, after lifting a maintenance response whose colour still answers and still
 * runs what served (a data restore or a migration that failed behind it: the live version is
 * untouched). A colour the release stopped or restarted with its new build (the recreate strategy)
 * keeps the maintenance response: users must not reach a build that failed, nor get failed requests.
 */
async function leaveUsersServed(context: FailureContext): Promise<{ served: Served | null; note: string }> {
  const router = { adminPort: context.adminPort };
  let status;
  try {
    status = await getRouterStatus(router);
  } catch {
    return { served: context.served, note: "" };
  }
  const active = status.active;
  const served: Served | null =
    active === null
      ? null
      : active === context.served?.color
        ? context.served
        : { version: context.release.version, color: active };
  if (!status.maintenance.enabled) return { served, note: "" };
  const upstream = active === null ? undefined : status.upstreams[active];
  const untouched = !(active === context.candidate && context.restarts);
  if (untouched && upstream !== undefined && (await answers(upstream))) {
    try {
      await setRouterMaintenance(router, { enabled: false });
      return { served, note: `The maintenance response is lifted: ${describeServed(served)}.` };
    } catch (error) {
      return { served: null, note: `The maintenance response could not be lifted (${messageOf(error)}).` };
    }
  }
  return {
    served: null,
    note:
      "Users still get the maintenance response: the version that served them was stopped or replaced " +
      "for this release; release a version that works.",
  };
}

/** Records a step's failure; returns the error the step fails with (the original, with what was done). */
export async function recordStepFailure(
  projectDir: string,
  inputs: FailingInputs,
  stage: FailureStage,
  error: unknown,
  startedAt: string,
): Promise<Error> {
  const context = inputs.failure;
  if (context === undefined) return error instanceof Error ? error : new Error(String(error));
  const users = await leaveUsersServed(context).catch(() => ({ served: context.served, note: "" }));
  const message = messageOf(error);
  const written = await writeFailure(projectDir, {
    recordsDir: context.recordsDir,
    notificationsLog: context.notificationsLog,
    webhookUrl: inputs.webhookUrl ?? null,
    release: context.release,
    record: context.record,
    facts: {
      outcome: "failed",
      service: context.service,
      stage,
      trigger: failureTrigger(stage, error),
      error: users.note === "" ? message : `${message} ${users.note}`,
      served: users.served,
      previousColor: null,
      backup: null,
      startedAt,
      at: new Date().toISOString(),
      ...(error instanceof StepFailure && error.kept !== undefined ? { kept: error.kept } : {}),
    },
  });
  return new Error([message, users.note, written].filter((part) => part !== "").join(" "));
}

/**
 * The step's handlers, with every failure of create and update recorded (see recordStepFailure).
 * A step that recorded its own failure (RecordedFailure) is passed through.
 */
export function withFailureRecord<I extends FailingInputs, O>(
  stage: FailureStage,
  handlers: LocalHandlers<I, O>,
): LocalHandlers<I, O> {
  const guarded = async <R>(projectDir: string, inputs: I, run: () => Promise<R>): Promise<R> => {
    const startedAt = new Date().toISOString();
    try {
      return await run();
    } catch (error) {
      if (error instanceof RecordedFailure) throw error;
      throw await recordStepFailure(projectDir, inputs, stage, error, startedAt);
    }
  };
  const { update } = handlers;
  return {
    ...handlers,
    create: (projectDir, inputs) => guarded(projectDir, inputs, () => handlers.create(projectDir, inputs)),
    ...(update
      ? {
          update: (projectDir, id, olds, news) =>
            guarded(projectDir, news, () => update.call(handlers, projectDir, id, olds, news)),
        }
      : {}),
  };
}

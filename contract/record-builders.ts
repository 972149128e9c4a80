// What every platform writes at the end of a release, built here so that the record and the notice
// read the same wherever the release ran: the record of a release that failed at one step (and the
// team's notice of it), the record of a release whose every step passed, and the errors a step throws
// to carry the judge's trigger or to say it recorded its own failure. Pure: no I/O, no Pulumi.
import type { NotificationEvent } from "./schema";
import {
  type DeploymentRecord,
  type FailureStage,
  type FailureTrigger,
  requireRecord,
  type Served,
} from "./record";
import { PROBE_TRIGGERS, type ProbeTrigger, type RollbackTrigger } from "./triggers";

// ---------------------------------------------------------------------------------------------
// A failed release: the record and the notice every platform writes from the failing step

/** What a failing step knows when it fails; the draft (components/record-draft.ts) has the rest. */
export interface FailureFacts {
  readonly outcome: "failed" | "rolled-back";
  readonly service: string;
  readonly stage: FailureStage;
  readonly trigger: FailureTrigger;
  readonly error: string;
  readonly served: Served | null;
  /** The colour users were taken off (a rollback), or the one a failed release left idle. */
  readonly previousColor: "blue" | "green" | null;
  readonly backup: { readonly id: string; readonly digest: string } | null;
  /** When the failing step started: the record's date, and the first line of its timeline. */
  readonly startedAt: string;
  readonly at: string;
  /** Set for a rollback: the manifest's trigger and why. */
  readonly rollback?: { readonly trigger: RollbackTrigger; readonly reason: string };
  readonly performance?: DeploymentRecord["verification"]["performance"];
  /** What happened before the failure, in order; the step's start and its failure are added. */
  readonly timeline?: DeploymentRecord["timeline"];
  /** Where the failed build was kept for inspection, relative to the project (none: not kept). */
  readonly kept?: string;
}

/** "sample-app 1.0.0 on blue", or the plain fact that nothing serves users. */
export function describeServed(served: Served | null): string {
  return served === null
    ? "nothing serves users (no earlier version to stay on)"
    : `users are served ${served.version} on ${served.color}`;
}

function isProbeTrigger(trigger: FailureTrigger): trigger is ProbeTrigger {
  return (PROBE_TRIGGERS as readonly string[]).includes(trigger);
}

/** The record of a release that failed at one step, validated; throws naming any invalid field. */
export function failedRecord(
  draft: Readonly<Record<string, unknown>>,
  facts: FailureFacts,
): DeploymentRecord {
  const judged = facts.stage === "gate" || facts.stage === "verification";
  const raw = {
    ...draft,
    date: facts.startedAt,
    outcome: facts.outcome,
    rollback: facts.rollback ? { ...facts.rollback, at: facts.at } : null,
    failure: {
      service: facts.service,
      stage: facts.stage,
      trigger: facts.trigger,
      error: facts.error,
      served: facts.served,
      at: facts.at,
      ...(facts.kept === undefined ? {} : { kept: facts.kept }),
    },
    activeColor: facts.served?.color ?? null,
    previousColor: facts.previousColor,
    backup: facts.backup,
    verification: {
      system: `${facts.service} failed at the ${facts.stage} step (${facts.trigger}); ${describeServed(facts.served)}.`,
      gates: judged
        ? [
            {
              name: `${facts.service} ${facts.stage === "gate" ? "pre-promotion gate" : "post-promotion verification"}`,
              stage: facts.stage === "gate" ? "pre-promotion" : "post-promotion",
              service: facts.service,
              verdict: "failed",
              trigger: isProbeTrigger(facts.trigger) ? facts.trigger : null,
              summary: facts.rollback?.reason ?? facts.error,
            },
          ]
        : [],
      performance: facts.performance ?? [],
      users: null,
    },
    issues: { found: 1, resolved: 0, pending: 1, workarounds: [] },
    timeline: [
      ...(facts.timeline ?? []),
      { stage: `${facts.service}: ${facts.stage} started`, at: facts.startedAt },
      {
        stage: `${facts.service}: ${facts.stage} failed (${facts.trigger})${facts.outcome === "rolled-back" ? ", switched back" : ""}`,
        at: facts.at,
      },
    ],
  };
  return requireRecord(raw, "the failure record", "fix these fields");
}

/** A notification's message is read in chat: the error is cut to this many characters. */
const NOTICE_ERROR_CHARS = 600;

/** The team's and support's notice of a failed release (and management's, for a rollback). */
export function failureNotice(
  release: { readonly changeId: string; readonly version: string },
  facts: Pick<FailureFacts, "outcome" | "service" | "stage" | "trigger" | "error" | "served" | "at">,
  record: string | null,
): NotificationEvent {
  const error =
    facts.error.length > NOTICE_ERROR_CHARS ? `${facts.error.slice(0, NOTICE_ERROR_CHARS)}...` : facts.error;
  const what = facts.outcome === "rolled-back" ? "was switched back" : "failed";
  return {
    stage: facts.outcome === "rolled-back" ? "rolled-back" : "failed",
    release: { changeId: release.changeId, version: release.version },
    service: facts.service,
    message:
      `${facts.service} ${release.version} ${what} at the ${facts.stage} step (${facts.trigger}); ` +
      `${describeServed(facts.served)}. ${error}` +
      (record === null ? "" : ` Record: ${record}`),
    severity: "critical",
    audience: facts.outcome === "rolled-back" ? ["team", "support", "management"] : ["team", "support"],
    at: facts.at,
  };
}

/** A step's failure with the trigger the judge found, so the record names it rather than `<stage>-failure`. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly trigger: FailureTrigger,
    /** Where the failed build was kept for inspection, relative to the project: the record names it. */
    readonly kept?: string,
  ) {
    super(message);
    this.name = "StepFailure";
  }
}

/** A failure whose record and notice the step wrote itself (a rollback): not recorded a second time. */
export class RecordedFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordedFailure";
  }
}

/** The trigger of a step's error: the judge's where it decided, otherwise the stage's own. */
export function failureTrigger(stage: FailureStage, error: unknown): FailureTrigger {
  return error instanceof StepFailure ? error.trigger : `${stage}-failure`;
}

// ---------------------------------------------------------------------------------------------
// A release whose every step passed

/** What happened to one service in a release that succeeded (its steps' outputs). */
export interface ServiceSteps {
  readonly backup: { readonly id: string; readonly digest: string; readonly at: string } | null;
  /** Rounds are null where a platform cannot read them back (a Job's log). */
  readonly gate: { readonly rounds: number | null; readonly at: string };
  readonly switchedAt: string;
  readonly verification: {
    /** Set for a fast-tracked rollback (judge.ts `fastTrackRollback`): the short bake it ran. */
    readonly fastTrackBakeMs?: number | null;
    readonly errorRate: number | null;
    readonly p95LatencyMs: number | null;
    readonly at: string;
  };
}

/** A service's step outputs as the program hands them to the record step: each gate passed. */
export interface ServiceResult extends ServiceSteps {
  readonly gate: ServiceSteps["gate"] & { readonly verdict: "passed" };
  readonly verification: ServiceSteps["verification"] & { readonly verdict: "passed" };
}

/**
 * The record of a release whose every step passed, written as its last step (`date`); validated.
 * The first service's colours and backup stand for the release's.
 */
export function succeededRecord(
  draft: Readonly<Record<string, unknown>>,
  facts: {
    readonly results: Readonly<Record<string, ServiceSteps>>;
    readonly colors: Readonly<
      Record<string, { readonly active: "blue" | "green"; readonly previous: "blue" | "green" | null }>
    >;
    readonly date: string;
  },
): DeploymentRecord {
  const entries = Object.entries(facts.results);
  const first = entries[0];
  const firstColors = first ? facts.colors[first[0]] : undefined;
  const raw = {
    ...draft,
    date: facts.date,
    outcome: "succeeded",
    rollback: null,
    failure: null,
    activeColor: firstColors?.active ?? null,
    previousColor: firstColors?.previous ?? null,
    backup: first?.[1].backup ? { id: first[1].backup.id, digest: first[1].backup.digest } : null,
    verification: {
      system: `All ${entries.length} service(s) up and verified after the switch.`,
      gates: entries.flatMap(([service, r]) => [
        {
          name: `${service} pre-promotion gate`,
          stage: "pre-promotion",
          service,
          verdict: "passed",
          trigger: null,
          summary: r.gate.rounds === null ? "passed" : `passed after ${r.gate.rounds} rounds`,
        },
        {
          name: `${service} post-promotion verification`,
          stage: "post-promotion",
          service,
          verdict: "passed",
          trigger: null,
          summary:
            (r.verification.errorRate === null
              ? "passed"
              : `passed: error rate ${(r.verification.errorRate * 100).toFixed(2)}%`) +
            (typeof r.verification.fastTrackBakeMs !== "number"
              ? ""
              : ` (fast-tracked rollback: ${r.verification.fastTrackBakeMs} ms bake, as this release succeeded before)`),
        },
      ]),
      performance: entries.flatMap(([service, r]) =>
        r.verification.p95LatencyMs === null
          ? []
          : [
              {
                metric: `${service} p95 latency after the switch`,
                value: r.verification.p95LatencyMs,
                unit: "ms",
              },
            ],
      ),
      users: null,
    },
    issues: { found: 0, resolved: 0, pending: 0, workarounds: [] },
    timeline: entries
      .flatMap(([service, r]) => [
        ...(r.backup ? [{ stage: `${service}: backup verified`, at: r.backup.at }] : []),
        { stage: `${service}: pre-promotion gate passed`, at: r.gate.at },
        { stage: `${service}: traffic switched`, at: r.switchedAt },
        { stage: `${service}: post-promotion verification passed`, at: r.verification.at },
      ])
      .sort((a, b) => a.at.localeCompare(b.at)),
  };
  return requireRecord(raw, "the deployment record", "fix these fields");
}

// Post-promotion verification: probes the users' address for a bake time. When the error budget or
// the latency bound is broken, traffic goes back to the previous colour at once, without anyone
// acting; then the record is written and the update fails, naming the rollback trigger.
import type { Color } from "../../../components/platform";
import {
  RecordedFailure,
  runVerification,
  verificationPolicyFor,
  type ResolvedHttpCheck,
  type VerificationPolicy,
  type VerificationReport,
} from "../../../contract";
import { type FailingInputs, writeFailure } from "../failure-ops";
import { changedKeys, type LocalHandlers } from "../provider-factory";
import { getRouterStatus, switchRouter } from "../router/router-client";
import { webhookFor } from "./notification";
import { noteSwitch } from "./switch";

export interface VerificationInputs extends FailingInputs {
  readonly service: string;
  readonly releaseKey: string;
  readonly url: string;
  readonly adminPort: number;
  readonly checks: readonly ResolvedHttpCheck[];
  readonly spec: VerificationPolicy;
  /** A fast-tracked rollback, whose `spec` holds its short bake; absent in states written before. */
  readonly fastTrack?: boolean;
  readonly promoted: Color;
  readonly rollbackTo: Color | null;
  /** Where switches are noted (see the switch handler). */
  readonly switchFile: string;
  /** The record draft, with `backup` ({id, digest}) when the release took one. */
  readonly record: Readonly<Record<string, unknown>>;
  readonly recordsDir: string;
  readonly notificationsLog: string;
  readonly webhookUrl: string | null;
}

export interface VerificationOutputs extends VerificationInputs {
  readonly verdict: "passed";
  /** The bake a fast-tracked rollback ran; null after a full bake (absent in states from before). */
  readonly fastTrackBakeMs?: number | null;
  readonly errorRate: number;
  readonly p95LatencyMs: number | null;
  readonly verifiedAt: string;
}

/** The change id and version in a release key `<changeId>@<version>[+restore:<backup>]`. */
export function releaseOfKey(key: string): { changeId: string; version: string } {
  const at = key.indexOf("@");
  const version = key.slice(at + 1).split("+restore:")[0] ?? "";
  return { changeId: key.slice(0, at), version };
}

async function rollBack(
  projectDir: string,
  inputs: VerificationInputs,
  report: VerificationReport,
): Promise<never> {
  const at = new Date().toISOString();
  const reason = report.message;
  const trigger = report.trigger ?? "system-failure";
  const release = releaseOfKey(inputs.releaseKey);
  let where: string;
  let active: Color | null = inputs.promoted;
  if (inputs.rollbackTo) {
    const back = await switchRouter({ adminPort: inputs.adminPort }, inputs.rollbackTo);
    await noteSwitch(projectDir, inputs.switchFile, back);
    active = (await getRouterStatus({ adminPort: inputs.adminPort })).active;
    where = `Traffic is back on ${inputs.rollbackTo}, the previous version.`;
  } else {
    where = `There is no previous version to return to (first release); ${inputs.promoted} keeps serving.`;
  }
  const { backup = null, ...draft } = inputs.record as { backup?: { id: string; digest: string } | null };
  const served = inputs.failure?.served ?? null;
  const written = await writeFailure(projectDir, {
    recordsDir: inputs.recordsDir,
    notificationsLog: inputs.notificationsLog,
    webhookUrl: webhookFor(inputs) ?? null,
    release,
    record: draft,
    facts: {
      outcome: inputs.rollbackTo ? "rolled-back" : "failed",
      service: inputs.service,
      stage: "verification",
      trigger,
      error: `post-promotion verification failed (${trigger}): ${reason} ${where}`,
      served:
        active === null
          ? null
          : active !== inputs.rollbackTo
            ? { version: release.version, color: active }
            : (served ?? { version: "the previous version", color: active }),
      previousColor: inputs.rollbackTo ? inputs.promoted : null,
      backup,
      startedAt: report.startedAt,
      at,
      ...(inputs.rollbackTo ? { rollback: { trigger, reason } } : {}),
      performance:
        report.totals.p95LatencyMs === null
          ? []
          : [
              {
                metric: `${inputs.service} p95 latency after the switch`,
                value: report.totals.p95LatencyMs,
                unit: "ms",
              },
            ],
    },
  });
  throw new RecordedFailure(
    `post-promotion verification of ${inputs.service} (${inputs.releaseKey}) failed; rollback trigger: ${trigger}. ` +
      `${reason} ${where} ${written}`,
  );
}

/** How often the bake asks the router whether it failed over by itself. */
const failoverWatchMs = 250;

/** The router's own switch away from the promoted colour (a burst of failures), if it made one. */
async function routerFailover(
  inputs: VerificationInputs,
): Promise<{ to: Color; at: string; reason: string } | undefined> {
  try {
    const failedOver = (await getRouterStatus({ adminPort: inputs.adminPort })).failedOver;
    return failedOver?.from === inputs.promoted ? failedOver : undefined;
  } catch {
    return undefined;
  }
}

async function verify(projectDir: string, inputs: VerificationInputs): Promise<VerificationOutputs> {
  // The judge's policy for this release: a fast-tracked rollback bakes briefly.
  const spec = verificationPolicyFor(inputs.spec, inputs.fastTrack === true);
  // The router retries failed requests on the warm colour, so the probes alone could pass a version
  // that failed users: the bake ends as soon as the router has failed over, and that is the verdict.
  const stop = new AbortController();
  const watch = setInterval(() => {
    void routerFailover(inputs).then((failover) => failover && stop.abort());
  }, failoverWatchMs);
  let report: VerificationReport;
  try {
    report = await runVerification({
      baseUrl: inputs.url,
      checks: inputs.checks,
      ...spec,
      signal: stop.signal,
    });
  } finally {
    clearInterval(watch);
  }
  const failover = await routerFailover(inputs);
  if (failover) {
    return rollBack(projectDir, inputs, {
      ...report,
      verdict: "failed",
      trigger: failover.reason.includes("no answer") ? "system-failure" : "errors",
      message:
        `The router sent users back to ${failover.to} by itself at ${failover.at} ` + `(${failover.reason}).`,
    });
  }
  if (report.verdict !== "passed") return rollBack(projectDir, inputs, report);
  return {
    ...inputs,
    verdict: "passed",
    // Always set: a preview sees an output the state lacks as unknown, and would show the record
    // that quotes it as changing.
    fastTrackBakeMs: inputs.fastTrack === true ? spec.bakeTimeMs : null,
    errorRate: report.totals.errorRate,
    p95LatencyMs: report.totals.p95LatencyMs,
    verifiedAt: new Date().toISOString(),
  };
}

export const handlers: LocalHandlers<VerificationInputs, VerificationOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    const changed = changedKeys(olds, news, ["releaseKey", "promoted", "url", "checks", "spec"]);
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async create(projectDir, inputs) {
    return { id: `${inputs.service}-verification`, outs: await verify(projectDir, inputs) };
  },
  async update(projectDir, _id, _olds, news) {
    return { outs: await verify(projectDir, news) };
  },
};

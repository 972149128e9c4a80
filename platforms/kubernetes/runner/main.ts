// shipgate's in-cluster runner: the kubernetes platform's gate, post-promotion verification and
// webhook notifications, run by Jobs whose completion the Pulumi kubernetes provider awaits. It is
// bundled at build time (esbuild) with the contract it imports, so the Job probes and judges with the
// very code the other platforms run; the program ships the bundle in a ConfigMap and the Job runs
// `node /shipgate/runner.mjs <task>` with the task's settings as JSON in $SHIPGATE_TASK.
//
// Exit 0: passed (a notification always passes: the contract's webhook rule). Exit 1: failed; the
// judge's message goes to /dev/termination-log, so `kubectl describe pod` shows it (the provider's
// error says only that the Job reached its backoff limit). The last line on stdout is the result as
// JSON, for people and for tests.
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import {
  failedRecord,
  type FailureFacts,
  failureNotice,
  gatePolicySchema,
  checksSchema,
  recordFileStem,
  renderRecordMarkdown,
  servedSchema,
  notificationEventSchema,
  parseOrThrow,
  postWebhook,
  runGate,
  runVerification,
  verificationPolicySchema,
  type FetchImpl,
  type GateReport,
  type ProbeTrigger,
  type VerificationReport,
} from "../../../contract";

const color = z.enum(["blue", "green"]);

/**
 * What a gate or verification Job needs to record the release's failure itself: a failed Job is all
 * the engine sees, so the runner writes the contract's failure record (a ConfigMap labelled
 * `shipgate.dev/kind=deployment-record`) and tells the team and support through the webhook. It is
 * mounted from a ConfigMap of its own (FAILURE_FILE), not put in the Job's spec: what served users
 * differs from one run to the next, and a Job whose spec changes runs again.
 */
export const failureTaskSchema = z.strictObject({
  service: z.string(),
  release: z.strictObject({ changeId: z.string(), version: z.string() }),
  /** The record's fields known before the release ran (components/record-draft.ts). */
  record: z.record(z.string(), z.unknown()),
  served: servedSchema.nullable(),
  namespace: z.string(),
});
export type FailureTask = z.output<typeof failureTaskSchema>;

/** What the program puts in $SHIPGATE_TASK for a gate Job. */
export const gateTaskSchema = z.strictObject({
  release: z.string(),
  target: z.url(),
  /** The candidate's build: a new build is a new Job spec, so the gate runs again. */
  digest: z.string().optional(),
  checks: checksSchema,
  policy: gatePolicySchema,
});
export type GateTask = z.input<typeof gateTaskSchema>;

/** What the program puts in $SHIPGATE_TASK for a verification Job. */
export const verifyTaskSchema = z.strictObject({
  release: z.string(),
  url: z.url(),
  checks: checksSchema,
  spec: verificationPolicySchema,
  /** A fast-tracked rollback: `spec` already holds its short bake (only the policies read this). */
  fastTrack: z.boolean().optional(),
  promoted: color,
  rollbackTo: color.nullable(),
  namespace: z.string(),
  activeService: z.string(),
  colorLabel: z.string(),
  annotations: z.strictObject({ rolledBackAt: z.string(), rollbackTrigger: z.string() }),
  /** Who hears of a switch back, and as part of which release: the message is the judge's. */
  notice: notificationEventSchema.omit({ at: true, message: true }).optional(),
});
export type VerifyTask = z.output<typeof verifyTaskSchema>;

/** One line of JSON a test or a person can read back: the verdict, the trigger and the message. */
export interface RunnerResult {
  readonly task: "gate" | "verify" | "notify";
  readonly verdict: "passed" | "failed" | "aborted";
  readonly trigger: ProbeTrigger | null;
  readonly message: string;
  readonly switchedBackTo?: string | null;
  readonly webhook?: string;
}

function resultOf(task: RunnerResult["task"], report: GateReport | VerificationReport): RunnerResult {
  return { task, verdict: report.verdict, trigger: report.trigger ?? null, message: report.message };
}

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The switch back: a merge patch of the active Service's selector to the previous colour, with the
 * time and the trigger as annotations (observe() reads them at the next preview or update). Node.js
 * trusts the cluster's CA through NODE_EXTRA_CA_CERTS, set on the Job.
 */
export async function switchBack(
  task: VerifyTask,
  report: VerificationReport,
  api: FetchImpl = fetch,
  apiServer = "https://kubernetes.default.svc",
  tokenFile = `${serviceAccountDir}/token`,
): Promise<void> {
  if (!task.rollbackTo) return;
  const token = readFileSync(tokenFile, "utf8").trim();
  const url = `${apiServer}/api/v1/namespaces/${task.namespace}/services/${task.activeService}`;
  const trigger = report.trigger ?? "system-failure";
  const patch = {
    metadata: {
      annotations: {
        [task.annotations.rolledBackAt]: new Date().toISOString(),
        [task.annotations.rollbackTrigger]: `${trigger}: ${report.message}`.slice(0, 1000),
      },
    },
    spec: { selector: { [task.colorLabel]: task.rollbackTo } },
  };
  const response = await api(url, {
    method: "PATCH",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/merge-patch+json" },
    body: JSON.stringify(patch),
  });
  if (!response.ok) {
    throw new Error(`switch back to ${task.rollbackTo}: HTTP ${response.status} ${await response.text()}`);
  }
}

/** How the runner reaches the API server (its service account) and the team (the webhook). */
export interface ClusterAccess {
  readonly api?: FetchImpl;
  readonly apiServer?: string;
  readonly tokenFile?: string;
  readonly webhookUrl?: string;
}

/** A ConfigMap name (DNS subdomain) for the record's file stem. */
function recordConfigMapName(stem: string): string {
  return `shipgate-record-${stem.toLowerCase().replace(/[^a-z0-9.-]/g, "-")}`
    .slice(0, 253)
    .replace(/[.-]+$/, "");
}

/**
 * Writes the failure record as a ConfigMap and sends the notice. Never throws: what could not be done
 * is returned as a sentence for the Job's message, which stays the judge's first.
 */
export async function recordFailure(
  failure: FailureTask,
  facts: FailureFacts,
  access: ClusterAccess = {},
): Promise<string> {
  const notes: string[] = [];
  let location: string | null = null;
  try {
    const record = failedRecord(failure.record, facts);
    const name = recordConfigMapName(recordFileStem(record));
    const token = readFileSync(access.tokenFile ?? `${serviceAccountDir}/token`, "utf8").trim();
    const response = await (access.api ?? fetch)(
      `${access.apiServer ?? "https://kubernetes.default.svc"}/api/v1/namespaces/${failure.namespace}/configmaps`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name,
            namespace: failure.namespace,
            labels: {
              "app.kubernetes.io/managed-by": "shipgate",
              "shipgate.dev/kind": "deployment-record",
              "shipgate.dev/outcome": record.outcome,
            },
          },
          data: {
            "record.json": `${JSON.stringify(record, null, 2)}\n`,
            "record.md": renderRecordMarkdown(record),
          },
        }),
      },
    );
    if (!response.ok) throw new Error(`HTTP ${response.status} ${await response.text()}`);
    location = `configmap/${failure.namespace}/${name}`;
    notes.push(`Record: ${location}.`);
  } catch (error) {
    notes.push(
      `The failure record could not be written (${error instanceof Error ? error.message : String(error)}); write it by hand.`,
    );
  }
  if (access.webhookUrl) {
    // The contract's webhook rule: retried, then reported, never a reason to fail differently.
    const sent = await postWebhook(access.webhookUrl, failureNotice(failure.release, facts, location));
    if (!sent.ok) notes.push(`The team could not be notified (${sent.error}); tell them.`);
  }
  return notes.join(" ");
}

/** Where the program mounts the failure context (a ConfigMap of the service's step). */
export const FAILURE_FILE = "/shipgate-failure/failure.json";

/** The mounted failure context, or undefined when the Job has none (a Job of an earlier program). */
export function readFailure(file = FAILURE_FILE): FailureTask | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  return parseOrThrow(`the failure context (${file})`, failureTaskSchema, JSON.parse(text));
}

export async function gateTask(
  raw: unknown,
  access: ClusterAccess = {},
  failure: FailureTask | undefined = undefined,
): Promise<RunnerResult> {
  const task = parseOrThrow("the gate task ($SHIPGATE_TASK)", gateTaskSchema, raw);
  const report = await runGate({ baseUrl: task.target, checks: task.checks, policy: task.policy });
  const result = resultOf("gate", report);
  if (report.verdict === "passed" || failure === undefined) return result;
  const written = await recordFailure(
    failure,
    {
      outcome: "failed",
      service: failure.service,
      stage: "gate",
      trigger: report.trigger ?? "gate-failure",
      error: report.message,
      served: failure.served,
      previousColor: null,
      backup: null,
      startedAt: report.startedAt,
      at: new Date().toISOString(),
    },
    access,
  );
  return { ...result, message: `${report.message} ${written}` };
}

export interface VerifyActions extends ClusterAccess {
  readonly switchBack: (task: VerifyTask, report: VerificationReport) => Promise<void>;
  /** The mounted failure context (readFailure). */
  readonly failure?: FailureTask;
}

export async function verifyTask(raw: unknown, act: VerifyActions = { switchBack }): Promise<RunnerResult> {
  const task = parseOrThrow("the verification task ($SHIPGATE_TASK)", verifyTaskSchema, raw);
  const report = await runVerification({ baseUrl: task.url, checks: task.checks, ...task.spec });
  if (report.verdict === "passed") return resultOf("verify", report);
  await act.switchBack(task, report);
  const where = task.rollbackTo
    ? `Traffic is back on ${task.rollbackTo}, the previous version.`
    : `There is no previous version to return to (first release); ${task.promoted} keeps serving.`;
  const message = `${report.message} ${where}`;
  const { failure } = act;
  if (failure) {
    const trigger = report.trigger ?? "system-failure";
    const { version } = failure.release;
    const active = task.rollbackTo ?? task.promoted;
    const written = await recordFailure(
      failure,
      {
        outcome: task.rollbackTo ? "rolled-back" : "failed",
        service: failure.service,
        stage: "verification",
        trigger,
        error: `post-promotion verification failed (${trigger}): ${message}`,
        served:
          active === task.rollbackTo
            ? (failure.served ?? { version: "the previous version", color: active })
            : { version, color: active },
        previousColor: task.rollbackTo ? task.promoted : null,
        backup: null,
        startedAt: report.startedAt,
        at: new Date().toISOString(),
        ...(task.rollbackTo ? { rollback: { trigger, reason: report.message } } : {}),
      },
      act,
    );
    return {
      ...resultOf("verify", report),
      message: `${message} ${written}`,
      switchedBackTo: task.rollbackTo,
    };
  }
  let webhook: string | undefined;
  if (act.webhookUrl && task.notice) {
    const sent = await postWebhook(act.webhookUrl, { ...task.notice, message, at: new Date().toISOString() });
    webhook = sent.ok ? `delivered (HTTP ${sent.status})` : `failed: ${sent.error}`;
  }
  return {
    ...resultOf("verify", report),
    message,
    switchedBackTo: task.rollbackTo,
    ...(webhook ? { webhook } : {}),
  };
}

/** What the program puts in $SHIPGATE_TASK for a notification Job: the event, stamped when it is sent. */
export const notifyTaskSchema = notificationEventSchema.omit({ at: true });

export async function notifyTask(raw: unknown, webhookUrl: string | undefined): Promise<RunnerResult> {
  const notice = parseOrThrow("the notification ($SHIPGATE_TASK)", notifyTaskSchema, raw);
  const event = { ...notice, at: new Date().toISOString() };
  if (!webhookUrl) {
    return { task: "notify", verdict: "passed", trigger: null, message: "no webhook configured" };
  }
  const sent = await postWebhook(webhookUrl, event);
  // The contract's webhook rule: a failed webhook is reported, never a failed step.
  return {
    task: "notify",
    verdict: "passed",
    trigger: null,
    message: sent.ok ? `delivered to ${sent.url}` : `not delivered to ${sent.url}: ${sent.error}`,
    webhook: sent.ok ? `delivered (HTTP ${sent.status})` : `failed: ${sent.error}`,
  };
}

/** How long a Job waits for its Service to be routed before its first probe. */
export const routeWaitMs = 30_000;

/**
 * Waits until `url` answers anything at all (any HTTP status), at most `waitMs`. A Service that was
 * just created or re-pointed is routed a moment later (the node's proxy writes its rules after the
 * API server holds the Service and its endpoints); a probe before that fails at the network, and the
 * gate would count the cluster's delay against the build. This judges nothing: whatever answers, or
 * nothing after the wait, the probe loop then runs and the contract's judge decides as always.
 */
export async function awaitRoute(
  url: string,
  waitMs = routeWaitMs,
  probe: FetchImpl = fetch,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<boolean> {
  const until = Date.now() + waitMs;
  let last = "";
  for (;;) {
    try {
      const answer = await probe(url, { signal: AbortSignal.timeout(2000) });
      await answer.body?.cancel();
      return true;
    } catch (error) {
      const reason =
        error instanceof Error
          ? String((error as Error & { cause?: unknown }).cause ?? error)
          : String(error);
      if (reason !== last) log(`waiting for ${url} to be routed: ${reason}`);
      last = reason;
    }
    if (Date.now() >= until) {
      log(`${url} is still not routed after ${waitMs / 1000}s; probing anyway`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function fail(message: string): void {
  process.stderr.write(`${message}\n`);
  try {
    writeFileSync("/dev/termination-log", message);
  } catch {
    // Not in a pod: stderr already has it.
  }
  process.exitCode = 1;
}

export async function main(kind: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(env["SHIPGATE_TASK"] ?? "");
  } catch {
    fail("SHIPGATE_TASK is not JSON: the Job was not made by shipgate, or was edited; release again");
    return;
  }
  const webhookUrl = env["SHIPGATE_WEBHOOK_URL"] || undefined;
  let result: RunnerResult;
  let failure: FailureTask | undefined;
  try {
    failure = kind === "gate" || kind === "verify" ? readFailure() : undefined;
  } catch (error) {
    // The verdict still counts; only its record is missing, and the log says why.
    process.stderr.write(
      `no failure record can be written: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  if (kind === "gate") {
    const target = (raw as { target?: unknown } | null)?.target;
    if (typeof target === "string") await awaitRoute(target);
    result = await gateTask(raw, webhookUrl ? { webhookUrl } : {}, failure);
  } else if (kind === "verify") {
    const url = (raw as { url?: unknown } | null)?.url;
    if (typeof url === "string") await awaitRoute(url);
    result = await verifyTask(raw, {
      switchBack,
      ...(webhookUrl ? { webhookUrl } : {}),
      ...(failure ? { failure } : {}),
    });
  } else if (kind === "notify") result = await notifyTask(raw, webhookUrl);
  else {
    fail(`unknown task ${JSON.stringify(kind)}: expected gate, verify or notify`);
    return;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (result.verdict !== "passed") fail(result.message);
}

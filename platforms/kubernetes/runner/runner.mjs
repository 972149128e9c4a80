// shipgate's in-cluster runner: the kubernetes platform's gate, post-promotion verification and
// webhook notifications, run by Jobs whose completion the Pulumi kubernetes provider awaits. Plain
// Node.js 22 with no dependencies: the program ships this file in a ConfigMap and the Job runs it
// with `node /shipgate/runner.mjs <task>`; the task's settings come as JSON in $SHIPGATE_TASK.
//
// Exit 0: passed. Exit 1: failed; the reason goes to /dev/termination-log, so `kubectl describe` and
// the provider's error both show it.
/* global process, fetch, URL, AbortSignal, setTimeout, console, performance */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** What one check of a response found: null when it passed, else why not. */
export function checkResponse(check, response) {
  const expect = check.expect ?? {};
  const statuses = expect.status === undefined ? null : [expect.status].flat();
  if (statuses ? !statuses.includes(response.status) : response.status >= 400) {
    return { trigger: "errors", reason: `${check.name}: status ${response.status}` };
  }
  if (expect.maxLatencyMs !== undefined && response.latencyMs > expect.maxLatencyMs) {
    return {
      trigger: "performance",
      reason: `${check.name}: ${Math.round(response.latencyMs)} ms > ${expect.maxLatencyMs} ms`,
    };
  }
  const business = check.kind === "business" ? "business-impact" : "errors";
  if (expect.bodyContains !== undefined && !response.body.includes(expect.bodyContains)) {
    return {
      trigger: business,
      reason: `${check.name}: body does not contain ${JSON.stringify(expect.bodyContains)}`,
    };
  }
  if (expect.bodyMatches !== undefined && !new RegExp(expect.bodyMatches).test(response.body)) {
    return { trigger: business, reason: `${check.name}: body does not match /${expect.bodyMatches}/` };
  }
  const json = [];
  if (expect.version !== undefined) json.push(["version", expect.version]);
  if (expect.jsonPath !== undefined) json.push([expect.jsonPath, expect.equals]);
  if (json.length > 0) {
    let parsed;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      return { trigger: business, reason: `${check.name}: body is not JSON` };
    }
    for (const [path, expected] of json) {
      const found = path.split(".").reduce((v, key) => (v === null || v === undefined ? v : v[key]), parsed);
      if (JSON.stringify(found) !== JSON.stringify(expected)) {
        return {
          trigger: business,
          reason: `${check.name}: ${path} is ${JSON.stringify(found)}, expected ${JSON.stringify(expected)}`,
        };
      }
    }
  }
  return null;
}

/** Runs one check against a base URL; a connection error is a system failure. */
export async function runCheck(baseUrl, check, timeoutMs) {
  const started = performance.now();
  try {
    const response = await fetch(new URL(check.path, baseUrl), {
      method: check.method ?? "GET",
      headers: check.headers ?? {},
      ...(check.body === undefined ? {} : { body: JSON.stringify(check.body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    const latencyMs = performance.now() - started;
    return { latencyMs, failure: checkResponse(check, { status: response.status, body, latencyMs }) };
  } catch (error) {
    return {
      latencyMs: performance.now() - started,
      failure: { trigger: "system-failure", reason: `${check.name}: ${error.cause?.code ?? error.message}` },
    };
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const severity = ["system-failure", "errors", "performance", "business-impact"];

/** The pre-promotion gate: rounds of every check until enough pass in a row, or too many fail. */
export async function runGate(task, run = runCheck) {
  const { target, checks, policy } = task;
  const deadline = Date.now() + policy.timeoutMs;
  let successes = 0;
  let failures = 0;
  let rounds = 0;
  let last = [];
  while (Date.now() < deadline) {
    rounds += 1;
    const results = await Promise.all(checks.map((c) => run(target, c, policy.timeoutMs)));
    last = results.map((r) => r.failure).filter(Boolean);
    if (last.length === 0) {
      successes += 1;
      failures = 0;
      if (successes >= policy.consecutiveSuccesses) return { passed: true, rounds };
    } else {
      successes = 0;
      failures += 1;
      if (failures >= policy.failureThreshold) break;
    }
    await sleep(policy.intervalMs);
  }
  const worst = last.sort((a, b) => severity.indexOf(a.trigger) - severity.indexOf(b.trigger))[0];
  return {
    passed: false,
    rounds,
    trigger: worst?.trigger ?? "system-failure",
    reason: worst ? last.map((f) => f.reason).join("; ") : `no round passed within ${policy.timeoutMs} ms`,
  };
}

export function percentile95(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)];
}

/** Post-promotion verification: every check each interval over the bake time, then the verdict. */
export async function runVerification(task, run = runCheck) {
  const { url, checks, spec } = task;
  const end = Date.now() + spec.bakeTimeMs;
  const latencies = [];
  const failures = [];
  let total = 0;
  do {
    const results = await Promise.all(
      checks.map((c) => run(url, c, Math.max(spec.maxP95LatencyMs * 4, 1000))),
    );
    for (const r of results) {
      total += 1;
      latencies.push(r.latencyMs);
      if (r.failure) failures.push(r.failure);
    }
    if (failures.some((f) => f.trigger === "business-impact" || f.trigger === "system-failure")) break;
    await sleep(spec.intervalMs);
  } while (Date.now() < end);
  const errorRate = total === 0 ? 1 : failures.length / total;
  const p95LatencyMs = percentile95(latencies);
  const found = [...failures];
  if (errorRate > spec.maxErrorRate && found.length === 0) {
    found.push({ trigger: "errors", reason: `error rate ${errorRate}` });
  }
  if (p95LatencyMs !== null && p95LatencyMs > spec.maxP95LatencyMs) {
    found.push({
      trigger: "performance",
      reason: `p95 ${Math.round(p95LatencyMs)} ms > ${spec.maxP95LatencyMs} ms`,
    });
  }
  const fatal = found.filter((f) => f.trigger !== "errors" || errorRate > spec.maxErrorRate);
  if (fatal.length === 0) return { passed: true, errorRate, p95LatencyMs };
  const worst = fatal.sort((a, b) => severity.indexOf(a.trigger) - severity.indexOf(b.trigger))[0];
  return { passed: false, errorRate, p95LatencyMs, trigger: worst.trigger, reason: worst.reason };
}

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The switch back: a merge patch of the active Service's selector to the previous colour, with the
 * time and the trigger as annotations (observe() reads them at the next preview or update).
 * Node.js trusts the cluster's CA through NODE_EXTRA_CA_CERTS, set on the Job.
 */
export async function switchBack(task, failure, api = fetch) {
  const token = readFileSync(`${serviceAccountDir}/token`, "utf8").trim();
  const url = `https://kubernetes.default.svc/api/v1/namespaces/${task.namespace}/services/${task.activeService}`;
  const patch = {
    metadata: {
      annotations: {
        [task.annotations.rolledBackAt]: new Date().toISOString(),
        [task.annotations.rollbackTrigger]: `${failure.trigger}: ${failure.reason}`.slice(0, 1000),
      },
    },
    spec: { selector: { [task.colorLabel]: task.rollbackTo } },
  };
  const response = await api(url, {
    method: "PATCH",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/merge-patch+json" },
    body: JSON.stringify(patch),
  });
  if (!response.ok)
    throw new Error(`switch back to ${task.rollbackTo}: HTTP ${response.status} ${await response.text()}`);
}

/** Posts an event to the stack's webhook, three attempts with a growing pause. */
export async function postWebhook(webhookUrl, event, api = fetch) {
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    try {
      const response = await api(webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) return;
      lastError = new Error(`HTTP ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await sleep(attempt * 1000);
  }
  throw new Error(`webhook: ${lastError?.message ?? "failed"}`);
}

function fail(message) {
  console.error(message);
  try {
    writeFileSync("/dev/termination-log", message);
  } catch {
    // not in a pod: stderr already has it
  }
  process.exitCode = 1;
}

async function main(kind) {
  const task = JSON.parse(process.env.SHIPGATE_TASK ?? "{}");
  const webhookUrl = process.env.SHIPGATE_WEBHOOK_URL;
  if (kind === "gate") {
    const result = await runGate(task);
    if (result.passed) console.log(`gate passed in ${result.rounds} rounds`);
    else fail(`Gate failed with rollback trigger ${result.trigger}: ${result.reason}`);
  } else if (kind === "verify") {
    const result = await runVerification(task);
    if (result.passed) {
      console.log(`verified: error rate ${result.errorRate}, p95 ${result.p95LatencyMs} ms`);
      return;
    }
    const switched = task.rollbackTo ? ` Traffic switched back to ${task.rollbackTo}.` : "";
    if (task.rollbackTo) await switchBack(task, result);
    const message = `Post-promotion verification failed with rollback trigger ${result.trigger}: ${result.reason}.${switched}`;
    if (webhookUrl) {
      await postWebhook(webhookUrl, {
        release: task.release,
        stage: "rolled-back",
        severity: "critical",
        message,
      }).catch((error) => console.error(error.message));
    }
    fail(message);
  } else if (kind === "notify") {
    if (webhookUrl) await postWebhook(webhookUrl, task);
  } else {
    fail(`unknown task ${kind}: expected gate, verify or notify`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv[2]).catch((error) => fail(error.stack ?? String(error)));
}

// One judge on every platform: the same scripted service, probed by the local platform's gate
// handler in this process and by the kubernetes runner bundle (dist/runner/shipgate-runner.mjs, the
// file the ConfigMap ships) run as a real `node` process, must get the same verdict, trigger and
// message for every row. Latencies differ from run to run, so "took N ms" is compared without N.
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checksSchema, runVerification, type HttpCheck } from "../../../contract";
import { handlers as gateHandlers } from "../../../platforms/local/handlers/gate";
import type { RunnerResult } from "../../../platforms/kubernetes/runner/main";
import { buildIfStale, runnerBundle } from "../../../scripts/lib/build.mjs";

type Behaviour = (request: number) => { status: number; body: unknown; delayMs?: number } | "hang";

/** Each row: what the service does at each path, by how many requests that path has had. */
const rows: {
  name: string;
  /** The rollback trigger the row's failure calls for (null: it passes). */
  trigger: string | null;
  paths: Record<string, Behaviour>;
  smoke?: HttpCheck[];
}[] = [
  { name: "pass", trigger: null, paths: { "/health": () => ({ status: 200, body: { ok: true } }) } },
  { name: "fail", trigger: "errors", paths: { "/health": () => ({ status: 500, body: { ok: false } }) } },
  {
    name: "flap",
    trigger: "errors",
    paths: {
      "/health": (n) => (n % 2 === 1 ? { status: 200, body: { ok: true } } : { status: 500, body: "down" }),
    },
  },
  {
    name: "slow",
    trigger: "performance",
    paths: { "/health": () => ({ status: 200, body: { ok: true }, delayMs: 1300 }) },
  },
  {
    name: "wrong-version",
    trigger: "errors",
    paths: { "/version": () => ({ status: 200, body: { version: "9.9.9" } }) },
  },
  {
    name: "wrong-body",
    trigger: "business-impact",
    paths: { "/search": () => ({ status: 200, body: "no results" }) },
    smoke: [{ name: "search", path: "/search", expect: { bodyContains: "book" } }],
  },
  { name: "timeout", trigger: "system-failure", paths: { "/health": () => "hang" } },
  {
    name: "bad-gateway",
    trigger: "system-failure",
    paths: { "/health": () => ({ status: 502, body: "upstream down" }) },
  },
];

let server: Server;
let base: string;
/** A copy of the bundle alone in a folder, as the Job sees it: no node_modules, no project beside it. */
let bundleDir: string;
let bundle: string;
let counts: Map<string, number>;
const hanging = new Set<import("node:http").ServerResponse>();

beforeAll(async () => {
  buildIfStale();
  bundleDir = mkdtempSync(join(tmpdir(), "shipgate-runner-"));
  bundle = join(bundleDir, "runner.mjs");
  copyFileSync(runnerBundle, bundle);
  server = createServer((req, res) => {
    const [, row, ...rest] = (req.url ?? "/").split("/");
    const path = `/${rest.join("/")}`;
    const found = rows.find((r) => r.name === row);
    const key = `${row}${path}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    const behaviour: Behaviour =
      found?.paths[path] ??
      (path === "/version"
        ? () => ({ status: 200, body: { version: "1.0.0" } })
        : () => ({ status: 200, body: { ok: true } }));
    const answer = behaviour(n);
    if (answer === "hang") {
      hanging.add(res);
      return;
    }
    const send = () => {
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  rmSync(bundleDir, { recursive: true, force: true });
  for (const res of hanging) res.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  counts = new Map();
});

const policy = {
  consecutiveSuccesses: 2,
  failureThreshold: 2,
  intervalMs: 20,
  timeoutMs: 5_000,
  requestTimeoutMs: 2_000,
};

function checksFor(row: (typeof rows)[number]) {
  return checksSchema.parse([
    { name: "health", kind: "technical", path: "/health", expect: { status: 200, maxLatencyMs: 1000 } },
    { name: "version", kind: "technical", path: "/version", expect: { status: 200, version: "1.0.0" } },
    ...(row.smoke ?? []),
  ]);
}

/** Runs the runner bundle as the Job does: `node runner.mjs <task>` with $SHIPGATE_TASK. */
function runBundle(
  task: "gate" | "verify",
  settings: unknown,
): Promise<{ code: number; result: RunnerResult }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, task], {
      cwd: bundleDir,
      env: { PATH: process.env["PATH"] ?? "", SHIPGATE_TASK: JSON.stringify(settings) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve({ code: code ?? -1, result: JSON.parse(last) as RunnerResult });
      } catch {
        reject(new Error(`the runner printed no result (exit ${code}): ${stdout}${stderr}`));
      }
    });
  });
}

/** The local platform's verdict: its Gate handler's create, exactly as the provider calls it. */
async function runLocal(target: string, checks: ReturnType<typeof checksFor>) {
  try {
    await gateHandlers.create("/nonexistent", {
      service: "web",
      releaseKey: "CHG-1@1.0.0",
      target,
      digest: "sha256:1",
      checks,
      policy,
      notificationsLog: "notifications.log",
    });
    return { verdict: "passed" as const, error: "" };
  } catch (error) {
    return { verdict: "failed" as const, error: (error as Error).message };
  }
}

const withoutTimings = (message: string) => message.replace(/took \d+ ms/g, "took N ms");

describe("the local gate and the kubernetes runner bundle judge alike", { timeout: 60_000 }, () => {
  it.each(rows.map((row) => [row.name, row] as const))("%s", async (_name, row) => {
    const target = `${base}/${row.name}`;
    const checks = checksFor(row);
    const local = await runLocal(target, checks);
    counts = new Map();
    const bundle = await runBundle("gate", { release: "CHG-1@1.0.0", target, checks, policy });

    expect(bundle.result.trigger).toBe(row.trigger);
    expect(local.verdict).toBe(bundle.result.verdict);
    expect(bundle.code).toBe(bundle.result.verdict === "passed" ? 0 : 1);
    if (bundle.result.verdict === "passed") {
      expect(row.name).toBe("pass");
      return;
    }
    expect(bundle.result.message).toContain(`rollback trigger ${bundle.result.trigger}`);
    expect(withoutTimings(local.error)).toBe(
      `pre-promotion gate of web (CHG-1@1.0.0) failed: ${withoutTimings(bundle.result.message)} ` +
        "No traffic was switched: users stay on the live version. Fix the build and release again.",
    );
  });

  it("judges a bake window alike in process and in the bundle", async () => {
    const spec = {
      bakeTimeMs: 200,
      intervalMs: 50,
      maxErrorRate: 0,
      maxP95LatencyMs: 1000,
      requestTimeoutMs: 300,
    };
    for (const name of ["pass", "fail", "wrong-body"]) {
      const row = rows.find((r) => r.name === name) as (typeof rows)[number];
      const url = `${base}/${name}`;
      const checks = checksFor(row);
      counts = new Map();
      const local = await runVerification({ baseUrl: url, checks, ...spec });
      counts = new Map();
      const { result } = await runBundle("verify", {
        release: "CHG-1@1.0.0",
        url,
        checks,
        spec,
        promoted: "green",
        rollbackTo: null,
        namespace: "shop",
        activeService: "web",
        colorLabel: "shipgate.dev/color",
        annotations: { rolledBackAt: "a", rollbackTrigger: "b" },
      });
      expect(result.verdict).toBe(local.verdict);
      expect(result.trigger).toBe(local.trigger ?? null);
      if (local.verdict === "passed") {
        // A passing bake's sentence counts its probes, which depend on how the schedule fell.
        expect(result.message).toMatch(/^Verification passed over 200 ms: error rate 0% of \d+ probes/);
      } else {
        expect(result.message).toBe(
          `${local.message} There is no previous version to return to (first release); green keeps serving.`,
        );
      }
    }
  });
});

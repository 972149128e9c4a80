// The recreate strategy on the real engine: 4.0.0 renames the items' `name` to `title`, a migration
// that 2.x cannot read, so it is released in a maintenance window on the colour that serves users:
// the maintenance response, requests in flight drained, the colour stopped, the data migrated, 4.0.0
// started, gated and switched to, the maintenance response lifted. The other colour (an older build
// that cannot read the migrated data) is not kept warm.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultMaintenance } from "../../platforms/local/router/state";
import {
  addItem,
  createReleaseStack,
  fetchLocal,
  listProcesses,
  processesUnder,
  readJsonFile,
  type ReleaseStack,
  testPort,
} from "./harness";
import { startLoad, waitForRequests, type LoadReport, type RunningLoad } from "./load";

const port = testPort(21040);

/** The manifest's strategy.maintenanceWindow.userMessage (releases/sample-app/v4-recreate.yaml). */
const userMessage = "The sample app is being upgraded and is back in a minute.";

/** How long each slow request takes (GET /slow?ms=...). */
const slowMs = 3000;

type Color = "blue" | "green";

interface ProbeAnswer {
  readonly at: number;
  readonly accept: "json" | "text";
  readonly status: number | null;
  readonly color: string | null;
  readonly retryAfter: string | null;
  readonly body: string;
}

interface RunningProbe {
  stop(): Promise<ProbeAnswer[]>;
}

/**
 * One client that sends `GET /version` one request after another, alternately asking for JSON and
 * for text, and keeps each answer's headers (the load generator keeps status and body only). Bounded
 * by `maxDurationMs` and `maxRequests`.
 */
function startProbe(maxDurationMs = 300_000, maxRequests = 20_000): RunningProbe {
  const started = Date.now();
  const answers: ProbeAnswer[] = [];
  let stopping = false;
  const running = (async () => {
    for (let i = 0; i < maxRequests && !stopping && Date.now() - started < maxDurationMs; i += 1) {
      const accept = i % 2 === 0 ? "json" : "text";
      const at = Date.now() - started;
      try {
        const response = await fetch(`http://127.0.0.1:${port}/version`, {
          headers: { accept: accept === "json" ? "application/json" : "text/plain" },
          signal: AbortSignal.timeout(5000),
        });
        answers.push({
          at,
          accept,
          status: response.status,
          color: response.headers.get("x-shipgate-color"),
          retryAfter: response.headers.get("retry-after"),
          body: await response.text(),
        });
      } catch (error) {
        answers.push({ at, accept, status: null, color: null, retryAfter: null, body: String(error) });
      }
      await sleep(25);
    }
  })();
  return {
    async stop() {
      stopping = true;
      await running;
      return answers;
    },
  };
}

/** Successful answers to requests sent after the load had sent `count` requests (by send time). */
function answersSentAfter(report: LoadReport, count: number) {
  const sorted = [...report.responses, ...report.failures].map((r) => r.at).sort((a, b) => a - b);
  const from = sorted[Math.min(count, sorted.length - 1)] ?? 0;
  return report.responses.filter((r) => r.at > from);
}

/**
 * What each client of the load saw, in the order it sent its requests, with repeats collapsed:
 * e.g. `["green 2.0.0", "maintenance", "green 4.0.0"]`.
 */
function phasesPerClient(report: LoadReport): string[][] {
  const seen = [
    ...report.responses.map((r) => ({ client: r.client, at: r.at, what: `${r.color} ${r.version}` })),
    ...report.failures.map((f) => ({
      client: f.client,
      at: f.at,
      what: f.status === 503 && f.detail === `${userMessage}\n` ? "maintenance" : `failure ${f.status}`,
    })),
  ].sort((a, b) => a.at - b.at);
  const clients = [...new Set(seen.map((s) => s.client))].sort((a, b) => a - b);
  return clients.map((client) => {
    const phases: string[] = [];
    for (const s of seen) if (s.client === client && phases.at(-1) !== s.what) phases.push(s.what);
    return phases;
  });
}

describe("the recreate strategy with a maintenance window on the local platform", () => {
  let stack: ReleaseStack;
  const loads: RunningLoad[] = [];
  const probes: RunningProbe[] = [];

  beforeAll(async () => {
    stack = await createReleaseStack({ port });
  });

  afterAll(async () => {
    await Promise.allSettled([...loads.map((l) => l.stop()), ...probes.map((p) => p.stop())]);
    await stack?.dispose();
  });

  it("releases v1, writes an item, then releases v2 blue-green", async () => {
    const v1 = await stack.release("v1.yaml");
    expect(v1.summary.result).toBe("succeeded");
    expect(v1.outputs["activeColor"]?.value).toBe("blue");
    expect(await addItem(port, "first")).toEqual({ id: 1, name: "first" });
    const v2 = await stack.release("v2.yaml");
    expect(v2.summary.result).toBe("succeeded");
    expect(v2.outputs["activeColor"]?.value).toBe("green");
    expect(v2.outputs["liveVersion"]?.value).toBe("2.0.0");
    expect(JSON.parse((await fetchLocal(port, "/items")).body)).toEqual({
      items: [{ id: 1, name: "first", createdAt: expect.any(String) }],
    });
  });

  it("releases 4.0.0 in a maintenance window on the live colour, migrating the data", async () => {
    // Which colour serves users now, as the stack's outputs and the router's state both say.
    const outputs = await stack.stack.outputs();
    const live = outputs["activeColor"]?.value as Color;
    expect(["blue", "green"]).toContain(live);
    expect(stack.routerState().active).toBe(live);
    const other: Color = live === "blue" ? "green" : "blue";
    const colorPort = (color: Color) => (color === "blue" ? port + 1 : port + 2);
    const otherDir = stack.paths.slot(other).dir;
    const livePid = stack.slotPid(live);
    const otherPid = stack.slotPid(other);
    expect(livePid).toBeGreaterThan(0);
    expect(otherPid).toBeGreaterThan(0);
    // The other colour runs 1.0.0, warm since v2: a real process, found from its pid file.
    expect(processesUnder(otherDir).map((p) => p.pid)).toContain(otherPid);
    expect((await fetchLocal(colorPort(other), "/version")).body).toBe('{"version":"1.0.0","schema":1}\n');
    const notificationsBefore = notificationLines(stack).length;

    const loadStart = Date.now();
    const running = startLoad({ port, clients: 8 });
    loads.push(running);
    const probe = startProbe();
    probes.push(probe);
    // Two clients of slow requests, half a request apart, so one is always in flight when the
    // maintenance window begins: the window must drain it, not cut it.
    const slow: { start: number; load: RunningLoad }[] = [];
    for (let i = 0; i < 2; i += 1) {
      if (i > 0) await sleep(slowMs / 2);
      const start = Date.now();
      const load = startLoad({ port, path: `/slow?ms=${slowMs}`, clients: 1, pauseMs: 20 });
      loads.push(load);
      slow.push({ start, load });
    }
    await waitForRequests(running, 50);
    const up = await stack.release("v4-recreate.yaml");
    const releasedAt = running.count();
    // More than the 100 asserted below: requests in flight when the release ended are counted later.
    await waitForRequests(running, 150);
    const [report, probed] = await Promise.all([running.stop(), probe.stop()]);
    const slowReports = await Promise.all(
      slow.map(async (s) => ({ start: s.start, report: await s.load.stop() })),
    );

    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["activeColor"]?.value).toBe(live);
    expect(up.outputs["liveVersion"]?.value).toBe("4.0.0");
    expect(up.outputs["url"]?.value).toBe(`http://127.0.0.1:${port}`);

    // Users got 2.0.0, then the maintenance response, then 4.0.0, on the one colour: nothing else, no
    // 502, and never an older answer after a newer one.
    expect(report.endedBy).toBe("stop");
    expect(report.failures.length).toBeGreaterThan(0);
    expect(new Set(report.failures.map((f) => `${f.status} ${f.color} ${f.detail}`))).toEqual(
      new Set([`503 null ${userMessage}\n`]),
    );
    expect(Object.keys(report.served).sort()).toEqual([`${live} 2.0.0`, `${live} 4.0.0`]);
    const order = [`${live} 2.0.0`, "maintenance", `${live} 4.0.0`];
    for (const phases of phasesPerClient(report)) {
      expect(order).toEqual(expect.arrayContaining(phases));
      expect(phases).toEqual([...phases].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
    }
    const after = answersSentAfter(report, releasedAt);
    expect(after.length).toBeGreaterThanOrEqual(100);
    expect(new Set(after.map((r) => `${r.color} ${r.version}`))).toEqual(new Set([`${live} 4.0.0`]));

    // Requests in flight when the window began were drained, not cut: a slow request sent to 2.0.0
    // before the first maintenance response was answered by 2.0.0 after it; slow requests never got
    // anything but a version's answer or the maintenance response.
    const maintenanceFrom = Math.min(...report.failures.map((f) => loadStart + f.at));
    const drained = slowReports.flatMap(({ start, report: r }) =>
      r.responses.filter(
        (a) =>
          a.version === "2.0.0" &&
          start + a.at < maintenanceFrom &&
          start + a.at + a.latencyMs > maintenanceFrom,
      ),
    );
    expect(drained.length).toBeGreaterThan(0);
    for (const { report: r } of slowReports) {
      expect(r.endedBy).toBe("stop");
      expect(new Set(r.failures.map((f) => `${f.status} ${f.detail}`))).toEqual(
        new Set(r.failures.length > 0 ? [`503 ${userMessage}\n`] : []),
      );
      expect(Object.keys(r.served).sort()).toEqual([`${live} 2.0.0`, `${live} 4.0.0`]);
    }

    // The maintenance response: 503, Retry-After, the manifest's message, as JSON or text as asked.
    const maintenance = probed.filter((a) => a.status === 503);
    expect(maintenance.map((a) => a.accept)).toEqual(expect.arrayContaining(["json", "text"]));
    const retryAfter = String(defaultMaintenance.retryAfterSeconds);
    for (const answer of maintenance) {
      expect(answer).toMatchObject({ color: null, retryAfter });
      expect(answer.body).toBe(
        answer.accept === "json"
          ? JSON.stringify({ error: "maintenance", message: userMessage })
          : `${userMessage}\n`,
      );
    }
    expect(new Set(probed.map((a) => (a.status === 503 ? "maintenance" : `${a.status} ${a.color}`)))).toEqual(
      new Set([`200 ${live}`, "maintenance"]),
    );

    // After the release: the same colour serves 4.0.0 (a new process), the maintenance response is off.
    const router = readJsonFile<{ active: string; maintenance: { enabled: boolean } }>(
      stack.paths.routerState,
    );
    expect(router).toMatchObject({ active: live, maintenance: { enabled: false } });
    expect(await fetchLocal(port, "/version")).toEqual({
      status: 200,
      color: live,
      body: '{"version":"4.0.0","schema":3}\n',
    });
    expect(stack.slotPid(live)).toBeGreaterThan(0);
    expect(stack.slotPid(live)).not.toBe(livePid);
    expect((await fetchLocal(colorPort(live), "/version")).body).toBe('{"version":"4.0.0","schema":3}\n');

    // The other colour is stopped: no pid file, no process of its folder, nothing on its port.
    expect(stack.slotPid(other)).toBeUndefined();
    expect(processesUnder(otherDir)).toEqual([]);
    expect(listProcesses().filter((p) => p.pid === otherPid && p.cmdline.includes("server.mjs"))).toEqual([]);
    await expect(fetchLocal(colorPort(other), "/version")).rejects.toThrow();

    // The data was migrated: name is now title, on disk and through the app, at schema 3.
    expect(JSON.parse((await fetchLocal(port, "/items")).body)).toEqual({
      items: [{ id: 1, title: "first", createdAt: expect.any(String) }],
    });
    const items = readJsonFile<Record<string, unknown>[]>(join(stack.paths.dataDir, "items.json"));
    expect(items).toEqual([{ id: 1, title: "first", createdAt: expect.any(String) }]);
    expect(readJsonFile(join(stack.paths.dataDir, "schema.json"))).toEqual({ schema: 3, minReaderSchema: 3 });

    // The record says what happened.
    const latest = readJsonFile<Record<string, unknown>>(join(stack.workDirPath, "records", "latest.json"));
    expect(latest).toMatchObject({
      outcome: "succeeded",
      strategy: "recreate",
      issue: { changeId: "CHG-104" },
      release: { version: "4.0.0" },
      rollback: null,
      activeColor: live,
      previousColor: null,
      backup: { id: "CHG-104-4.0.0" },
      changes: {
        database: [
          { service: "sample-app", migration: "0002_add_created_at", backwardCompatible: true },
          { service: "sample-app", migration: "0003_rename_name_to_title", backwardCompatible: false },
        ],
        services: [
          { service: "sample-app", version: "4.0.0", color: live, previousColor: null, restarted: true },
        ],
      },
    });
    expect((latest?.["timeline"] as { stage: string }[]).map((t) => t.stage)).toEqual([
      "sample-app: backup verified",
      "sample-app: pre-promotion gate passed",
      "sample-app: traffic switched",
      "sample-app: post-promotion verification passed",
    ]);

    // The release's notifications, in order.
    const lines = notificationLines(stack).slice(notificationsBefore);
    expect(lines).toEqual([
      {
        type: "notification",
        stage: "starting",
        release: { changeId: "CHG-104", version: "4.0.0" },
        message: "Release CHG-104@4.0.0 (Items are renamed to titles (not backward compatible)) is starting.",
        severity: "info",
        audience: ["users", "team", "support", "management"],
        at: expect.any(String),
      },
      {
        type: "notification",
        stage: "maintenance",
        release: { changeId: "CHG-104", version: "4.0.0" },
        message: userMessage,
        severity: "warning",
        audience: ["users", "support"],
        at: expect.any(String),
      },
      {
        type: "notification",
        stage: "completed",
        release: { changeId: "CHG-104", version: "4.0.0" },
        message: "Release CHG-104@4.0.0 is live and verified.",
        severity: "info",
        audience: ["users", "team", "support", "management"],
        at: expect.any(String),
      },
    ]);

    // Users were told and the service stopped before the backup: it copies data nobody writes to.
    const maintenanceNotice = lines.find((line) => line["stage"] === "maintenance");
    const backupManifest = readJsonFile<{ createdAt: string }>(
      join(stack.workDirPath, "backups", "sample-app", "CHG-104-4.0.0", "manifest.json"),
    );
    expect(Date.parse(String(backupManifest?.createdAt))).toBeGreaterThan(
      Date.parse(String(maintenanceNotice?.["at"])),
    );
  });
});

/** Every line of the stack's notifications.log, parsed. */
function notificationLines(stack: ReleaseStack): Record<string, unknown>[] {
  return readFileSync(join(stack.workDirPath, "notifications.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// The Verification handler's diff: post-promotion verification bakes again only for a new release,
// promotion, address, checks or bake spec; and its bake ends, failed, when the router failed over.
import { readFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planColors } from "../../../../../components/colors";
import { buildRecordDraft } from "../../../../../components/record-draft";
import { sampleBuild, sampleManifest } from "../../../components/fixtures";
import { type TestProject, crud, testProject } from "./helpers";
import {
  type VerificationInputs,
  type VerificationOutputs,
  handlers,
} from "../../../../../platforms/local/handlers/verification";

const inputs: VerificationInputs = {
  service: "web",
  releaseKey: "CHG-1@2.0.0",
  url: "http://127.0.0.1:31000",
  adminPort: 31003,
  checks: [{ name: "health", kind: "technical", method: "GET", path: "/health", expect: { status: 200 } }],
  spec: { bakeTimeMs: 1000, intervalMs: 100, maxErrorRate: 0, maxP95LatencyMs: 500, requestTimeoutMs: 1000 },
  promoted: "green",
  rollbackTo: "blue",
  record: { issue: { changeId: "CHG-1" } },
  recordsDir: "records",
  notificationsLog: "notifications.log",
  webhookUrl: null,
  switchFile: ".shipgate/unit/services/web/switch.json",
};
const v2 = sampleManifest("v2");
const recordDraft = buildRecordDraft({
  manifest: v2.manifest,
  digest: v2.digest,
  stack: "unit",
  service: "web",
  plan: planColors(
    { active: "blue", slots: { blue: sampleBuild(sampleManifest("v1")) } },
    sampleBuild(v2),
    "blue-green",
  ),
  build: sampleBuild(v2),
});
const olds: VerificationOutputs = {
  ...inputs,
  verdict: "passed",
  errorRate: 0,
  p95LatencyMs: 5,
  verifiedAt: "2026-11-22T10:00:00.000Z",
};

describe("Verification diff", () => {
  it("does not bake again when only the record, folders, router port, webhook or rollback colour change", async () => {
    expect(
      await handlers.diff("", "id", olds, {
        ...inputs,
        record: { issue: { changeId: "CHG-1" }, results: {} },
        recordsDir: "other",
        notificationsLog: "other.log",
        adminPort: 41003,
        webhookUrl: "https://hooks.example.com/",
        rollbackTo: null,
      }),
    ).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("does not bake again when only the fast track changes (the release it ran for is live already)", async () => {
    expect(await handlers.diff("", "id", olds, { ...inputs, fastTrack: true })).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("bakes again (in place, never replaced) for another release, promotion, address, checks or spec", async () => {
    for (const news of [
      { ...inputs, releaseKey: "CHG-2@3.0.0" },
      { ...inputs, promoted: "blue" as const },
      { ...inputs, url: "http://127.0.0.1:41000" },
      { ...inputs, checks: [] },
      { ...inputs, spec: { ...inputs.spec, bakeTimeMs: 2000 } },
    ]) {
      expect(await handlers.diff("", "id", olds, news)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });
});

describe("Verification after the router failed over by itself", () => {
  let project: TestProject;
  const servers: http.Server[] = [];
  const listen = async (handler: http.RequestListener): Promise<number> => {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  };

  beforeAll(() => {
    project = testProject("verification-failover");
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    project.remove();
  });

  it("fails the bake at once, naming the router's reason, and records the rollback", async () => {
    const failedOver = {
      from: "green",
      to: "blue",
      at: "2026-11-30T17:00:00.000Z",
      reason:
        "5 failed requests within 10000 ms from green (the last: answered 500); users are sent to the warm colour",
    };
    // Users' address: every probe passes, as it would once the router answers from blue.
    const publicPort = await listen((_req, res) => res.writeHead(200).end("ok"));
    const switches: string[] = [];
    const adminPort = await listen((req, res) => {
      const state = {
        service: "web",
        listenHost: "127.0.0.1",
        listenPort: publicPort,
        adminPort: 1,
        upstreams: { blue: "http://127.0.0.1:1", green: "http://127.0.0.1:2" },
        active: "blue",
        maintenance: { enabled: false, message: "m", retryAfterSeconds: 1 },
        fallback: null,
        failedOver,
      };
      if (req.method === "POST" && req.url === "/switch") {
        switches.push("blue");
        res.writeHead(200, { "content-type": "application/json" }).end('{"previous":"blue","active":"blue"}');
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          ...state,
          inFlight: { blue: 0, green: 0 },
          webSockets: { blue: 0, green: 0 },
          pid: 1,
          uptimeSeconds: 1,
        }),
      );
    });
    const started = Date.now();
    const failure = await crud(handlers)
      .create(project.dir, {
        ...inputs,
        url: `http://127.0.0.1:${publicPort}`,
        adminPort,
        spec: { ...inputs.spec, bakeTimeMs: 60_000 },
        record: recordDraft,
        switchFile: "switch.json",
        failure: {
          service: "web",
          release: { changeId: "CHG-1", version: "2.0.0", key: "CHG-1@2.0.0" },
          record: recordDraft,
          served: { version: "1.0.0", color: "blue" },
          candidate: "green",
          restarts: true,
          recordsDir: "records",
          notificationsLog: "notifications.log",
          adminPort,
        },
      })
      .then(
        () => new Error("the bake passed"),
        (error: unknown) => error as Error,
      );
    // Not the whole minute of bake: the first look at the router ends it.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(failure.message).toMatch(
      /^post-promotion verification of web \(CHG-1@2\.0\.0\) failed; rollback trigger: errors\. The router sent users back to blue by itself at 2026-11-30T17:00:00\.000Z \(5 failed requests within 10000 ms from green/,
    );
    expect(switches).toEqual(["blue"]);
    const latest = JSON.parse(readFileSync(join(project.dir, "records", "latest.json"), "utf8")) as {
      outcome: string;
      rollback: { trigger: string; reason: string };
      failure: unknown;
    };
    expect(latest.outcome).toBe("rolled-back");
    expect(latest.rollback.trigger).toBe("errors");
    expect(latest.rollback.reason).toMatch(/^The router sent users back to blue by itself/);
    expect(latest.failure).toMatchObject({
      service: "web",
      stage: "verification",
      trigger: "errors",
      served: { version: "1.0.0", color: "blue" },
    });
    const notices = readFileSync(join(project.dir, "notifications.log"), "utf8").trim().split("\n");
    expect(notices.map((line) => (JSON.parse(line) as { stage: string }).stage)).toEqual(["rolled-back"]);
    expect(failure.message).toMatch(/ Record: records\/CHG-101-2\.0\.0-\d{8}T\d{9}Z\.md\.$/);
  });
});

describe("A fast-tracked verification", () => {
  let server: http.Server;
  let port: number;
  let probes = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      probes += 1;
      res.writeHead(200).end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("bakes the judge's short bake (two rounds one interval apart) and reports it among its outputs", async () => {
    const project = testProject("verification-fast-track");
    try {
      const { outs } = await crud(handlers).create(project.dir, {
        ...inputs,
        url: `http://127.0.0.1:${port}`,
        // Nothing listens here: the router's own failover is simply not seen.
        adminPort: 1,
        fastTrack: true,
        spec: { ...inputs.spec, bakeTimeMs: 60_000 },
      });
      expect(probes).toBe(2);
      expect(outs).toMatchObject({ verdict: "passed", fastTrackBakeMs: 100, errorRate: 0 });
      // The step keeps the service's policy as given; only the bake it ran was short.
      expect(outs.spec.bakeTimeMs).toBe(60_000);
      // A full bake says so with null, never by leaving the output out (a preview would not know it).
      const full = await crud(handlers).create(project.dir, {
        ...inputs,
        url: `http://127.0.0.1:${port}`,
        adminPort: 1,
        spec: { ...inputs.spec, bakeTimeMs: 100 },
      });
      expect(full.outs).toMatchObject({ verdict: "passed", fastTrackBakeMs: null });
    } finally {
      project.remove();
    }
  });
});

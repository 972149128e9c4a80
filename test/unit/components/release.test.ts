// The Release component under Pulumi mocks with a fake platform: the exact resources of a release,
// their parents, their order (the dependencies the engine is given) and the arguments each step
// gets, for the first release, the next one, a rollback, the recreate strategy, a data restore, a
// stateless service, and the errors of a stack or manifest that cannot be released.
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ObservedService, RecordSummary } from "../../../components/platform";
import type { Release as ReleaseComponent, ReleaseArgs } from "../../../components/release";
import type { ServiceSettings } from "../../../config";
import { type RecordingMocks, installMocks, valueOf } from "../mocks";
import { FakePlatform, fakeBackupId, fakeUrl } from "./fake-platform";
import {
  type LoadedManifest,
  registered,
  sampleBuild,
  sampleManifest,
  serviceSettings,
  shapeOf,
} from "./fixtures";

let mocks: RecordingMocks;
let Release: typeof ReleaseComponent;

beforeAll(async () => {
  mocks = await installMocks({}, { stack: "unit" });
  ({ Release } = await import("../../../components/release"));
});

beforeEach(() => {
  mocks.registrations.length = 0;
});

const v1 = sampleManifest("v1");
const v2 = sampleManifest("v2");
const v4 = sampleManifest("v4-recreate");

interface Released {
  readonly release: ReleaseComponent;
  readonly platform: FakePlatform;
}

async function release(
  loaded: LoadedManifest,
  running: ObservedService,
  services: Readonly<Record<string, ServiceSettings>> = serviceSettings(31000),
  extra: Partial<ReleaseArgs> = {},
  records: Readonly<Record<string, RecordSummary>> = {},
): Promise<Released> {
  const platform = new FakePlatform({ "sample-app": running }, records);
  const component = new Release("release", {
    platform,
    manifest: loaded.manifest,
    digest: loaded.digest,
    manifestPath: loaded.path,
    stack: "unit",
    services,
    ...extra,
  });
  await mocks.settle();
  return { release: component, platform };
}

const inputsOf = (name: string) => registered(mocks.registrations, name).inputs;

/**
 * The release as one service's steps get it: with what a failing step records (the same record draft
 * as the verification's, what served users when the release was planned, the candidate colour).
 */
function stepRef(
  ref: { changeId: string; version: string; key: string },
  candidate: "blue" | "green",
  served: { version: string; color: "blue" | "green" } | null,
  restarts = true,
): Record<string, unknown> {
  return {
    ...ref,
    failure: {
      service: "sample-app",
      record: inputsOf("sample-app-verify-bake")["record"],
      served,
      candidate,
      restarts,
    },
  };
}
const nothingRuns: ObservedService = { active: null, slots: {} };
const head = [
  "shipgate:release:Release release <- (root) after []",
  "shipgate:release:ReleaseAnchor release-anchor <- release after []",
  "pulumi-nodejs:dynamic/shipgate/release:Evidence release-anchor-evidence <- release-anchor after []",
  "shipgate:notify:Notification release-announce <- release after [release-anchor-evidence]",
  "fake:step:notification release-announce-send <- release-announce after [release-anchor-evidence]",
];
const startDeps = "release-anchor-evidence, release-announce-send";
const backup = [
  `shipgate:backup:Backup sample-app-backup <- release after [${startDeps}]`,
  `fake:step:backup sample-app-backup-data <- sample-app-backup after [${startDeps}]`,
];
const serviceDeps = `${startDeps}, sample-app-backup-data`;
function tail(color: "blue" | "green", serviceChildren: string): string[] {
  return [
    `shipgate:gate:HealthGate sample-app-gate <- release after [${serviceChildren}]`,
    `fake:step:gate sample-app-gate-checks <- sample-app-gate after [${serviceChildren}]`,
    "shipgate:traffic:TrafficSwitch sample-app-switch <- release after [sample-app-gate-checks]",
    "fake:step:trafficSwitch sample-app-switch-route <- sample-app-switch after [sample-app-gate-checks]",
    "shipgate:verify:PostPromotionVerification sample-app-verify <- release after [sample-app-switch-route]",
    "fake:step:verification sample-app-verify-bake <- sample-app-verify after [sample-app-switch-route]",
    "shipgate:record:DeploymentRecord release-record <- release after [sample-app-verify-bake]",
    "fake:step:record release-record-write <- release-record after [sample-app-verify-bake]",
    "shipgate:notify:Notification release-complete <- release after [release-record-write]",
    "fake:step:notification release-complete-send <- release-complete after [release-record-write]",
  ].map((line) => line.replace("{color}", color));
}

describe("the first release (nothing runs yet)", () => {
  it("backs up, deploys blue only, gates, switches, verifies, records and notifies, in that order", async () => {
    await release(v1, nothingRuns);
    expect(shapeOf(mocks.registrations)).toEqual([
      ...head,
      ...backup,
      `shipgate:deploy:BlueGreenService sample-app <- release after [${serviceDeps}]`,
      `fake:step:router sample-app-router <- sample-app after [${serviceDeps}]`,
      `fake:step:slot sample-app-blue <- sample-app after [${serviceDeps}, sample-app-router]`,
      ...tail("blue", "sample-app-blue, sample-app-router"),
    ]);
  });

  it("carries the manifest's evidence, as plain values, on the anchor", async () => {
    await release(v1, nothingRuns);
    const evidence = inputsOf("release-anchor-evidence");
    expect(typeof evidence["__provider"]).toBe("string");
    const { __provider, ...rest } = evidence;
    expect(rest).toEqual({
      changeId: "CHG-100",
      version: "1.0.0",
      deploymentType: "standard-partial",
      digest: v1.digest,
      manifest: JSON.parse(JSON.stringify(v1.manifest)),
      manifestPath: "releases/sample-app/v1.yaml",
      stack: "unit",
    });
  });

  it("gives each step the build, the checks and the addresses of the steps before it", async () => {
    const { release: component } = await release(v1, nothingRuns);
    const build = sampleBuild(v1);
    const ref = { changeId: "CHG-100", version: "1.0.0", key: "CHG-100@1.0.0" };
    const step = stepRef(ref, "blue", null);
    expect(inputsOf("sample-app-backup-data")).toEqual({ service: "sample-app", release: step });
    expect(inputsOf("sample-app-router")).toEqual({ service: "sample-app" });
    expect(inputsOf("sample-app-blue")).toEqual({
      service: "sample-app",
      color: "blue",
      spec: build,
      release: step,
    });
    const checks = [
      {
        name: "health",
        kind: "technical",
        method: "GET",
        path: "/health",
        expect: { status: 200, maxLatencyMs: 1000 },
      },
      {
        name: "version",
        kind: "technical",
        method: "GET",
        path: "/version",
        expect: { status: 200, version: "1.0.0", maxLatencyMs: 1000 },
      },
    ];
    expect(inputsOf("sample-app-gate-checks")).toEqual({
      service: "sample-app",
      release: step,
      color: "blue",
      target: fakeUrl("sample-app-blue"),
      artifact: build.artifact,
      checks,
      policy: {
        consecutiveSuccesses: 3,
        failureThreshold: 3,
        intervalMs: 500,
        timeoutMs: 30_000,
        requestTimeoutMs: 5_000,
      },
    });
    expect(inputsOf("sample-app-switch-route")).toEqual({
      service: "sample-app",
      release: step,
      color: "blue",
      target: fakeUrl("sample-app-blue"),
      warmWindowMinutes: 60,
    });
    const verification = inputsOf("sample-app-verify-bake");
    expect({ ...verification, record: undefined }).toEqual({
      service: "sample-app",
      release: step,
      url: fakeUrl("sample-app-router"),
      checks,
      spec: {
        bakeTimeMs: 10_000,
        intervalMs: 250,
        maxErrorRate: 0.01,
        maxP95LatencyMs: 1000,
        requestTimeoutMs: 5_000,
      },
      fastTrack: false,
      promoted: "blue",
      rollbackTo: null,
      record: undefined,
    });
    const draft = verification["record"] as { changes: { services: unknown[] }; issue: unknown };
    expect(draft.issue).toEqual({ changeId: "CHG-100", changeRequest: "CR-100", incident: null });
    expect(draft.changes.services).toEqual([
      { service: "sample-app", version: "1.0.0", color: "blue", previousColor: null, restarted: true },
    ]);

    const record = inputsOf("release-record-write");
    expect(record["release"]).toEqual(ref);
    const written = record["record"] as { results: unknown; colors: unknown };
    expect(written.results).toEqual({
      "sample-app": {
        backup: {
          id: fakeBackupId("sample-app-backup-data"),
          digest: `sha256:${"b".repeat(64)}`,
          at: "2026-11-22T10:00:01.000Z",
        },
        gate: { verdict: "passed", rounds: 3, at: "2026-11-22T10:00:02.000Z" },
        switchedAt: "2026-11-22T10:00:03.000Z",
        verification: {
          verdict: "passed",
          // A full bake: null, always set, so a preview knows it.
          fastTrackBakeMs: null,
          errorRate: 0,
          p95LatencyMs: 12,
          at: "2026-11-22T10:00:04.000Z",
        },
      },
    });
    expect(written.colors).toEqual({ "sample-app": { active: "blue", previous: null } });

    expect(inputsOf("release-announce-send")).toEqual({
      release: ref,
      event: {
        stage: "starting",
        message: "Release CHG-100@1.0.0 (The sample app's first release) is starting.",
        severity: "info",
        audience: ["users", "team", "support", "management"],
      },
    });
    expect(inputsOf("release-complete-send")).toEqual({
      release: ref,
      event: {
        stage: "completed",
        message: "Release CHG-100@1.0.0 is live and verified.",
        severity: "info",
        audience: ["users", "team", "support", "management"],
      },
    });

    const outcome = component.services["sample-app"];
    expect(outcome?.version).toBe("1.0.0");
    expect(outcome?.plan).toEqual({ candidate: "blue", live: null, warm: null, keep: {}, reuse: false });
    expect(await valueOf(outcome?.url as pulumi.Output<string>)).toBe(fakeUrl("sample-app-router"));
    expect(await valueOf(outcome?.activeColor as pulumi.Output<string>)).toBe("blue");
    expect(await valueOf(component.recordLocation)).toBe("records/release-record-write.md");
  });
});

describe("the second release (v1 live on blue)", () => {
  const running: ObservedService = { active: "blue", slots: { blue: sampleBuild(v1) } };

  it("deploys green after the backup and the migration, and re-declares blue unchanged", async () => {
    const { platform } = await release(v2, running);
    expect(shapeOf(mocks.registrations)).toEqual([
      ...head,
      ...backup,
      `shipgate:deploy:BlueGreenService sample-app <- release after [${serviceDeps}]`,
      `fake:step:router sample-app-router <- sample-app after [${serviceDeps}]`,
      `fake:step:slot sample-app-blue <- sample-app after [${serviceDeps}]`,
      `fake:step:migration sample-app-migrate <- sample-app after [${serviceDeps}, sample-app-router]`,
      `fake:step:slot sample-app-green <- sample-app after [${serviceDeps}, sample-app-migrate, sample-app-router]`,
      ...tail("green", "sample-app-blue, sample-app-green, sample-app-migrate, sample-app-router"),
    ]);
    expect(platform.observed).toEqual(["sample-app"]);
    const step = stepRef({ changeId: "CHG-101", version: "2.0.0", key: "CHG-101@2.0.0" }, "green", {
      version: "1.0.0",
      color: "blue",
    });
    expect(inputsOf("sample-app-blue")).toEqual({
      service: "sample-app",
      color: "blue",
      spec: sampleBuild(v1),
      release: step,
    });
    expect(inputsOf("sample-app-green")).toEqual({
      service: "sample-app",
      color: "green",
      spec: sampleBuild(v2),
      release: step,
    });
    expect(inputsOf("sample-app-migrate")).toEqual({
      service: "sample-app",
      artifact: sampleBuild(v2).artifact,
      migrations: ["0002_add_created_at"],
      backupId: fakeBackupId("sample-app-backup-data"),
      release: step,
    });
    expect(inputsOf("sample-app-gate-checks")["target"]).toBe(fakeUrl("sample-app-green"));
    expect(inputsOf("sample-app-switch-route")).toMatchObject({
      color: "green",
      target: fakeUrl("sample-app-green"),
    });
    expect(inputsOf("sample-app-verify-bake")).toMatchObject({ promoted: "green", rollbackTo: "blue" });
    const written = inputsOf("release-record-write")["record"] as { colors: unknown };
    expect(written.colors).toEqual({ "sample-app": { active: "green", previous: "blue" } });
  });
});

describe("a rollback (v2 live on green, v1 still warm on blue)", () => {
  const running: ObservedService = {
    active: "green",
    slots: { blue: sampleBuild(v1), green: sampleBuild(v2) },
  };

  it("re-declares blue exactly as it runs (a routing change, no redeploy) and keeps green warm", async () => {
    const { release: component } = await release(v1, running);
    // The backup and the gate against blue run side by side; the switch waits for both. Their
    // registrations interleave, so the order is in the dependencies (sorted here), not the list.
    const gated = "sample-app-blue, sample-app-green, sample-app-router";
    expect(shapeOf(mocks.registrations).slice(0, head.length)).toEqual(head);
    expect(shapeOf(mocks.registrations).slice(head.length).sort()).toEqual(
      [
        ...backup,
        `shipgate:deploy:BlueGreenService sample-app <- release after [${startDeps}]`,
        `fake:step:router sample-app-router <- sample-app after [${startDeps}]`,
        `fake:step:slot sample-app-green <- sample-app after [${startDeps}]`,
        `fake:step:slot sample-app-blue <- sample-app after [${startDeps}, sample-app-router]`,
        `shipgate:gate:HealthGate sample-app-gate <- release after [${gated}]`,
        `fake:step:gate sample-app-gate-checks <- sample-app-gate after [${gated}]`,
        "shipgate:traffic:TrafficSwitch sample-app-switch <- release after [sample-app-backup-data, sample-app-gate-checks]",
        "fake:step:trafficSwitch sample-app-switch-route <- sample-app-switch after [sample-app-backup-data, sample-app-gate-checks]",
        ...tail("blue", gated).slice(4),
      ].sort(),
    );
    expect(inputsOf("sample-app-blue")["spec"]).toEqual(running.slots.blue);
    expect(inputsOf("sample-app-green")["spec"]).toEqual(running.slots.green);
    expect(component.services["sample-app"]?.plan).toEqual({
      candidate: "blue",
      live: "green",
      warm: "green",
      keep: { green: sampleBuild(v2) },
      reuse: true,
    });
    expect(inputsOf("sample-app-verify-bake")).toMatchObject({ promoted: "blue", rollbackTo: "green" });
    const draft = inputsOf("sample-app-verify-bake")["record"] as { changes: { services: unknown[] } };
    expect(draft.changes.services).toEqual([
      { service: "sample-app", version: "1.0.0", color: "blue", previousColor: "green", restarted: false },
    ]);
  });

  const fullBake = {
    bakeTimeMs: 10_000,
    intervalMs: 250,
    maxErrorRate: 0.01,
    maxP95LatencyMs: 1000,
    requestTimeoutMs: 5_000,
  };
  const recordOf = (outcome: string): Record<string, RecordSummary> => ({
    [`CHG-100@1.0.0 ${v1.digest}`]: { id: "2026-11-22-chg-100", outcome, date: "2026-11-22T10:00:05.000Z" },
  });

  it("is fast-tracked when this very release succeeded before: a one-interval bake, shown to the policies and in the record", async () => {
    const { platform } = await release(v1, running, serviceSettings(31000), {}, recordOf("succeeded"));
    expect(platform.recordsRead).toEqual(["CHG-100@1.0.0"]);
    // The step gets the service's policy and the flag; it bakes the judge's short bake.
    expect(inputsOf("sample-app-verify-bake")).toMatchObject({ spec: fullBake, fastTrack: true });
    const written = inputsOf("release-record-write")["record"] as {
      results: Record<string, { verification: unknown }>;
    };
    expect(written.results["sample-app"]?.verification).toEqual({
      verdict: "passed",
      fastTrackBakeMs: 250,
      errorRate: 0,
      p95LatencyMs: 12,
      at: "2026-11-22T10:00:04.000Z",
    });
  });

  it("bakes rollbackBakeTimeMs when the service sets one, never longer than its full bake", async () => {
    const settings = (rollbackBakeTimeMs: number): Readonly<Record<string, ServiceSettings>> => {
      const base = serviceSettings(31000);
      const app = base["sample-app"];
      if (!app) throw new Error("the fixture has no sample-app");
      return { "sample-app": { ...app, verification: { ...app.verification, rollbackBakeTimeMs } } };
    };
    const bakeRecorded = () =>
      (inputsOf("release-record-write")["record"] as { results: Record<string, { verification: unknown }> })
        .results["sample-app"]?.verification;
    await release(v1, running, settings(2_000), {}, recordOf("succeeded"));
    expect(inputsOf("sample-app-verify-bake")).toMatchObject({
      spec: { ...fullBake, rollbackBakeTimeMs: 2_000 },
      fastTrack: true,
    });
    expect(bakeRecorded()).toMatchObject({ fastTrackBakeMs: 2_000 });
    mocks.registrations.length = 0;
    await release(v1, running, settings(60_000), {}, recordOf("succeeded"));
    expect(bakeRecorded()).toMatchObject({ fastTrackBakeMs: 10_000 });
  });

  it.each(["rolled-back", "failed"])(
    "bakes in full when the newest record of this release says %s",
    async (outcome) => {
      await release(v1, running, serviceSettings(31000), {}, recordOf(outcome));
      expect(inputsOf("sample-app-verify-bake")).toMatchObject({ spec: fullBake, fastTrack: false });
    },
  );

  it("bakes in full a warm build this release never recorded (an interrupted release), and a redeploy", async () => {
    await release(v1, running);
    expect(inputsOf("sample-app-verify-bake")).toMatchObject({ spec: fullBake, fastTrack: false });
    mocks.registrations.length = 0;
    // Blue no longer runs v1: a redeploy, however this release ended before.
    const { platform } = await release(
      v1,
      { active: "green", slots: { green: sampleBuild(v2) } },
      serviceSettings(31000),
      {},
      recordOf("succeeded"),
    );
    expect(platform.recordsRead).toEqual([]);
    expect(inputsOf("sample-app-verify-bake")).toMatchObject({ spec: fullBake, fastTrack: false });
  });
});

describe("a roll forward to a warm build that migrates (v1 live on blue, v2 still warm on green)", () => {
  it("backs up before the service as any release that changes data: the migration waits for the backup", async () => {
    await release(v2, { active: "blue", slots: { blue: sampleBuild(v1), green: sampleBuild(v2) } });
    expect(shapeOf(mocks.registrations).slice(head.length, head.length + backup.length + 4)).toEqual([
      ...backup,
      `shipgate:deploy:BlueGreenService sample-app <- release after [${serviceDeps}]`,
      `fake:step:router sample-app-router <- sample-app after [${serviceDeps}]`,
      `fake:step:slot sample-app-blue <- sample-app after [${serviceDeps}]`,
      `fake:step:migration sample-app-migrate <- sample-app after [${serviceDeps}, sample-app-router]`,
    ]);
    expect(registered(mocks.registrations, "sample-app-switch-route").dependsOn).toEqual([
      "sample-app-gate-checks",
    ]);
  });
});

describe("the recreate strategy (v2 live on green, v4 migrates incompatibly)", () => {
  const running: ObservedService = {
    active: "green",
    slots: { blue: sampleBuild(v1), green: sampleBuild(v2) },
  };

  it("stops the service behind the maintenance response before the backup, then migrates and restarts green in place", async () => {
    await release(v4, running);
    // The backup copies data nobody writes to any more: the notice and the maintenance window come first.
    const windowDeps = `${startDeps}, sample-app-maintenance, sample-app-maintenance-notice-send`;
    const deps = `${startDeps}, sample-app-backup-data, sample-app-maintenance, sample-app-maintenance-notice-send`;
    expect(shapeOf(mocks.registrations).slice(head.length)).toEqual([
      `shipgate:notify:Notification sample-app-maintenance-notice <- release after [${startDeps}]`,
      `fake:step:notification sample-app-maintenance-notice-send <- sample-app-maintenance-notice after [${startDeps}]`,
      `fake:step:maintenance sample-app-maintenance <- release after [${startDeps}, sample-app-maintenance-notice-send]`,
      `shipgate:backup:Backup sample-app-backup <- release after [${windowDeps}]`,
      `fake:step:backup sample-app-backup-data <- sample-app-backup after [${windowDeps}]`,
      `shipgate:deploy:BlueGreenService sample-app <- release after [${deps}]`,
      `fake:step:router sample-app-router <- sample-app after [${deps}]`,
      `fake:step:migration sample-app-migrate <- sample-app after [${deps}, sample-app-router]`,
      `fake:step:slot sample-app-green <- sample-app after [${deps}, sample-app-migrate, sample-app-router]`,
      ...tail("green", "sample-app-green, sample-app-migrate, sample-app-router"),
    ]);
    expect(inputsOf("sample-app-maintenance-notice-send")).toMatchObject({
      event: {
        stage: "maintenance",
        message: "The sample app is being upgraded and is back in a minute.",
        severity: "warning",
        audience: ["users", "support"],
      },
    });
    expect(inputsOf("sample-app-maintenance")).toEqual({
      service: "sample-app",
      stop: "green",
      release: stepRef({ changeId: "CHG-104", version: "4.0.0", key: "CHG-104@4.0.0" }, "green", {
        version: "2.0.0",
        color: "green",
      }),
      message: "The sample app is being upgraded and is back in a minute.",
    });
    expect(inputsOf("sample-app-migrate")["migrations"]).toEqual([
      "0002_add_created_at",
      "0003_rename_name_to_title",
    ]);
    expect(inputsOf("sample-app-verify-bake")).toMatchObject({ promoted: "green", rollbackTo: null });
  });

  it("opens no maintenance window on a first release: nothing serves users yet", async () => {
    await release(v4, nothingRuns);
    expect(mocks.registrations.filter((r) => r.type === "fake:step:maintenance")).toEqual([]);
    expect(inputsOf("sample-app-blue")["spec"]).toEqual(sampleBuild(v4));
  });
});

describe("rollback with data restore", () => {
  it("restores the backup behind a maintenance response, after the release's own backup and before the service", async () => {
    const running: ObservedService = {
      active: "green",
      slots: { blue: sampleBuild(v1), green: sampleBuild(v2) },
    };
    await release(v1, running, serviceSettings(31000), { restoreBackup: "CHG-101-2.0.0" });
    const restoreDeps = `${serviceDeps}, sample-app-restore-window`;
    const deps = `${serviceDeps}, sample-app-restore, sample-app-restore-window`;
    expect(
      shapeOf(mocks.registrations).slice(head.length + backup.length, head.length + backup.length + 4),
    ).toEqual([
      `fake:step:maintenance sample-app-restore-window <- release after [${serviceDeps}]`,
      `fake:step:restore sample-app-restore <- release after [${restoreDeps}]`,
      `shipgate:deploy:BlueGreenService sample-app <- release after [${deps}]`,
      `fake:step:router sample-app-router <- sample-app after [${deps}]`,
    ]);
    const ref = { changeId: "CHG-100", version: "1.0.0", key: "CHG-100@1.0.0+restore:CHG-101-2.0.0" };
    // Blue is warm with 1.0.0: the restore's release starts nothing anew.
    const step = stepRef(ref, "blue", { version: "2.0.0", color: "green" }, false);
    expect(inputsOf("sample-app-restore")).toEqual({
      service: "sample-app",
      backupId: "CHG-101-2.0.0",
      release: step,
    });
    expect(inputsOf("sample-app-restore-window")).toEqual({
      service: "sample-app",
      stop: null,
      release: step,
      message: "sample-app is being restored to 1.0.0. Please retry shortly.",
    });
    expect(inputsOf("sample-app-switch-route")["release"]).toEqual(step);
  });
});

describe("a stateless service", () => {
  it("takes no backup: the service follows the anchor and the first notice", async () => {
    await release(v1, nothingRuns, serviceSettings(31000, { stateful: false }));
    expect(mocks.registrations.filter((r) => r.name.includes("backup"))).toEqual([]);
    expect(shapeOf(mocks.registrations).slice(head.length, head.length + 3)).toEqual([
      `shipgate:deploy:BlueGreenService sample-app <- release after [${startDeps}]`,
      `fake:step:router sample-app-router <- sample-app after [${startDeps}]`,
      `fake:step:slot sample-app-blue <- sample-app after [${startDeps}, sample-app-router]`,
    ]);
    const written = inputsOf("release-record-write")["record"] as {
      results: Record<string, { backup: unknown }>;
    };
    expect(written.results["sample-app"]?.backup).toBeNull();
  });

  it("refuses a release that migrates its data, naming the setting to change", async () => {
    await expect(release(v2, nothingRuns, serviceSettings(31000, { stateful: false }))).rejects.toThrow(
      "sample-app: the release migrates data (0002_add_created_at) but has no backup to return to; " +
        "mark the service stateful in shipgate:services.sample-app.stateful",
    );
  });
});

describe("a stack or manifest that cannot be released", () => {
  it("names shipgate:services.<name> when the stack does not say how the service runs", async () => {
    await expect(release(v1, nothingRuns, {})).rejects.toThrow(
      'shipgate:services.sample-app: the manifest releases "sample-app" but the stack\'s config does not say how it runs',
    );
    expect(mocks.registrations.some((r) => r.type.startsWith("fake:step:slot"))).toBe(false);
  });

  it("names the artifact field when the manifest pins no digest", async () => {
    const [component] = v1.manifest.components;
    if (!component) throw new Error("v1 releases no component");
    const unpinned: LoadedManifest = {
      ...v1,
      manifest: {
        ...v1.manifest,
        components: [{ ...component, artifact: { source: component.artifact.source, version: "1.0.0" } }],
      },
    };
    await expect(release(unpinned, nothingRuns)).rejects.toThrow(
      "components.sample-app.artifact: expected both a version and a digest to deploy sample-app",
    );
  });
});

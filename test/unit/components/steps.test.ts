// Each one-step component on its own under Pulumi mocks, with a fake platform: its type token, its
// child's name and parent, the dependencies it hands on to the platform's step, the exact arguments
// of that step, and the outputs it takes from it.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type * as anchorModule from "../../../components/anchor";
import type * as backupModule from "../../../components/backup";
import type * as gateModule from "../../../components/health-gate";
import type { ReleaseRef } from "../../../components/platform";
import type { ResolvedHttpCheck as HttpCheckSpec } from "../../../contract";
import type * as recordModule from "../../../components/record";
import type * as notificationModule from "../../../components/notification";
import type * as switchModule from "../../../components/traffic-switch";
import type * as verificationModule from "../../../components/verification";
import { type RecordingMocks, installMocks, valueOf } from "../mocks";
import { FakePlatform, fakeBackupId } from "./fake-platform";
import { registered, sampleBuild, sampleManifest, shapeOf } from "./fixtures";

let mocks: RecordingMocks;
let components: typeof anchorModule &
  typeof backupModule &
  typeof gateModule &
  typeof recordModule &
  typeof notificationModule &
  typeof switchModule &
  typeof verificationModule;

/** A resource registered before the component, for it to depend on. */
class Before extends pulumi.CustomResource {
  constructor(name: string) {
    super("fake:test:Before", name, {});
  }
}

beforeAll(async () => {
  mocks = await installMocks({}, { stack: "unit" });
  components = {
    ...(await import("../../../components/anchor")),
    ...(await import("../../../components/backup")),
    ...(await import("../../../components/health-gate")),
    ...(await import("../../../components/record")),
    ...(await import("../../../components/notification")),
    ...(await import("../../../components/traffic-switch")),
    ...(await import("../../../components/verification")),
  };
});

beforeEach(() => {
  mocks.registrations.length = 0;
});

const release: ReleaseRef = { changeId: "CHG-100", version: "1.0.0", key: "CHG-100@1.0.0" };
const inputsOf = (name: string) => registered(mocks.registrations, name).inputs;
const checks: HttpCheckSpec[] = [
  { name: "health", kind: "technical", method: "GET", path: "/health", expect: { status: 200 } },
];

describe("ReleaseAnchor", () => {
  it("registers the evidence the approval policies read, every field as given, leaving the args alone", async () => {
    const v1 = sampleManifest("v1");
    const evidence = {
      changeId: "CHG-100",
      version: "1.0.0",
      deploymentType: "standard-partial",
      digest: v1.digest,
      manifest: v1.manifest,
      manifestPath: v1.path,
      stack: "unit",
    };
    const given = JSON.parse(JSON.stringify(evidence)) as unknown;
    const anchor = new components.ReleaseAnchor("rel-anchor", { evidence });
    await mocks.settle();
    expect(shapeOf(mocks.registrations)).toEqual([
      "shipgate:release:ReleaseAnchor rel-anchor <- (root) after []",
      "pulumi-nodejs:dynamic/shipgate/release:Evidence rel-anchor-evidence <- rel-anchor after []",
    ]);
    expect(components.evidenceType).toBe("pulumi-nodejs:dynamic/shipgate/release:Evidence");
    const { __provider, ...inputs } = inputsOf("rel-anchor-evidence");
    expect(typeof __provider).toBe("string");
    expect(inputs).toEqual(given);
    expect(evidence).toEqual(given);
    expect([anchor.changeId, anchor.version, anchor.digest]).toEqual(["CHG-100", "1.0.0", v1.digest]);
  });
});

describe("Backup", () => {
  it("asks the platform for one backup of the service, after what the backup depends on", async () => {
    const platform = new FakePlatform();
    const before = new Before("before-backup");
    const backup = new components.Backup(
      "web-backup",
      { platform, service: "web", release },
      { dependsOn: [before] },
    );
    await mocks.settle();
    expect(shapeOf(mocks.registrations)).toEqual([
      "fake:test:Before before-backup <- (root) after []",
      "shipgate:backup:Backup web-backup <- (root) after [before-backup]",
      "fake:step:backup web-backup-data <- web-backup after [before-backup]",
    ]);
    expect(inputsOf("web-backup-data")).toEqual({ service: "web", release });
    expect(platform.calls.map((c) => [c.method, c.name, c.opts.parent])).toEqual([
      ["backup", "web-backup-data", backup],
    ]);
    expect(await valueOf(backup.backupId)).toBe(fakeBackupId("web-backup-data"));
    expect(await valueOf(backup.digest)).toBe(`sha256:${"b".repeat(64)}`);
    expect(await valueOf(backup.createdAt)).toBe("2026-11-22T10:00:01.000Z");
  });
});

describe("HealthGate", () => {
  it("gates the candidate's own address with the checks and policy, without the platform in its inputs", async () => {
    const platform = new FakePlatform();
    const before = new Before("before-gate");
    const artifact = sampleBuild(sampleManifest("v1")).artifact;
    const policy = {
      consecutiveSuccesses: 2,
      failureThreshold: 4,
      intervalMs: 100,
      timeoutMs: 5000,
      requestTimeoutMs: 1000,
    };
    const gate = new components.HealthGate(
      "web-gate",
      {
        platform,
        service: "web",
        release,
        color: "green",
        target: pulumi.output("http://127.0.0.1:31002"),
        artifact,
        checks,
        policy,
      },
      { dependsOn: [before] },
    );
    await mocks.settle();
    expect(shapeOf(mocks.registrations)).toEqual([
      "fake:test:Before before-gate <- (root) after []",
      "shipgate:gate:HealthGate web-gate <- (root) after [before-gate]",
      "fake:step:gate web-gate-checks <- web-gate after [before-gate]",
    ]);
    expect(inputsOf("web-gate-checks")).toEqual({
      service: "web",
      release,
      color: "green",
      target: "http://127.0.0.1:31002",
      artifact,
      checks,
      policy,
    });
    expect(await valueOf(gate.rounds)).toBe(3);
    expect(await valueOf(gate.passedAt)).toBe("2026-11-22T10:00:02.000Z");
  });
});

describe("TrafficSwitch", () => {
  it("routes users to the colour at its address, after the gate", async () => {
    const platform = new FakePlatform();
    const gate = new Before("the-gate");
    const traffic = new components.TrafficSwitch(
      "web-switch",
      {
        platform,
        service: "web",
        release,
        color: "green",
        target: "http://127.0.0.1:31002",
        warmWindowMinutes: 45,
      },
      { dependsOn: [gate] },
    );
    await mocks.settle();
    expect(shapeOf(mocks.registrations)).toEqual([
      "fake:test:Before the-gate <- (root) after []",
      "shipgate:traffic:TrafficSwitch web-switch <- (root) after [the-gate]",
      "fake:step:trafficSwitch web-switch-route <- web-switch after [the-gate]",
    ]);
    expect(inputsOf("web-switch-route")).toEqual({
      service: "web",
      release,
      color: "green",
      target: "http://127.0.0.1:31002",
      warmWindowMinutes: 45,
    });
    expect(await valueOf(traffic.active)).toBe("green");
    expect(await valueOf(traffic.switchedAt)).toBe("2026-11-22T10:00:03.000Z");
  });
});

describe("PostPromotionVerification", () => {
  it("bakes on the users' address with where to roll back to and the record so far", async () => {
    const platform = new FakePlatform();
    const traffic = new Before("the-switch");
    const spec = {
      bakeTimeMs: 2000,
      intervalMs: 100,
      maxErrorRate: 0,
      maxP95LatencyMs: 300,
      requestTimeoutMs: 1000,
    };
    const verification = new components.PostPromotionVerification(
      "web-verify",
      {
        platform,
        service: "web",
        release,
        url: "http://127.0.0.1:31000",
        checks,
        spec,
        fastTrack: false,
        promoted: "green",
        rollbackTo: "blue",
        record: pulumi.output({ issue: { changeId: "CHG-100" } }),
      },
      { dependsOn: [traffic] },
    );
    await mocks.settle();
    expect(shapeOf(mocks.registrations)).toEqual([
      "fake:test:Before the-switch <- (root) after []",
      "shipgate:verify:PostPromotionVerification web-verify <- (root) after [the-switch]",
      "fake:step:verification web-verify-bake <- web-verify after [the-switch]",
    ]);
    expect(inputsOf("web-verify-bake")).toEqual({
      service: "web",
      release,
      url: "http://127.0.0.1:31000",
      checks,
      spec,
      fastTrack: false,
      promoted: "green",
      rollbackTo: "blue",
      record: { issue: { changeId: "CHG-100" } },
    });
    expect(await valueOf(verification.errorRate)).toBe(0);
    expect(await valueOf(verification.p95LatencyMs)).toBe(12);
    expect(await valueOf(verification.verifiedAt)).toBe("2026-11-22T10:00:04.000Z");
  });
});

describe("DeploymentRecord", () => {
  it("writes the record after every verification and answers where it is", async () => {
    const platform = new FakePlatform();
    const first = new Before("verify-a");
    const second = new Before("verify-b");
    const record = new components.DeploymentRecord(
      "rel-record",
      { platform, release, record: { outcome: "succeeded" } },
      { dependsOn: [first, second] },
    );
    await mocks.settle();
    expect(shapeOf(mocks.registrations).slice(2)).toEqual([
      "shipgate:record:DeploymentRecord rel-record <- (root) after [verify-a, verify-b]",
      "fake:step:record rel-record-write <- rel-record after [verify-a, verify-b]",
    ]);
    expect(inputsOf("rel-record-write")).toEqual({ release, record: { outcome: "succeeded" } });
    expect(await valueOf(record.location)).toBe("records/rel-record-write.md");
  });
});

describe("Notification", () => {
  it("sends the event of its stage through the platform", async () => {
    const platform = new FakePlatform();
    const before = new Before("the-record");
    const event = {
      stage: "completed" as const,
      message: "Release CHG-100@1.0.0 is live and verified.",
      severity: "info" as const,
      audience: ["users" as const, "team" as const],
    };
    new components.Notification("rel-complete", { platform, release, event }, { dependsOn: before });
    await mocks.settle();
    expect(shapeOf(mocks.registrations).slice(1)).toEqual([
      "shipgate:notify:Notification rel-complete <- (root) after [the-record]",
      "fake:step:notification rel-complete-send <- rel-complete after [the-record]",
    ]);
    expect(inputsOf("rel-complete-send")).toEqual({ release, event });
    expect(platform.calls).toHaveLength(1);
  });
});

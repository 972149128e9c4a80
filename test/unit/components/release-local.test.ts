// The Release component on the real LocalPlatform, under Pulumi mocks: the dynamic resources the
// local platform registers for each step (type tokens `pulumi-nodejs:dynamic/shipgate/local:<Kind>`),
// with the folders, ports, builds and ids the handlers will get. What the platform runs now is read
// from a temporary project folder, as observe() reads it at program time.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Release as ReleaseComponent } from "../../../components/release";
import type { LocalPlatform as Platform } from "../../../platforms/local";
import type { ServiceSettings } from "../../../config";
import { type RecordingMocks, type Registration, installMocks } from "../mocks";
import {
  type LoadedManifest,
  registered,
  sampleBuild,
  sampleManifest,
  serviceSettings,
  shapeOf,
} from "./fixtures";

/** What the local handlers add to a resource's state, so later steps get real-looking addresses. */
function localOutputs(registration: Registration): Record<string, unknown> {
  const inputs = registration.inputs;
  switch (registration.type) {
    case "pulumi-nodejs:dynamic/shipgate/local:Router":
    case "pulumi-nodejs:dynamic/shipgate/local:Slot":
      return { url: `http://127.0.0.1:${String(inputs["port"])}`, running: true };
    case "pulumi-nodejs:dynamic/shipgate/local:Backup":
      return { digest: `sha256:${"c".repeat(64)}`, createdAt: "2026-11-22T10:00:01.000Z" };
    case "pulumi-nodejs:dynamic/shipgate/local:Switch":
      return { active: inputs["color"], switchedAt: "2026-11-22T10:00:03.000Z" };
    case "pulumi-nodejs:dynamic/shipgate/local:Record":
      return { markdownPath: ".shipgate/unit/records/CHG.md" };
    default:
      return {};
  }
}

let mocks: RecordingMocks;
let Release: typeof ReleaseComponent;
let LocalPlatform: typeof Platform;
let projectDir: string;
const workDir = ".shipgate/unit";
const service = `${workDir}/services/sample-app`;

beforeAll(async () => {
  mocks = await installMocks({}, { stack: "unit", outputs: localOutputs });
  ({ Release } = await import("../../../components/release"));
  ({ LocalPlatform } = await import("../../../platforms/local"));
  projectDir = mkdtempSync(join(tmpdir(), "shipgate-release-local-"));
});

afterAll(() => {
  rmSync(projectDir, { recursive: true, force: true });
});

beforeEach(() => {
  mocks.registrations.length = 0;
  rmSync(join(projectDir, workDir), { recursive: true, force: true });
});

const v1 = sampleManifest("v1");
const v2 = sampleManifest("v2");
const v4 = sampleManifest("v4-recreate");

/** Puts the files observe() reads in place: the router's active colour and what each colour runs. */
function running(active: "blue" | "green", slots: Partial<Record<"blue" | "green", LoadedManifest>>): void {
  mkdirSync(join(projectDir, service, "router"), { recursive: true });
  writeFileSync(join(projectDir, service, "router", "state.json"), JSON.stringify({ active }));
  for (const [color, loaded] of Object.entries(slots)) {
    mkdirSync(join(projectDir, service, color), { recursive: true });
    writeFileSync(join(projectDir, service, color, "spec.json"), JSON.stringify(sampleBuild(loaded)));
  }
}

async function release(
  loaded: LoadedManifest,
  services: Readonly<Record<string, ServiceSettings>> = serviceSettings(31000),
): Promise<void> {
  new Release("release", {
    platform: new LocalPlatform({ projectDir, workDir, services }),
    manifest: loaded.manifest,
    digest: loaded.digest,
    manifestPath: loaded.path,
    stack: "unit",
    services,
  });
  await mocks.settle();
}

const local = (kind: string) => `pulumi-nodejs:dynamic/shipgate/local:${kind}`;
/** A local resource's inputs without its serialized provider, which must be there. */
function inputsOf(name: string): Record<string, unknown> {
  const { __provider, ...inputs } = registered(mocks.registrations, name).inputs;
  expect(typeof __provider).toBe("string");
  return inputs;
}
/** What every step of the service carries to record its own failure (platforms/local/failure-ops.ts). */
function failureInputs(
  release: { changeId: string; version: string; key: string },
  candidate: "blue" | "green",
  served: { version: string; color: "blue" | "green" } | null,
): Record<string, unknown> {
  return {
    failure: {
      service: "sample-app",
      release,
      record: inputsOf("sample-app-verify-bake")["record"],
      served,
      candidate,
      restarts: true,
      recordsDir: `${workDir}/records`,
      notificationsLog: `${workDir}/notifications.log`,
      adminPort: 31003,
    },
    webhookUrl: null,
  };
}
const localSteps = () =>
  shapeOf(mocks.registrations.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/shipgate/local:")));

describe("a release on the local platform", () => {
  it("first release: one local resource per step, blue on port+1, in the release's order", async () => {
    await release(v1);
    const start = "release-anchor-evidence, release-announce-send";
    const deps = `${start}, sample-app-backup-data`;
    expect(localSteps()).toEqual([
      `${local("Notification")} release-announce-send <- release-announce after [release-anchor-evidence]`,
      `${local("Backup")} sample-app-backup-data <- sample-app-backup after [${start}]`,
      `${local("Router")} sample-app-router <- sample-app after [${deps}]`,
      `${local("Slot")} sample-app-blue <- sample-app after [${deps}, sample-app-router]`,
      `${local("Gate")} sample-app-gate-checks <- sample-app-gate after [sample-app-blue, sample-app-router]`,
      // Outputs used as inputs add their resources to the dependencies: the slot's and router's URLs,
      // and every step's result in the record.
      `${local("Switch")} sample-app-switch-route <- sample-app-switch after [sample-app-blue, sample-app-gate-checks]`,
      `${local("Verification")} sample-app-verify-bake <- sample-app-verify after [sample-app-router, sample-app-switch-route]`,
      `${local("Record")} release-record-write <- release-record after [sample-app-backup-data, sample-app-gate-checks, sample-app-switch-route, sample-app-verify-bake]`,
      `${local("Notification")} release-complete-send <- release-complete after [release-record-write]`,
    ]);
    const failure = failureInputs(
      { changeId: "CHG-100", version: "1.0.0", key: "CHG-100@1.0.0" },
      "blue",
      null,
    );
    expect(inputsOf("sample-app-router")).toEqual({
      service: "sample-app",
      dir: `${service}/router`,
      port: 31000,
      adminPort: 31003,
    });
    expect(inputsOf("sample-app-blue")).toEqual({
      service: "sample-app",
      color: "blue",
      dir: `${service}/blue`,
      dataDir: `${workDir}/data/sample-app`,
      port: 31001,
      command: ["node", "server.mjs"],
      spec: sampleBuild(v1),
      artifactDir: ".shipgate/artifacts/sample-app/1.0.0",
      keepFailedBuilds: 0,
      ...failure,
    });
    expect(inputsOf("sample-app-backup-data")).toEqual({
      service: "sample-app",
      dataDir: `${workDir}/data/sample-app`,
      backupRoot: `${workDir}/backups/sample-app`,
      backupId: "CHG-100-1.0.0",
      keep: 5,
      ...failure,
    });
    expect(inputsOf("sample-app-gate-checks")).toMatchObject({
      service: "sample-app",
      releaseKey: "CHG-100@1.0.0",
      target: "http://127.0.0.1:31001",
      digest: sampleBuild(v1).artifact.digest,
      notificationsLog: `${workDir}/notifications.log`,
      slotDir: `${service}/blue`,
      keepFailedBuilds: 0,
      ...failure,
    });
    expect(inputsOf("sample-app-switch-route")).toEqual({
      service: "sample-app",
      releaseKey: "CHG-100@1.0.0",
      adminPort: 31003,
      color: "blue",
      target: "http://127.0.0.1:31001",
      warmWindowMinutes: 60,
      switchFile: `${service}/switch.json`,
      ...failure,
    });
    expect(inputsOf("sample-app-verify-bake")).toMatchObject({
      url: "http://127.0.0.1:31000",
      adminPort: 31003,
      promoted: "blue",
      rollbackTo: null,
      recordsDir: `${workDir}/records`,
      ...failure,
    });
    expect(inputsOf("release-record-write")).toMatchObject({
      releaseKey: "CHG-100@1.0.0",
      dir: `${workDir}/records`,
    });
    expect(inputsOf("release-announce-send")).toMatchObject({
      releaseKey: "CHG-100@1.0.0",
      changeId: "CHG-100",
      version: "1.0.0",
      logFile: `${workDir}/notifications.log`,
      webhookUrl: null,
    });
  });

  it("second release: reads blue from the working folder, keeps it unchanged and migrates before green starts", async () => {
    running("blue", { blue: v1 });
    await release(v2);
    const deps = "release-anchor-evidence, release-announce-send, sample-app-backup-data";
    expect(localSteps().slice(1, 6)).toEqual([
      `${local("Backup")} sample-app-backup-data <- sample-app-backup after [release-anchor-evidence, release-announce-send]`,
      `${local("Router")} sample-app-router <- sample-app after [${deps}]`,
      `${local("Slot")} sample-app-blue <- sample-app after [${deps}]`,
      `${local("Migration")} sample-app-migrate <- sample-app after [${deps}, sample-app-router]`,
      `${local("Slot")} sample-app-green <- sample-app after [${deps}, sample-app-migrate, sample-app-router]`,
    ]);
    expect(inputsOf("sample-app-blue")).toMatchObject({ port: 31001, spec: sampleBuild(v1) });
    expect(inputsOf("sample-app-green")).toMatchObject({
      port: 31002,
      spec: sampleBuild(v2),
      artifactDir: ".shipgate/artifacts/sample-app/2.0.0",
    });
    expect(inputsOf("sample-app-migrate")).toEqual({
      service: "sample-app",
      artifactDir: ".shipgate/artifacts/sample-app/2.0.0",
      digest: sampleBuild(v2).artifact.digest,
      migrations: ["0002_add_created_at"],
      dataDir: `${workDir}/data/sample-app`,
      backupId: "CHG-101-2.0.0",
      ...failureInputs({ changeId: "CHG-101", version: "2.0.0", key: "CHG-101@2.0.0" }, "green", {
        version: "1.0.0",
        color: "blue",
      }),
    });
    expect(inputsOf("sample-app-gate-checks")["target"]).toBe("http://127.0.0.1:31002");
    expect(inputsOf("sample-app-verify-bake")).toMatchObject({ promoted: "green", rollbackTo: "blue" });
  });

  it("recreate: the maintenance window stops the live colour by its pid file", async () => {
    running("green", { blue: v1, green: v2 });
    await release(v4);
    expect(mocks.registrations.filter((r) => r.type === local("Slot")).map((r) => r.name)).toEqual([
      "sample-app-green",
    ]);
    expect(inputsOf("sample-app-maintenance")).toEqual({
      service: "sample-app",
      releaseKey: "CHG-104@4.0.0",
      adminPort: 31003,
      message: "The sample app is being upgraded and is back in a minute.",
      stopPidFile: `${service}/green/app.pid.json`,
      ...failureInputs({ changeId: "CHG-104", version: "4.0.0", key: "CHG-104@4.0.0" }, "green", {
        version: "2.0.0",
        color: "green",
      }),
    });
    expect(registered(mocks.registrations, "sample-app-migrate").dependsOn).toContain(
      "sample-app-maintenance",
    );
  });

  it("a stateless service: no Backup resource", async () => {
    await release(v1, serviceSettings(31000, { stateful: false }));
    expect(mocks.registrations.filter((r) => r.type === local("Backup"))).toEqual([]);
    expect(registered(mocks.registrations, "sample-app-router").dependsOn).toEqual([
      "release-anchor-evidence",
      "release-announce-send",
    ]);
  });

  it("a service the stack does not describe: the platform names shipgate:services.<name>", () => {
    const platform = new LocalPlatform({ projectDir, workDir, services: serviceSettings(31000) });
    expect(() => platform.router("web-router", { service: "web" }, { parent: undefined as never })).toThrow(
      'shipgate:services.web: the manifest releases "web" but the stack\'s config does not say how it runs',
    );
  });
});

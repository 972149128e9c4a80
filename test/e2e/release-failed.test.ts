// Releases that fail, on the real engine, on a stack that serves the sample app 1.0.0 under a bounded
// load: a build that exits at start, one that never binds its port, one that answers the wrong
// version, one that answers 500s, and a data restore from a backup corrupted on disk. Each one fails
// the `up` with its own error, leaves exactly one new deployment record (outcome, stage, trigger,
// error, what users were served), tells the team and support (the notification log and a webhook
// receiver on loopback), and leaves users on 1.0.0 with no maintenance response. A release the
// policy pack or the program refuses records nothing, notifies no one and changes nothing.
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOfFiles, listTreeFilesSync } from "../../platforms/local/artifact-ops";
import { policiesForStack } from "../../policies/pack";
import { parseDeploymentRecord, type DeploymentRecord } from "../../platforms/local/record-ops";
import { root } from "../../scripts/lib/engine.mjs";
import {
  createReleaseStack,
  fetchLocal,
  filesUnder,
  policyPackPath,
  type ReleaseStack,
  snapshotStack,
  type StackSnapshot,
  testPort,
} from "./harness";
import { type LoadReport, startLoad, waitForRequests } from "./load";

const port = testPort(22000);
const served1 = '{"version":"1.0.0","schema":1}\n';

/** A webhook receiver on loopback: every event it was sent. */
async function webhookReceiver(): Promise<{
  url: string;
  events: Record<string, unknown>[];
  close(): Promise<void>;
}> {
  const events: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      events.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    events,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The local platform's resources of a snapshot's state (the steps that act on the machine). */
function platformSteps(snapshot: StackSnapshot): unknown[] {
  return (snapshot.resources as { type: string }[]).filter((resource) =>
    resource.type.startsWith("pulumi-nodejs:dynamic/shipgate/local:"),
  );
}

describe("a failed release leaves a record and a notice, and users on what served them", () => {
  let stack: ReleaseStack;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  /** The stack's own builds and manifests, which the tests edit (the shared ones stay as built). */
  let inputsDir: string;
  const recordsDir = () => join(stack.workDirPath, "records");
  const notificationsLog = () => join(stack.workDirPath, "notifications.log");

  const recordFiles = (): string[] =>
    readdirSync(recordsDir()).filter((name) => name.endsWith(".json") && name !== "latest.json");
  const notificationLines = (): Record<string, unknown>[] =>
    readFileSync(notificationsLog(), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    hook = await webhookReceiver();
    stack = await createReleaseStack({ port, prefix: "dev-e2e-rec" });
    inputsDir = join(root, ".shipgate", `${stack.name}-inputs`);
    mkdirSync(inputsDir, { recursive: true });
    cpSync(join(root, ".shipgate", "artifacts", "sample-app"), join(inputsDir, "artifacts"), {
      recursive: true,
    });
    await stack.configureService({ artifacts: `.shipgate/${stack.name}-inputs/artifacts` });
    await stack.stack.setConfig("shipgate:notifications", {
      value: JSON.stringify({ webhookUrl: hook.url }),
    });
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");
    expect((await fetchLocal(port, "/version")).body).toBe(served1);
  });

  afterAll(async () => {
    await stack?.dispose();
    await hook?.close();
    if (inputsDir) rmSync(inputsDir, { recursive: true, force: true });
  });

  /**
   * Build 2.0.0 edited by `edit` (its server.mjs and release.json), under a version folder of its
   * own, and a copy of v2.yaml that pins it: a build the manifest approves that fails when it runs.
   */
  const brokenManifest = (name: string, edit: (dir: string) => void): string => {
    const dir = join(inputsDir, "artifacts", name);
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(root, ".shipgate", "artifacts", "sample-app", "2.0.0"), dir, { recursive: true });
    edit(dir);
    const digest = digestOfFiles(listTreeFilesSync(dir));
    const manifest = readFileSync(join(root, "releases", "sample-app", "v2.yaml"), "utf8")
      .replace(/version: "2\.0\.0"\n(\s+)digest: \S+/, `version: "${name}"\n$1digest: ${digest}`)
      .replace('version: "2.0.0"', `version: "${name}"`);
    const file = join(inputsDir, `${name}.yaml`);
    writeFileSync(file, manifest);
    return `.shipgate/${stack.name}-inputs/${name}.yaml`;
  };

  interface Failed {
    readonly error: string;
    readonly record: DeploymentRecord;
    readonly markdown: string;
    readonly notices: Record<string, unknown>[];
    readonly webhook: Record<string, unknown>[];
    readonly load: LoadReport;
  }

  /** Runs an `up` that must fail, under load; what it left behind. */
  const failedRelease = async (manifest: string): Promise<Failed> => {
    const records = recordFiles();
    const lines = notificationLines().length;
    const sent = hook.events.length;
    await stack.stack.setConfig("shipgate:manifest", { value: manifest });
    const load = startLoad({ port, clients: 4, pauseMs: 20, maxDurationMs: 240_000 });
    await waitForRequests(load, 20);
    const error = await stack.stack.up({ refresh: true }).then(
      (up) => `expected the release to fail, but it ${up.summary.result}`,
      (failure: unknown) => (failure instanceof Error ? failure.message : String(failure)),
    );
    // Users go on being served after the failed update returns.
    await waitForRequests(load, 20);
    const report = await load.stop();
    expect(error).not.toMatch(/^expected the release to fail/);
    const added = recordFiles().filter((name) => !records.includes(name));
    expect(added).toHaveLength(1);
    const parsed = parseDeploymentRecord(
      JSON.parse(readFileSync(join(recordsDir(), added[0] ?? ""), "utf8")),
    );
    if (!parsed.ok) throw new Error(`the failure record is not valid: ${parsed.issues.join("; ")}`);
    const markdown = readFileSync(join(recordsDir(), (added[0] ?? "").replace(/\.json$/, ".md")), "utf8");
    return {
      error,
      record: parsed.value,
      markdown,
      notices: notificationLines().slice(lines),
      webhook: hook.events.slice(sent),
      load: report,
    };
  };

  /** What every failure before the switch leaves: users on 1.0.0 throughout, the team told, one record. */
  const expectUsersKeptAndTeamTold = async (
    failed: Failed,
    expected: { stage: string; trigger: string; version: string },
  ) => {
    const { record } = failed;
    expect(record.outcome).toBe("failed");
    expect(record.failure).toMatchObject({
      service: "sample-app",
      stage: expected.stage,
      trigger: expected.trigger,
      served: { version: "1.0.0", color: "blue" },
    });
    expect(record.release.version).toBe(expected.version);
    expect(record.activeColor).toBe("blue");
    expect(record.rollback).toBeNull();
    expect(record.timeline.at(-1)?.stage).toBe(`sample-app: ${expected.stage} failed (${expected.trigger})`);
    expect(failed.markdown).toContain(`- Stage: ${expected.stage}\n- Trigger: ${expected.trigger}`);
    expect(failed.error).toMatch(/Record: \.shipgate\/dev-e2e-rec-[0-9a-f]+\/records\/CHG-101-[^ ]+\.md\./);

    const failedNotices = failed.notices.filter((line) => line["stage"] === "failed");
    expect(failedNotices).toHaveLength(1);
    expect(failedNotices[0]).toMatchObject({
      type: "notification",
      severity: "critical",
      audience: ["team", "support"],
      release: { changeId: "CHG-101", version: expected.version },
    });
    expect(String(failedNotices[0]?.["message"])).toContain(
      `sample-app ${expected.version} failed at the ${expected.stage} step (${expected.trigger}); users are served 1.0.0 on blue.`,
    );
    expect(failed.webhook.map((event) => event["stage"])).toEqual(["starting", "failed"]);
    expect(failed.webhook[1]?.["message"]).toBe(failedNotices[0]?.["message"]);

    expect(failed.load.failures).toEqual([]);
    expect(Object.keys(failed.load.served)).toEqual(["blue 1.0.0"]);
    expect(await fetchLocal(port, "/version")).toMatchObject({ status: 200, color: "blue", body: served1 });
    expect(stack.routerState().active).toBe("blue");
  };

  it("a build that exits at start: stage start, trigger start-failure", async () => {
    const failed = await failedRelease(
      brokenManifest("2.0.0-exits", (dir) => {
        const server = join(dir, "server.mjs");
        writeFileSync(server, `process.exit(3);\n${readFileSync(server, "utf8")}`);
      }),
    );
    await expectUsersKeptAndTeamTold(failed, {
      stage: "start",
      trigger: "start-failure",
      version: "2.0.0-exits",
    });
    expect(failed.record.failure?.error).toContain("exited");
  });

  it("a build that never binds its port: stage start, trigger start-failure", async () => {
    const failed = await failedRelease(
      brokenManifest("2.0.0-mute", (dir) => {
        const server = join(dir, "server.mjs");
        writeFileSync(
          server,
          `await new Promise(() => setInterval(() => {}, 60_000));\n${readFileSync(server, "utf8")}`,
        );
      }),
    );
    await expectUsersKeptAndTeamTold(failed, {
      stage: "start",
      trigger: "start-failure",
      version: "2.0.0-mute",
    });
  });

  it("a build that answers another version: stage gate, the judge's trigger errors", async () => {
    const failed = await failedRelease(
      brokenManifest("2.0.0-wrong", (dir) => {
        const release = join(dir, "release.json");
        writeFileSync(
          release,
          readFileSync(release, "utf8").replace('"version": "2.0.0"', '"version": "9.9.9"'),
        );
      }),
    );
    await expectUsersKeptAndTeamTold(failed, { stage: "gate", trigger: "errors", version: "2.0.0-wrong" });
    expect(failed.record.verification.gates).toEqual([
      expect.objectContaining({ stage: "pre-promotion", verdict: "failed", trigger: "errors" }),
    ]);
  });

  it("a build whose health check answers 500: stage gate, trigger errors", async () => {
    const failed = await failedRelease("releases/sample-app/v3-broken.yaml");
    expect(failed.record.release.version).toBe("3.0.0");
    expect(failed.record.failure).toMatchObject({ stage: "gate", trigger: "errors" });
    expect(failed.load.failures).toEqual([]);
    expect(Object.keys(failed.load.served)).toEqual(["blue 1.0.0"]);
  });

  it("a restore from a backup corrupted on disk: refused by digest, maintenance lifted, users back on 1.0.0", async () => {
    // The failed releases above each took a backup of the data before they failed.
    const backupId = readdirSync(stack.paths.backupsDir).find((id) => id.startsWith("CHG-101-"));
    expect(backupId).toBeDefined();
    const dataDir = join(stack.paths.backupsDir, backupId ?? "", "data");
    const [file] = filesUnder(dataDir);
    expect(file).toBeDefined();
    appendFileSync(join(dataDir, file ?? ""), "corrupted on disk\n");
    await stack.stack.setConfig("shipgate:restoreBackup", { value: backupId ?? "" });

    const records = recordFiles();
    const lines = notificationLines().length;
    const sent = hook.events.length;
    await stack.stack.setConfig("shipgate:manifest", { value: "releases/sample-app/v1.yaml" });
    const load = startLoad({ port, clients: 4, pauseMs: 20, maxDurationMs: 240_000 });
    await waitForRequests(load, 20);
    const error = await stack.stack.up({ refresh: true }).then(
      () => "expected the restore to fail",
      (failure: unknown) => (failure instanceof Error ? failure.message : String(failure)),
    );
    await waitForRequests(load, 20);
    const report = await load.stop();

    expect(error).toContain(
      `restoring backup ${backupId} of sample-app failed, and the data was left as it was`,
    );
    expect(error).toContain("The maintenance response is lifted: users are served 1.0.0 on blue.");
    const added = recordFiles().filter((name) => !records.includes(name));
    expect(added).toHaveLength(1);
    const parsed = parseDeploymentRecord(
      JSON.parse(readFileSync(join(recordsDir(), added[0] ?? ""), "utf8")),
    );
    expect(parsed.ok && parsed.value.outcome).toBe("failed");
    expect(parsed.ok && parsed.value.failure).toMatchObject({
      stage: "restore",
      trigger: "restore-failure",
      served: { version: "1.0.0", color: "blue" },
    });
    const failedNotices = notificationLines()
      .slice(lines)
      .filter((line) => line["stage"] === "failed");
    expect(failedNotices).toHaveLength(1);
    expect(hook.events.slice(sent).map((event) => event["stage"])).toEqual(["starting", "failed"]);
    // Only the maintenance response (503) while the restore was tried; every request after the
    // failed update was answered by 1.0.0.
    expect(report.failures.every((failure) => failure.status === 503)).toBe(true);
    expect(report.responses.slice(-20).map((response) => response.version)).toEqual(Array(20).fill("1.0.0"));
    expect(stack.routerState()).toMatchObject({ active: "blue", maintenance: { enabled: false } });
    expect(await fetchLocal(port, "/version")).toMatchObject({ status: 200, body: served1 });
    await stack.stack.removeConfig("shipgate:restoreBackup");
  });

  it("a release the policy pack refuses records nothing, tells no one and changes nothing", async () => {
    await stack.stack.setConfig("shipgate:manifest", { value: "releases/sample-app/v2.yaml" });
    const before = await snapshotStack(stack);
    const sent = hook.events.length;
    // The pipeline's policy config at a production stack's levels (on a development stack the pack
    // only advises): the sample manifests carry no approvals, which its approval policies refuse.
    const config = join(inputsDir, "policy-config.json");
    writeFileSync(
      config,
      JSON.stringify(
        Object.fromEntries(
          policiesForStack("production").map((policy) => [
            policy.name,
            { enforcementLevel: policy.enforcementLevel },
          ]),
        ),
      ),
    );
    const refused = await stack.stack.up({ policyPacks: [policyPackPath], policyPackConfigs: [config] }).then(
      () => "expected the policy pack to refuse the release",
      (failure: unknown) => (failure instanceof Error ? failure.message : String(failure)),
    );
    expect(refused).toContain("[mandatory]");
    expect(refused).toContain("approvals-verified");
    // Processes, files (records and notification log included), what users get and every step of
    // the platform in the state are as they were. The engine does store the refused evidence's new
    // inputs and the components' outputs: state only, no effect.
    const after = await snapshotStack(stack);
    expect({ ...after, resources: platformSteps(after) }).toEqual({
      ...before,
      resources: platformSteps(before),
    });
    expect(hook.events.length).toBe(sent);
  });

  it("a release the program refuses records nothing, tells no one and changes nothing", async () => {
    const manifest = brokenManifest("2.0.0-edited", () => undefined);
    appendFileSync(
      join(inputsDir, "artifacts", "2.0.0-edited", "server.mjs"),
      "\n// edited after approval\n",
    );
    await stack.stack.setConfig("shipgate:manifest", { value: manifest });
    const before = await snapshotStack(stack);
    const sent = hook.events.length;
    const refused = await stack.stack.up().then(
      () => "expected the program to refuse the release",
      (failure: unknown) => (failure instanceof Error ? failure.message : String(failure)),
    );
    expect(refused).toContain("but the manifest pins");
    expect(refused).toContain("Nothing was changed");
    expect(await snapshotStack(stack)).toEqual(before);
    expect(hook.events.length).toBe(sent);
  });
});

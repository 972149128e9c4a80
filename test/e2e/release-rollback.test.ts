// Rollback on the real engine: releasing an earlier manifest whose build still runs in the warm
// colour is a routing change (no slot restarts), and rollback with data restore puts the release's
// backup back, identical to the backup by checksum.
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { treeDigest } from "../../platforms/local/artifact-ops";
import { localType } from "../../platforms/local";
import {
  addItem,
  createReleaseStack,
  fetchLocal,
  readJsonFile,
  type ReleaseStack,
  testPort,
} from "./harness";

const port = testPort(21010);

/** The operation the engine did on each local resource of `kind` during an update. */
function opsOn(
  events: readonly EngineEvent[],
  kind: "Slot" | "Restore" | "Switch" | "Backup" | "Record",
): Record<string, string> {
  const ops: Record<string, string> = {};
  for (const event of events) {
    const metadata = event.resOutputsEvent?.metadata;
    if (metadata?.type === localType(kind)) ops[metadata.urn.split("::").pop() ?? metadata.urn] = metadata.op;
  }
  return ops;
}

describe("rollback of the sample app on the local platform", () => {
  let stack: ReleaseStack;

  beforeAll(async () => {
    stack = await createReleaseStack({ port });
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it("releases v1 then v2, each with data written while it is live", async () => {
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");
    // v1 is live and its record says it succeeded: an up of it again is a no-op (nothing verifies
    // again, no other record), though the same release run as a rollback would be fast-tracked.
    const again = await stack.release("v1.yaml");
    expect(again.summary.resourceChanges).toEqual({ same: again.summary.resourceChanges?.["same"] });
    // And a preview knows it: every step's outputs it quotes are in the state.
    const preview = await stack.stack.preview({ expectNoChanges: true });
    expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
    await addItem(port, "written by 1.0.0");
    const up = await stack.release("v2.yaml");
    expect(up.outputs["activeColor"]?.value).toBe("green");
    await addItem(port, "written by 2.0.0");
    expect((await fetchLocal(port, "/version")).body).toBe('{"version":"2.0.0","schema":2}\n');
  });

  it("rolls back to v1 by routing to the warm colour, without restarting a slot", async () => {
    const pids = { blue: stack.slotPid("blue"), green: stack.slotPid("green") };
    expect(pids.blue).toBeGreaterThan(0);
    const events: EngineEvent[] = [];
    const up = await stack.release("v1.yaml", { onEvent: (event) => events.push(event) });

    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["activeColor"]?.value).toBe("blue");
    expect(up.outputs["liveVersion"]?.value).toBe("1.0.0");
    expect(opsOn(events, "Slot")).toEqual({ "sample-app-blue": "same", "sample-app-green": "same" });
    expect(opsOn(events, "Switch")).toEqual({ "sample-app-switch-route": "update" });
    expect({ blue: stack.slotPid("blue"), green: stack.slotPid("green") }).toEqual(pids);
    expect(stack.routerState().active).toBe("blue");
    // v1 succeeded in this very release before and blue still runs it: the bake after the switch is
    // fast-tracked to one interval (100 ms here, against the stack's 3000 ms), and the record says so.
    const state = await stack.stack.exportStack();
    const bake = state.deployment.resources.find((r: { urn: string }) =>
      r.urn.endsWith("::sample-app-verify-bake"),
    ) as
      | {
          inputs: { fastTrack: boolean; spec: { bakeTimeMs: number } };
          outputs: { fastTrackBakeMs?: number };
        }
      | undefined;
    expect(bake?.inputs.fastTrack).toBe(true);
    expect(bake?.inputs.spec.bakeTimeMs).toBe(3000);
    expect(bake?.outputs.fastTrackBakeMs).toBe(100);
    const latest = readJsonFile<{ outcome: string; verification: { gates: { summary: string }[] } }>(
      join(stack.workDirPath, "records", "latest.json"),
    );
    expect(latest?.outcome).toBe("succeeded");
    expect(latest?.verification.gates.map((gate) => gate.summary)).toEqual([
      expect.stringMatching(/^passed after \d+ rounds$/),
      expect.stringMatching(
        /^passed: error rate 0\.00% \(fast-tracked rollback: 100 ms bake, as this release succeeded before\)$/,
      ),
    ]);
    expect(await fetchLocal(port, "/version")).toEqual({
      status: 200,
      color: "blue",
      body: '{"version":"1.0.0","schema":1}\n',
    });
    // 1.0.0 reads the data 2.0.0 migrated: nothing written under 2.0.0 is lost by a routing rollback.
    expect(JSON.parse((await fetchLocal(port, "/items")).body)).toEqual({
      items: [
        { id: 1, name: "written by 1.0.0" },
        { id: 2, name: "written by 2.0.0" },
      ],
    });
  });

  it("after the rollback, releasing v1 again changes nothing: no other backup, no other record", async () => {
    // The rollback's backup took a suffixed id (1.0.0's first release has one): it is still this
    // release's backup, so the stack converges.
    const events: EngineEvent[] = [];
    const up = await stack.release("v1.yaml", { onEvent: (event) => events.push(event) });
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges).toEqual({ same: up.summary.resourceChanges?.["same"] });
    expect(opsOn(events, "Backup")).toEqual({ "sample-app-backup-data": "same" });
    expect(opsOn(events, "Record")).toEqual({ "release-record-write": "same" });
  });

  it("rolls forward to v2 the same way: green was kept warm", async () => {
    const pids = { blue: stack.slotPid("blue"), green: stack.slotPid("green") };
    const events: EngineEvent[] = [];
    const up = await stack.release("v2.yaml", { onEvent: (event) => events.push(event) });
    expect(up.outputs["activeColor"]?.value).toBe("green");
    const latest = readJsonFile<{ verification: { gates: { summary: string }[] } }>(
      join(stack.workDirPath, "records", "latest.json"),
    );
    // v2 runs a migration, so this release changes data: it bakes in full, never fast-tracked.
    expect(latest?.verification.gates[1]?.summary).toBe("passed: error rate 0.00%");
    expect(opsOn(events, "Slot")).toEqual({ "sample-app-blue": "same", "sample-app-green": "same" });
    expect({ blue: stack.slotPid("blue"), green: stack.slotPid("green") }).toEqual(pids);
  });

  it("rolls back to v1 with the data restored from v2's backup, identical by checksum", async () => {
    const backupId = "CHG-101-2.0.0";
    const backupDir = join(stack.paths.backupsDir, backupId);
    const manifest = readJsonFile<{ backupId: string; digest: string; fileCount: number }>(
      join(backupDir, "manifest.json"),
    );
    expect(manifest?.backupId).toBe(backupId);
    expect(manifest?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await treeDigest(join(backupDir, "data"))).toBe(manifest?.digest);
    // The data now differs from the backup (2.0.0 migrated it and wrote an item).
    expect(await treeDigest(stack.paths.dataDir)).not.toBe(manifest?.digest);

    await stack.stack.setConfig("shipgate:restoreBackup", { value: backupId });
    const events: EngineEvent[] = [];
    const up = await stack.release("v1.yaml", { onEvent: (event) => events.push(event) });

    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["activeColor"]?.value).toBe("blue");
    expect(opsOn(events, "Restore")).toEqual({ "sample-app-restore": "create" });
    expect(await treeDigest(stack.paths.dataDir)).toBe(manifest?.digest);
    expect(JSON.parse((await fetchLocal(port, "/items")).body)).toEqual({
      items: [{ id: 1, name: "written by 1.0.0" }],
    });
    expect(JSON.parse((await fetchLocal(port, "/version")).body)).toEqual({ version: "1.0.0", schema: 1 });
  });
});

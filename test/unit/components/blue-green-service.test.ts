// BlueGreenService under Pulumi mocks with a fake platform: which colours it declares for each plan,
// the order of router, maintenance, migration and candidate slot, and its refusal to migrate data
// without a backup.
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BlueGreenService as Service } from "../../../components/blue-green-service";
import { type ColorPlan, planColors } from "../../../components/colors";
import type { ReleaseRef, SlotSpec } from "../../../components/platform";
import { type RecordingMocks, installMocks, valueOf } from "../mocks";
import { FakePlatform, fakeUrl } from "./fake-platform";
import { registered, sampleBuild, sampleManifest, shapeOf } from "./fixtures";

let mocks: RecordingMocks;
let BlueGreenService: typeof Service;

beforeAll(async () => {
  mocks = await installMocks({}, { stack: "unit" });
  ({ BlueGreenService } = await import("../../../components/blue-green-service"));
});

beforeEach(() => {
  mocks.registrations.length = 0;
});

const v1 = sampleBuild(sampleManifest("v1"));
const v2 = sampleBuild(sampleManifest("v2"));
const v4 = sampleBuild(sampleManifest("v4-recreate"));
const release: ReleaseRef = { changeId: "CHG-101", version: "2.0.0", key: "CHG-101@2.0.0" };
const inputsOf = (name: string) => registered(mocks.registrations, name).inputs;

async function deploy(
  plan: ColorPlan,
  build: SlotSpec,
  more: { migrations?: string[]; backupId?: string } = {},
): Promise<{ service: Service; platform: FakePlatform }> {
  const platform = new FakePlatform();
  const service = new BlueGreenService("web", {
    platform,
    service: "web",
    plan,
    build,
    migrations: more.migrations ?? [],
    release,
    ...(more.backupId ? { backupId: more.backupId } : {}),
  });
  await mocks.settle();
  return { service, platform };
}

describe("BlueGreenService", () => {
  it("first release: the router and blue, nothing else", async () => {
    const { service } = await deploy(planColors({ active: null, slots: {} }, v1, "blue-green"), v1);
    expect(shapeOf(mocks.registrations)).toEqual([
      "shipgate:deploy:BlueGreenService web <- (root) after []",
      "fake:step:router web-router <- web after []",
      "fake:step:slot web-blue <- web after [web-router]",
    ]);
    expect(inputsOf("web-router")).toEqual({ service: "web" });
    expect(inputsOf("web-blue")).toEqual({ service: "web", color: "blue", spec: v1, release });
    expect(await valueOf(service.url)).toBe(fakeUrl("web-router"));
    expect(await valueOf(service.candidateUrl)).toBe(fakeUrl("web-blue"));
  });

  it("second release: blue kept exactly as it runs, green migrated after the router and started after the migration", async () => {
    const plan = planColors({ active: "blue", slots: { blue: v1 } }, v2, "blue-green");
    const { service } = await deploy(plan, v2, {
      migrations: ["0002_add_created_at"],
      backupId: "CHG-101-2.0.0",
    });
    expect(shapeOf(mocks.registrations)).toEqual([
      "shipgate:deploy:BlueGreenService web <- (root) after []",
      "fake:step:router web-router <- web after []",
      "fake:step:slot web-blue <- web after []",
      "fake:step:migration web-migrate <- web after [web-router]",
      "fake:step:slot web-green <- web after [web-migrate, web-router]",
    ]);
    expect(inputsOf("web-blue")).toEqual({ service: "web", color: "blue", spec: v1, release });
    expect(inputsOf("web-migrate")).toEqual({
      service: "web",
      artifact: v2.artifact,
      migrations: ["0002_add_created_at"],
      backupId: "CHG-101-2.0.0",
      release,
    });
    expect(inputsOf("web-green")).toEqual({ service: "web", color: "green", spec: v2, release });
    expect(await valueOf(service.candidateUrl)).toBe(fakeUrl("web-green"));
  });

  it("rollback to the warm colour: both colours re-declared as they run, no migration", async () => {
    const plan = planColors({ active: "green", slots: { blue: v1, green: v2 } }, v1, "blue-green");
    expect(plan.reuse).toBe(true);
    await deploy(plan, v1);
    expect(shapeOf(mocks.registrations)).toEqual([
      "shipgate:deploy:BlueGreenService web <- (root) after []",
      "fake:step:router web-router <- web after []",
      "fake:step:slot web-green <- web after []",
      "fake:step:slot web-blue <- web after [web-router]",
    ]);
    expect(inputsOf("web-blue")["spec"]).toEqual(v1);
    expect(inputsOf("web-green")["spec"]).toEqual(v2);
  });

  it("recreate: the colour the release stopped is migrated and started again in place", async () => {
    // The maintenance window that stops green is the Release's (before its backup), not the service's.
    const plan = planColors({ active: "green", slots: { blue: v1, green: v2 } }, v4, "recreate");
    await deploy(plan, v4, { migrations: ["0003_rename_name_to_title"], backupId: "CHG-104-4.0.0" });
    expect(shapeOf(mocks.registrations)).toEqual([
      "shipgate:deploy:BlueGreenService web <- (root) after []",
      "fake:step:router web-router <- web after []",
      "fake:step:migration web-migrate <- web after [web-router]",
      "fake:step:slot web-green <- web after [web-migrate, web-router]",
    ]);
  });

  it("recreate of a build the colour already runs: the router and that colour, nothing else", async () => {
    const plan = planColors({ active: "green", slots: { green: v4 } }, v4, "recreate");
    await deploy(plan, v4);
    expect(mocks.registrations.map((r) => r.name)).toEqual(["web", "web-router", "web-green"]);
  });

  it("refuses to migrate without a backup, naming the setting", async () => {
    const plan = planColors({ active: "blue", slots: { blue: v1 } }, v2, "blue-green");
    await expect(deploy(plan, v2, { migrations: ["0002_add_created_at"] })).rejects.toThrow(
      "web: the release migrates data (0002_add_created_at) but has no backup to return to; " +
        "mark the service stateful in shipgate:services.web.stateful",
    );
  });
});

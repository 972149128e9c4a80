// observe() against moto_server: which colour the production rule sends users to, when they moved,
// and each colour's slot spec read back from its ECS service's task definition, with read-only calls.
import { beforeAll, describe, expect, it } from "vitest";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { ecsClient, elbClient } from "../../platforms/aws/ops/clients";
import { observeAwsService } from "../../platforms/aws/ops/observe";
import { ruleTags, switchTraffic } from "../../platforms/aws/ops/traffic";
import { awsNames, slotSpecLabel } from "../../platforms/aws/names";
import { serviceRoute } from "./alb";
import { emulatorTarget, network } from "./aws";

const target = emulatorTarget("us-west-2");
const elb = elbClient(target);
const ecs = ecsClient(target);
const names = awsNames("obs", "shop");
const args = { prefix: "obs", service: "shop", cluster: "prod", productionPort: 80 };
let route: Awaited<ReturnType<typeof serviceRoute>>;

const spec = (version: string) => ({
  version,
  artifact: {
    source: "registry.example.com/shop",
    version,
    digest: `sha256:${version.replace(/\./g, "").padEnd(64, "0")}`,
  },
  env: { FEATURE_X: "on" },
});

async function declareSlot(color: "blue" | "green", version: string) {
  const definition = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: names.family(color),
      containerDefinitions: [
        {
          name: "shop",
          image: `registry.example.com/shop@${spec(version).artifact.digest}`,
          memory: 512,
          dockerLabels: { [slotSpecLabel]: JSON.stringify(spec(version)) },
        },
      ],
    }),
  );
  await ecs.send(
    new CreateServiceCommand({
      cluster: "prod",
      serviceName: names.ecsService(color),
      taskDefinition: definition.taskDefinition?.taskDefinitionArn,
      desiredCount: 1,
    }),
  );
}

beforeAll(async () => {
  await ecs.send(new CreateClusterCommand({ clusterName: "prod" }));
});

describe("observeAwsService", () => {
  it("sees a first release where AWS has nothing of the service", async () => {
    expect(await observeAwsService({ elb, ecs }, args)).toEqual({
      active: null,
      slots: {},
      switchedAt: null,
      rolledBackAt: null,
      maintenance: false,
    });
  });

  it("reads the live colour, the switch time, a switch back and both colours' slot specs", async () => {
    const net = await network(target);
    route = await serviceRoute(elb, { prefix: "obs", service: "shop", ...net, port: 80, initial: "blue" });
    await declareSlot("blue", "1.0.0");
    await declareSlot("green", "2.0.0");
    const moved = await switchTraffic(elb, { ...route, color: "green" });
    expect(await observeAwsService({ elb, ecs }, args)).toEqual({
      active: "green",
      slots: { blue: spec("1.0.0"), green: spec("2.0.0") },
      switchedAt: moved.switchedAt,
      rolledBackAt: null,
      maintenance: false,
    });
    await switchTraffic(elb, {
      ...route,
      color: "blue",
      extraTags: {
        [ruleTags.rolledBackAt]: "2026-11-30T17:05:00.000Z",
        [ruleTags.rollbackTrigger]: "errors",
      },
    });
    expect(await observeAwsService({ elb, ecs }, args)).toMatchObject({
      active: "blue",
      rolledBackAt: "2026-11-30T17:05:00.000Z",
    });
  });

  it("does not count a deleted colour's service", async () => {
    await ecs.send(
      new DeleteServiceCommand({ cluster: "prod", service: names.ecsService("green"), force: true }),
    );
    const observed = await observeAwsService({ elb, ecs }, args);
    expect(Object.keys(observed.slots)).toEqual(["blue"]);
  });

  it("treats a cluster that does not exist as a service with no slots", async () => {
    expect((await observeAwsService({ elb, ecs }, { ...args, cluster: "nothing" })).slots).toEqual({});
  });
});

// Migration and smoke tasks against moto_server: RunTask on Fargate in a VPC, DescribeTasks until
// STOPPED, and the essential containers' exit codes. moto reports every container's exit code as 0,
// so failing exit codes are judged in the unit tests of taskOutcome.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { ecsClient } from "../../platforms/aws/ops/clients";
import { startTask, waitForTask } from "../../platforms/aws/ops/task";
import { emulatorTarget, network } from "./aws";

const target = emulatorTarget("ap-southeast-2");
const ecs = ecsClient(target);
let net: Awaited<ReturnType<typeof network>>;
let taskDefinition = "";

beforeAll(async () => {
  net = await network(target);
  await ecs.send(new CreateClusterCommand({ clusterName: "releases" }));
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "shop-migrate",
      // The platform's task definitions use awsvpc; moto 5.2.1 fails to make an awsvpc task's network
      // interface (AttributeError: private_dns_name), so this one keeps the default network mode.
      // RunTask is called exactly as for awsvpc, network configuration included.
      networkMode: "bridge",
      cpu: "256",
      memory: "512",
      containerDefinitions: [
        {
          name: "shop",
          image: "registry.example.com/shop@sha256:" + "a".repeat(64),
          essential: true,
          // moto sums container-level cpu and memory to place a task (Fargate itself uses the task's).
          cpu: 256,
          memory: 512,
        },
      ],
    }),
  );
  taskDefinition = registered.taskDefinition?.taskDefinitionArn ?? "";
});

/** moto moves a task one state on per DescribeTasks; "manual" with many steps keeps it RUNNING. */
async function taskProgression(progression: "immediate" | "held") {
  const endpoint = target.endpoint ?? "";
  const path = progression === "held" ? "set-transition" : "unset-transition";
  const body =
    progression === "held"
      ? { model_name: "ecs::task", transition: { progression: "manual", times: 1_000_000 } }
      : { model_name: "ecs::task" };
  const response = await fetch(`${endpoint}/moto-api/state-manager/${path}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

const run = (startedBy: string) =>
  startTask(ecs, {
    cluster: "releases",
    taskDefinition,
    subnets: net.subnets,
    securityGroups: [net.securityGroup],
    assignPublicIp: false,
    container: { name: "shop", command: ["node", "migrate.mjs"], environment: { MIGRATIONS: "0002" } },
    startedBy,
  });

describe("startTask and waitForTask", () => {
  afterEach(() => taskProgression("immediate"));

  it("runs the task, follows it until STOPPED and judges the essential container's exit code", async () => {
    const started = await run("shipgate CHG-102@2.0.0 migration");
    expect(started.taskArn).toMatch(/:task\//);
    expect([...started.essential]).toEqual(["shop"]);
    const statuses: string[] = [];
    const result = await waitForTask(
      ecs,
      { cluster: "releases", taskArn: started.taskArn, essential: started.essential },
      { timeoutMs: 60_000, pollMs: 50, onProgress: (status) => statuses.push(status) },
    );
    // moto moves the task through ECS's stopping states itself, one per DescribeTasks.
    expect(statuses).toEqual(["DEACTIVATING", "STOPPING", "DEPROVISIONING"]);
    expect(result).toMatchObject({ taskArn: started.taskArn, ok: true });
    expect(result.containers).toEqual([{ name: "shop", essential: true, exitCode: 0, reason: null }]);
  });

  it("waits for a task that keeps running until it is stopped", async () => {
    await taskProgression("held");
    const started = await run("shipgate smoke");
    const statuses: string[] = [];
    const outcome = waitForTask(
      ecs,
      { cluster: "releases", taskArn: started.taskArn, essential: started.essential },
      { timeoutMs: 60_000, pollMs: 50, onProgress: (status) => statuses.push(status) },
    );
    await expect.poll(() => statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === "RUNNING")).toBe(true);
    // Held by the state manager, moto's task never ends by itself: the test stops it through the ECS
    // API, as its container's exit would.
    await ecs.send(
      new StopTaskCommand({
        cluster: "releases",
        task: started.taskArn,
        reason: "Essential container in task exited",
      }),
    );
    expect(await outcome).toMatchObject({ ok: true, stoppedReason: "Essential container in task exited" });
  });

  it("stops a task that outlives its deadline and fails, naming it", async () => {
    await taskProgression("held");
    const started = await run("shipgate smoke");
    await expect(
      waitForTask(
        ecs,
        { cluster: "releases", taskArn: started.taskArn, essential: started.essential },
        { timeoutMs: 300, pollMs: 100 },
      ),
    ).rejects.toThrow(
      `task ${started.taskArn} did not stop within 0 s (last status: RUNNING); it was stopped`,
    );
    const after = await ecs.send(new DescribeTasksCommand({ cluster: "releases", tasks: [started.taskArn] }));
    expect(after.tasks?.[0]).toMatchObject({ lastStatus: "STOPPED", desiredStatus: "STOPPED" });
  });

  it("says what to check when ECS starts nothing", async () => {
    await expect(
      startTask(ecs, {
        cluster: "releases",
        taskDefinition: "no-such-family:1",
        subnets: net.subnets,
        securityGroups: [net.securityGroup],
        assignPublicIp: false,
        container: { name: "shop" },
        startedBy: "shipgate",
      }),
    ).rejects.toThrow(/no-such-family/);
  });
});

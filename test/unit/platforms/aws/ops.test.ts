// The aws step modules' pure parts: the task verdict from exit codes, the load balancer metrics'
// judgement, the snapshot identifier and reading a rule's actions.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { judgeAlbMetrics } from "../../../../contract";
import { dimensionOf, metricWindow } from "../../../../platforms/aws/ops/metrics";
import { snapshotIdentifier } from "../../../../platforms/aws/ops/snapshot";
import { taskOutcome } from "../../../../platforms/aws/ops/task";
import { forwardAction, maintenanceAction, routeOf } from "../../../../platforms/aws/ops/traffic";

const groups = { blue: "arn:tg/blue", green: "arn:tg/green" };

describe("taskOutcome", () => {
  const essential = new Set(["app"]);
  it("passes when every essential container exited with 0, whatever a sidecar did", () => {
    const outcome = taskOutcome(
      {
        taskArn: "arn:task/1",
        lastStatus: "STOPPED",
        stopCode: "EssentialContainerExited",
        containers: [
          { name: "app", exitCode: 0 },
          { name: "log-router", exitCode: 137 },
        ],
      },
      essential,
    );
    expect(outcome).toMatchObject({
      ok: true,
      summary: "every essential container exited with 0 (app, log-router)",
    });
  });

  it("fails on an essential container's non-zero exit code, naming it", () => {
    expect(
      taskOutcome({ taskArn: "t", containers: [{ name: "app", exitCode: 3 }] }, essential),
    ).toMatchObject({ ok: false, summary: "container app exited with 3" });
  });

  it("fails when an essential container has no exit code or the task never started", () => {
    expect(
      taskOutcome(
        {
          taskArn: "t",
          stopCode: "TaskFailedToStart",
          stoppedReason: "CannotPullContainerError",
          containers: [{ name: "app", reason: "CannotPullContainerError" }],
        },
        essential,
      ).summary,
    ).toBe(
      "container app has no exit code (CannotPullContainerError); the task failed to start: CannotPullContainerError",
    );
    expect(taskOutcome({ taskArn: "t", containers: [] }, essential)).toMatchObject({
      ok: false,
      summary: "essential container app is not in the task",
    });
  });
});

describe("judgeAlbMetrics", () => {
  const limits = { maxErrorRate: 0.01, maxP95LatencyMs: 500 };
  it("judges nothing without traffic", () => {
    expect(judgeAlbMetrics({ requests: 0, errors5xx: 0, p95LatencyMs: null, alarms: [] }, limits)).toEqual({
      message: "Load balancer metrics within bounds (no requests measured yet).",
    });
  });
  it("names errors for a 5xx rate over the budget and performance for a slow p95; errors is the more severe", () => {
    const judged = judgeAlbMetrics({ requests: 1000, errors5xx: 20, p95LatencyMs: 900, alarms: [] }, limits);
    expect(judged.trigger).toBe("errors");
    expect(judged.message).toBe(
      "Load balancer metrics failed with rollback trigger errors: the load balancer saw 20 target 5xx answers of 1000 " +
        "requests (2%, at most 1%); the load balancer's p95 target response time was 900 ms (at most 500 ms).",
    );
  });
  it("fires the trigger of what an alarm in ALARM measures, and ignores OK and INSUFFICIENT_DATA", () => {
    const alarms = [
      { name: "a", measures: "performance" as const, state: "ALARM" },
      { name: "b", measures: "errors" as const, state: "INSUFFICIENT_DATA" },
    ];
    expect(judgeAlbMetrics({ requests: 10, errors5xx: 0, p95LatencyMs: 10, alarms }, limits).trigger).toBe(
      "performance",
    );
  });
  it("passes at exactly the bounds", () => {
    expect(
      judgeAlbMetrics({ requests: 100, errors5xx: 1, p95LatencyMs: 500, alarms: [] }, limits).trigger,
    ).toBeUndefined();
  });
});

describe("snapshotIdentifier", () => {
  it("is always an identifier RDS accepts", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string(),
        fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
        (service, change, version, at) => {
          const id = snapshotIdentifier(service, change, version, at);
          expect(id).toMatch(/^[a-z][a-z0-9-]{0,62}$/);
          expect(id).not.toMatch(/--|-$/);
        },
      ),
    );
  });
});

describe("routeOf", () => {
  it("reads the colour with all the weight, a split as none, and a fixed response as maintenance", () => {
    expect(routeOf([forwardAction(groups, "green")], groups)).toEqual({
      active: "green",
      weights: { blue: 0, green: 100 },
      maintenance: false,
    });
    expect(
      routeOf(
        [
          {
            Type: "forward",
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: groups.blue, Weight: 50 },
                { TargetGroupArn: groups.green, Weight: 50 },
              ],
            },
          },
        ],
        groups,
      ).active,
    ).toBeNull();
    expect(routeOf([{ Type: "forward", TargetGroupArn: groups.blue }], groups).active).toBe("blue");
    expect(routeOf([{ Type: "forward", TargetGroupArn: "arn:tg/other" }], groups).active).toBeNull();
    expect(routeOf([maintenanceAction("x".repeat(2000))], groups)).toMatchObject({
      active: null,
      maintenance: true,
    });
    expect(maintenanceAction("x".repeat(2000)).FixedResponseConfig?.MessageBody).toHaveLength(1024);
  });
});

describe("metric dimensions and windows", () => {
  it("takes CloudWatch's dimension values from the ARNs", () => {
    expect(
      dimensionOf("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/shop/50dc6c495c0c9188"),
    ).toBe("app/shop/50dc6c495c0c9188");
    expect(
      dimensionOf("arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/shop-blue/73e2d6bc24d8a067"),
    ).toBe("targetgroup/shop-blue/73e2d6bc24d8a067");
  });
  it("widens a window to whole minutes, at least one", () => {
    const w = metricWindow(new Date("2026-11-30T17:00:20Z"), new Date("2026-11-30T17:00:40Z"));
    expect([w.start.toISOString(), w.end.toISOString()]).toEqual([
      "2026-11-30T17:00:00.000Z",
      "2026-11-30T17:01:00.000Z",
    ]);
  });
});

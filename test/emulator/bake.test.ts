// Post-promotion verification against moto_server: the contract's HTTP bake against a real HTTP
// server, CloudWatch metrics put with PutMetricData and read back with GetMetricData, and the switch
// back of the real (emulated) listener rule when either fails.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { cloudWatchClient, elbClient } from "../../platforms/aws/ops/clients";
import { runBake, type BakeArgs } from "../../platforms/aws/ops/bake";
import { dimensionOf } from "../../platforms/aws/ops/metrics";
import { readRoute, ruleTags, switchTraffic } from "../../platforms/aws/ops/traffic";
import { serviceRoute } from "./alb";
import { emulatorTarget, network } from "./aws";
import { listen } from "./listen";

const target = emulatorTarget("eu-central-1");
const elb = elbClient(target);
const cloudWatch = cloudWatchClient(target);
let route: Awaited<ReturnType<typeof serviceRoute>>;
let healthy = true;
let server: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  const net = await network(target);
  route = await serviceRoute(elb, { prefix: "bake", service: "shop", ...net, port: 80, initial: "green" });
  server = await listen((request, response) => {
    const ok = healthy || request.url !== "/health";
    response.writeHead(ok ? 200 : 500, { "content-type": "application/json" });
    response.end(JSON.stringify({ version: "2.0.0" }));
  });
});
afterAll(() => server.close());

function args(
  scope: { loadBalancer: string; targetGroup: string },
  alarms: NonNullable<BakeArgs["metrics"]>["alarms"] = [],
): BakeArgs {
  return {
    url: server.url,
    checks: [{ name: "health", kind: "technical", path: "/health", expect: { status: 200 } }],
    spec: { bakeTimeMs: 600, intervalMs: 200, maxErrorRate: 0.05, maxP95LatencyMs: 1000 },
    metrics: { scope, alarms },
    route: {
      ruleArn: route.ruleArn,
      targetGroups: route.targetGroups,
      promoted: "green",
      rollbackTo: "blue",
    },
  };
}

/** The green target group's minute of traffic as the ALB would publish it. */
async function putTraffic(
  scope: { loadBalancer: string; targetGroup: string },
  requests: number,
  errors: number,
) {
  const Dimensions = [
    { Name: "LoadBalancer", Value: scope.loadBalancer },
    { Name: "TargetGroup", Value: scope.targetGroup },
  ];
  await cloudWatch.send(
    new PutMetricDataCommand({
      Namespace: "AWS/ApplicationELB",
      MetricData: [
        { MetricName: "RequestCount", Dimensions, Value: requests, Unit: "Count", Timestamp: new Date() },
        {
          MetricName: "HTTPCode_Target_5XX_Count",
          Dimensions,
          Value: errors,
          Unit: "Count",
          Timestamp: new Date(),
        },
        { MetricName: "TargetResponseTime", Dimensions, Value: 0.08, Unit: "Seconds", Timestamp: new Date() },
      ],
    }),
  );
}

describe("runBake", () => {
  it("passes when the probes and the load balancer's metrics are within bounds; users stay on the new colour", async () => {
    healthy = true;
    await switchTraffic(elb, { ...route, color: "green" });
    // Each test reads its own target group dimension, so earlier data points do not count.
    const scope = {
      loadBalancer: dimensionOf(route.loadBalancerArn),
      targetGroup: `${dimensionOf(route.targetGroups.green)}-pass`,
    };
    await putTraffic(scope, 200, 1);
    const result = await runBake({ elb, cloudWatch }, args(scope));
    expect(result).toMatchObject({ verdict: "passed", rolledBackTo: null });
    expect(result.reading).toMatchObject({ requests: 200, errors5xx: 1 });
    // moto computes Sum, Average, Minimum, Maximum and SampleCount, not percentiles: p95 reads as no data.
    expect(result.reading?.p95LatencyMs).toBeNull();
    expect((await readRoute(elb, route)).active).toBe("green");
  });

  it("fails on the 5xx rate the load balancer measured, though every probe passed, and switches users back", async () => {
    healthy = true;
    await switchTraffic(elb, { ...route, color: "green" });
    const scope = {
      loadBalancer: dimensionOf(route.loadBalancerArn),
      targetGroup: `${dimensionOf(route.targetGroups.green)}-5xx`,
    };
    await putTraffic(scope, 100, 30);
    const result = await runBake({ elb, cloudWatch }, args(scope));
    expect(result.report.verdict).toBe("passed");
    expect(result).toMatchObject({ verdict: "failed", trigger: "errors", rolledBackTo: "blue" });
    expect(result.message).toContain("30 target 5xx answers of 100 requests (30%, at most 5%)");
    const now = await readRoute(elb, route);
    expect(now).toMatchObject({ active: "blue", weights: { blue: 100, green: 0 } });
    expect(now.tags[ruleTags.rolledBackAt]).toBe(result.rolledBackAt);
    expect(now.tags[ruleTags.rollbackTrigger]).toBe("errors");
  });

  it("fails on an alarm of the colour in ALARM, naming the trigger of what it measures", async () => {
    healthy = true;
    await switchTraffic(elb, { ...route, color: "green" });
    const scope = {
      loadBalancer: dimensionOf(route.loadBalancerArn),
      targetGroup: `${dimensionOf(route.targetGroups.green)}-alarm`,
    };
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: "bake-shop-green-p95-latency",
        Namespace: "AWS/ApplicationELB",
        MetricName: "TargetResponseTime",
        ExtendedStatistic: "p95",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    // moto does not evaluate alarms from data points; the test sets the state the way CloudWatch would.
    await cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: "bake-shop-green-p95-latency",
        StateValue: "ALARM",
        StateReason: "test",
      }),
    );
    const result = await runBake(
      { elb, cloudWatch },
      args(scope, [{ name: "bake-shop-green-p95-latency", measures: "performance" }]),
    );
    expect(result).toMatchObject({ verdict: "failed", trigger: "performance", rolledBackTo: "blue" });
    expect(result.message).toContain("CloudWatch alarm bake-shop-green-p95-latency is in ALARM");
    expect((await readRoute(elb, route)).active).toBe("blue");
  });

  it("fails on the probes with the contract's trigger and message, and switches users back", async () => {
    healthy = false;
    await switchTraffic(elb, { ...route, color: "green" });
    const scope = {
      loadBalancer: dimensionOf(route.loadBalancerArn),
      targetGroup: `${dimensionOf(route.targetGroups.green)}-probe`,
    };
    const result = await runBake({ elb, cloudWatch }, args(scope));
    expect(result).toMatchObject({ verdict: "failed", trigger: "errors", rolledBackTo: "blue" });
    expect(result.message).toContain('check "health" (technical) failed');
    expect(result.reading).toMatchObject({ requests: 0, errors5xx: 0 });
    expect((await readRoute(elb, route)).active).toBe("blue");
  });
});

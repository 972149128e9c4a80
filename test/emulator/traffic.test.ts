// The traffic switch and the maintenance response against moto_server: ModifyRule on a real
// (emulated) listener rule, read back with DescribeRules and DescribeTags.
import { beforeAll, describe, expect, it } from "vitest";
import { DescribeRulesCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { elbClient } from "../../platforms/aws/ops/clients";
import { readRoute, ruleTags, startMaintenance, switchTraffic } from "../../platforms/aws/ops/traffic";
import { serviceRoute } from "./alb";
import { emulatorTarget, network } from "./aws";

const target = emulatorTarget("eu-west-1");
const elb = elbClient(target);
let route: Awaited<ReturnType<typeof serviceRoute>>;

beforeAll(async () => {
  const net = await network(target);
  route = await serviceRoute(elb, {
    prefix: "traffic",
    service: "shop",
    ...net,
    vpcId: net.vpcId,
    port: 80,
    initial: "blue",
  });
});

describe("switchTraffic", () => {
  it("moves every request to the other colour and back, noting when users moved", async () => {
    const before = await readRoute(elb, route);
    expect(before).toMatchObject({ active: "blue", weights: { blue: 100, green: 0 }, maintenance: false });

    const toGreen = await switchTraffic(elb, { ...route, color: "green" });
    expect(toGreen).toMatchObject({ active: "green", previous: "blue", weights: { blue: 0, green: 100 } });
    const stored = await elb.send(new DescribeRulesCommand({ RuleArns: [route.ruleArn] }));
    expect(stored.Rules?.[0]?.Actions?.[0]?.ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: route.targetGroups.blue, Weight: 0 },
      { TargetGroupArn: route.targetGroups.green, Weight: 100 },
    ]);
    expect((await readRoute(elb, route)).tags[ruleTags.switchedAt]).toBe(toGreen.switchedAt);

    const back = await switchTraffic(elb, {
      ...route,
      color: "blue",
      extraTags: {
        [ruleTags.rolledBackAt]: "2026-11-30T17:00:00.000Z",
        [ruleTags.rollbackTrigger]: "errors",
      },
    });
    expect(back).toMatchObject({ active: "blue", previous: "green", weights: { blue: 100, green: 0 } });
    const tags = (await readRoute(elb, route)).tags;
    expect(tags[ruleTags.rolledBackAt]).toBe("2026-11-30T17:00:00.000Z");
    expect(tags[ruleTags.rollbackTrigger]).toBe("errors");
  });

  it("keeps the time of the last move when the colour does not change", async () => {
    const first = await switchTraffic(elb, { ...route, color: "green" });
    const again = await switchTraffic(elb, { ...route, color: "green" });
    expect(again.previous).toBe("green");
    expect(again.switchedAt).toBe(first.switchedAt);
  });

  it("answers a fixed 503 in a maintenance window, and the switch lifts it", async () => {
    await startMaintenance(elb, { ruleArn: route.ruleArn, message: "Back at 03:00 UTC." });
    const stored = await elb.send(new DescribeRulesCommand({ RuleArns: [route.ruleArn] }));
    expect(stored.Rules?.[0]?.Actions?.[0]).toMatchObject({
      Type: "fixed-response",
      FixedResponseConfig: {
        StatusCode: "503",
        ContentType: "text/plain",
        MessageBody: "Back at 03:00 UTC.",
      },
    });
    expect(await readRoute(elb, route)).toMatchObject({ active: null, maintenance: true });
    const lifted = await switchTraffic(elb, { ...route, color: "blue" });
    expect(lifted).toMatchObject({ active: "blue", previous: null, maintenance: false });
  });
});

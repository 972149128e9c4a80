// A service's load-balancer objects in the emulator, made with the SDK the way the aws platform's
// router declares them with @pulumi/aws: an ALB, a target group per colour, a production listener
// answering 404 by default and the service's production rule, tagged, forwarding to `initial`.
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsNames } from "../../platforms/aws/names";
import { forwardAction, ruleTags, type Color } from "../../platforms/aws/ops/traffic";

export async function serviceRoute(
  elb: ElasticLoadBalancingV2Client,
  args: {
    prefix: string;
    service: string;
    vpcId: string;
    subnets: string[];
    securityGroup: string;
    port: number;
    initial: Color;
  },
) {
  const names = awsNames(args.prefix, args.service);
  const lb = await elb.send(
    new CreateLoadBalancerCommand({
      Name: `${args.prefix}-${args.service}`,
      Subnets: args.subnets,
      SecurityGroups: [args.securityGroup],
      Type: "application",
    }),
  );
  const loadBalancerArn = lb.LoadBalancers?.[0]?.LoadBalancerArn ?? "";
  const groups: Record<Color, string> = { blue: "", green: "" };
  for (const color of ["blue", "green"] as const) {
    const tg = await elb.send(
      new CreateTargetGroupCommand({
        Name: names.targetGroup(color),
        Protocol: "HTTP",
        Port: 8080,
        VpcId: args.vpcId,
        TargetType: "ip",
        HealthCheckPath: "/health",
      }),
    );
    groups[color] = tg.TargetGroups?.[0]?.TargetGroupArn ?? "";
  }
  const listener = await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Protocol: "HTTP",
      Port: args.port,
      DefaultActions: [
        { Type: "fixed-response", FixedResponseConfig: { StatusCode: "404", ContentType: "text/plain" } },
      ],
    }),
  );
  const listenerArn = listener.Listeners?.[0]?.ListenerArn ?? "";
  const rule = await elb.send(
    new CreateRuleCommand({
      ListenerArn: listenerArn,
      Priority: 10,
      Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/*"] } }],
      Actions: [forwardAction(groups, args.initial)],
      Tags: [
        { Key: ruleTags.service, Value: args.service },
        { Key: ruleTags.role, Value: "production" },
      ],
    }),
  );
  return { loadBalancerArn, listenerArn, ruleArn: rule.Rules?.[0]?.RuleArn ?? "", targetGroups: groups };
}

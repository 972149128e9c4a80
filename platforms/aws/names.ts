// The names of a service's AWS objects, derived from the stack's prefix, so the platform declares
// them and observe() finds them again without Pulumi's state. No Pulumi or SDK imports.

export type Color = "blue" | "green";

/** The container label that carries a colour's slot spec in its task definition. */
export const slotSpecLabel = "shipgate.slot-spec";

export function awsNames(prefix: string, service: string) {
  const base = `${prefix}-${service}`;
  return {
    /** Target group names: at most 32 characters, unique per account and region. */
    targetGroup: (color: Color) => `${base}-${color}`,
    /** Test target group for nothing: the test listener's rule forwards to the candidate's own group. */
    ecsService: (color: Color) => `${base}-${color}`,
    family: (color: Color) => `${base}-${color}`,
    taskFamily: (purpose: "migrate") => `${base}-${purpose}`,
    alarm: (color: Color, metric: "5xx-rate" | "p95-latency") => `${base}-${color}-${metric}`,
    /** The SSM SecureString parameter of a colour's secret variable (per colour: each keeps its own value). */
    secretParameter: (color: Color, variable: string) => `/${prefix}/${service}/${color}/${variable}`,
    /** The longest of these names, for validating the prefix and service names up front. */
    longest: `${base}-green`,
  };
}

/** Target group names are limited to 32 characters: the longest name a service gets must fit. */
export function namesFit(prefix: string, service: string): boolean {
  return awsNames(prefix, service).longest.length <= 32;
}

/** The dimension value CloudWatch uses for an ALB or target group ARN: the part after `:loadbalancer/` or `:`. */
export function dimensionOf(arn: string): string {
  const lb = arn.split(":loadbalancer/")[1];
  if (lb) return lb;
  const tg = arn.split(":").pop() ?? "";
  return tg;
}

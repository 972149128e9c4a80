// The checks of a gate: the seed's technical gates (system up, services running, no errors,
// performance good) and the stack's business checks (smoke requests).
import type { HttpCheckSpec } from "./platform";

export function technicalChecks(args: {
  healthPath: string;
  version: string;
  maxLatencyMs: number;
}): HttpCheckSpec[] {
  return [
    {
      name: "health",
      kind: "technical",
      path: args.healthPath,
      expect: { status: 200, maxLatencyMs: args.maxLatencyMs },
    },
    {
      name: "version",
      kind: "technical",
      path: "/version",
      expect: { status: 200, version: args.version, maxLatencyMs: args.maxLatencyMs },
    },
  ];
}

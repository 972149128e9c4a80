// The checks of a gate: the seed's technical gates (system up, services running, no errors,
// performance good) and the stack's business checks (smoke requests), resolved by the contract so
// every platform receives them with the same defaults applied.
import { checksSchema, parseOrThrow, type HttpCheck, type ResolvedHttpCheck } from "../contract";

export function technicalChecks(args: {
  healthPath: string;
  version: string;
  maxLatencyMs: number;
}): HttpCheck[] {
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

/** A service's technical checks then its smoke requests; a smoke request may not reuse a technical name. */
export function releaseChecks(args: {
  service: string;
  healthPath: string;
  version: string;
  maxLatencyMs: number;
  smoke: readonly HttpCheck[];
}): ResolvedHttpCheck[] {
  return parseOrThrow(`shipgate:services.${args.service}.smoke`, checksSchema, [
    ...technicalChecks(args),
    ...args.smoke,
  ]);
}

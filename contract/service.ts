// How a service runs and is checked on a stack (`shipgate:services.<name>`): the stack's half of the
// contract, read by the program and by every platform. Defaults apply here, nowhere else.
import { z } from "zod";
import { gatePolicySchema, httpCheckSchema, verificationPolicySchema } from "./schema";

/** A path inside the project: relative, and never climbing out of it with `..`. */
export const projectPathSchema = z
  .string("expected a path")
  .min(1, "expected a non-empty path")
  .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), {
    message: "expected a path relative to the project folder, without `..`",
  });

const port = z
  .number("expected a port number")
  .int("expected a whole port number")
  .min(1024, "expected a port from 1024 to 65532")
  .max(65532, "expected a port from 1024 to 65532");

/** The most failed builds a service keeps for inspection: each holds a whole build and its log. */
export const MAX_KEPT_FAILED_BUILDS = 20;

export const serviceSettingsSchema = z.strictObject({
  /** Where users are served: the router listens here; the colours use port+1 (blue) and port+2 (green). */
  port,
  /** The command that serves HTTP on $PORT with its data in $DATA_DIR, run inside the build. */
  command: z.array(z.string().min(1)).min(1).default(["node", "server.mjs"]),
  healthPath: z.string().startsWith("/", "expected a path starting with /").default("/health"),
  /** Local platform: the folder holding one sub-folder per build version. */
  artifacts: projectPathSchema.optional(),
  /** Whether the service keeps data (then every release backs it up first). */
  stateful: z.boolean().default(true),
  maxLatencyMs: z.number().positive().default(1000),
  /** When the pre-promotion gate passes or fails. */
  gate: gatePolicySchema.prefault({}),
  /** Post-promotion verification's bake time and thresholds. */
  verification: verificationPolicySchema.prefault({}),
  /** Business checks (smoke requests) run by the gate and by post-promotion verification. */
  smoke: z.array(httpCheckSchema).default([]),
  /** How long the previous colour stays warm after a switch, so rollback is a routing change. */
  warmWindowMinutes: z.number().int().min(0).default(60),
  /** Backups kept per service (older ones are removed after a new verified backup). */
  keepBackups: z.number().int().min(1).default(5),
  /**
   * Local platform: how many builds that failed to start or failed their gate are kept, stopped, for
   * inspection (their folder, log and a note of the failure), newest first; older ones are removed
   * when another is kept. 0, the default, keeps none: a failed build's folder is removed once it is
   * stopped. Bounded so that a build failing release after release cannot fill the disk.
   */
  keepFailedBuilds: z
    .number("expected a count of failed builds to keep (0 keeps none)")
    .int("expected a whole number of failed builds to keep")
    .min(0, `expected 0 (keep none) to ${MAX_KEPT_FAILED_BUILDS} failed builds to keep`)
    .max(MAX_KEPT_FAILED_BUILDS, `expected 0 (keep none) to ${MAX_KEPT_FAILED_BUILDS} failed builds to keep`)
    .default(0),
});
export type ServiceSettings = z.output<typeof serviceSettingsSchema>;

// The small interface every platform (local, kubernetes, aws) implements. Components orchestrate a
// release in order (anchor, backup, deploy, gate, switch, verify, record); a platform does the work of each step with its own
// resources, and returns them so components can order the next step after them.
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type {
  GatePolicy,
  NotificationNotice,
  ResolvedHttpCheck,
  ServiceSettings,
  VerificationPolicy,
} from "../contract";

export const colors = ["blue", "green"] as const;
export type Color = (typeof colors)[number];

export function otherColor(color: Color): Color {
  return color === "blue" ? "green" : "blue";
}

/** One build of a service: where it comes from and the digest that pins it. */
export interface ArtifactRef {
  readonly source: string;
  readonly version: string;
  readonly digest: string;
}

/** What one colour of a service runs: enough to re-declare it unchanged. Never holds a secret's value. */
export interface SlotSpec {
  readonly version: string;
  readonly artifact: ArtifactRef;
  readonly env: Readonly<Record<string, string>>;
  /**
   * The variables set from stack secrets, each with the fingerprint of its value (contract's
   * secretFingerprint), so a rotated secret is a changed build. Absent when there are none. The
   * values travel apart, as a Pulumi secret (`SlotSecrets`).
   */
  readonly secretEnv?: Readonly<Record<string, string>>;
}

/** The values of a colour's secret variables (variable name to value), always a Pulumi secret. */
export type SlotSecrets = pulumi.Output<Readonly<Record<string, string>>>;

/** True when `value` (read back from a platform: a file, an annotation) is a complete SlotSpec. */
export function isSlotSpec(value: unknown): value is SlotSpec {
  if (typeof value !== "object" || value === null) return false;
  const spec = value as Record<string, unknown>;
  const artifact = spec["artifact"] as Record<string, unknown> | undefined;
  return (
    typeof spec["version"] === "string" &&
    typeof artifact === "object" &&
    artifact !== null &&
    typeof artifact["source"] === "string" &&
    typeof artifact["digest"] === "string" &&
    typeof spec["env"] === "object" &&
    spec["env"] !== null &&
    (spec["secretEnv"] === undefined ||
      (typeof spec["secretEnv"] === "object" &&
        spec["secretEnv"] !== null &&
        Object.values(spec["secretEnv"]).every((v) => typeof v === "string")))
  );
}

/** The spec's fields as a platform keeps them, `secretEnv` only when there is one (so specs compare equal). */
export function slotSpecOf(spec: SlotSpec): SlotSpec {
  return {
    version: spec.version,
    artifact: { source: spec.artifact.source, version: spec.artifact.version, digest: spec.artifact.digest },
    env: { ...spec.env },
    ...(spec.secretEnv && Object.keys(spec.secretEnv).length > 0 ? { secretEnv: { ...spec.secretEnv } } : {}),
  };
}

/** One deployment record as the program needs it: which run, and how it ended. */
export interface RecordSummary {
  /** Names the record (its file stem on the local platform); a retry quotes it. */
  readonly id: string;
  readonly outcome: string;
  readonly date: string;
}

/** What the platform runs now for a service, read at program time (preview included). */
export interface ObservedService {
  readonly active: Color | null;
  readonly slots: Readonly<Partial<Record<Color, SlotSpec>>>;
  /** When users were last switched to the active colour: the other one has been warm since. */
  readonly switchedAt?: string | null;
}

/** The release a step belongs to; steps re-run when it changes. */
export interface ReleaseRef {
  readonly changeId: string;
  readonly version: string;
  /** `<changeId>@<version>`: names backups and re-runs gates for each release. */
  readonly key: string;
  /** Set on one service's steps: a failing step writes the record and tells the team from this. */
  readonly failure?: FailureDraft;
}

/** The deployment record's fields known before the release runs (platforms add the outcome). */
export type RecordDraft = Readonly<Record<string, unknown>>;

/** What a step of one service needs to record its own failure (contract/record.ts `failedRecord`). */
export interface FailureDraft {
  readonly service: string;
  /** The service's record draft. */
  readonly record: RecordDraft;
  /** What served users when the release was planned; null for a first release. */
  readonly served: { readonly version: string; readonly color: Color } | null;
  /** The colour the release deploys to. */
  readonly candidate: Color;
  /** Whether the release starts the candidate anew (false: it already runs this build). */
  readonly restarts: boolean;
}

export interface StepOptions {
  readonly parent: pulumi.Resource;
  readonly dependsOn?: pulumi.ResourceOptions["dependsOn"];
}

export interface PlatformStep {
  readonly resource: pulumi.Resource;
}

export interface RouterStep extends PlatformStep {
  /** Where users are served. */
  readonly url: pulumi.Output<string>;
}

export interface SlotStep extends PlatformStep {
  /** The colour's own address, for gates (the preview/test endpoint). */
  readonly url: pulumi.Output<string>;
}

export interface BackupStep extends PlatformStep {
  readonly backupId: pulumi.Output<string>;
  readonly digest: pulumi.Output<string>;
  readonly createdAt: pulumi.Output<string>;
}

export interface SwitchStep extends PlatformStep {
  readonly active: pulumi.Output<Color>;
  readonly switchedAt: pulumi.Output<string>;
}

export interface GateStep extends PlatformStep {
  readonly verdict: pulumi.Output<"passed">;
  /** Rounds it took; null where the platform cannot read it back (a Job's log). */
  readonly rounds: pulumi.Output<number | null>;
  readonly passedAt: pulumi.Output<string>;
}

export interface VerificationStep extends PlatformStep {
  readonly verdict: pulumi.Output<"passed">;
  /** The measured error rate; null where the platform cannot read it back (a Job's log). */
  readonly errorRate: pulumi.Output<number | null>;
  readonly p95LatencyMs: pulumi.Output<number | null>;
  readonly verifiedAt: pulumi.Output<string>;
  /**
   * The bake a fast-tracked rollback ran, from the step's outputs (so a later run that does not
   * verify again reports what this one did); null when the release baked in full. Always an output
   * of the step, so a preview knows it (a missing output is unknown in a preview); undefined only
   * for a step last run by a version without it.
   */
  readonly fastTrackBakeMs: pulumi.Output<number | null | undefined>;
}

export interface RecordStep extends PlatformStep {
  readonly location: pulumi.Output<string>;
}

/** The platforms a stack can target. `local` runs real processes on this machine, no cloud account. */
export const PLATFORM_NAMES = ["local", "kubernetes", "aws"] as const;
export type PlatformName = (typeof PLATFORM_NAMES)[number];

/** Each platform's `shipgate:<platform>` settings schema, as the adapters bring them. */
export type PlatformSettingsSchemas = Partial<Record<PlatformName, z.ZodType>>;

/** What the program hands a platform adapter to make the stack's platform. */
export interface PlatformContext {
  /** The project folder (the engine's working directory). */
  readonly projectDir: string;
  readonly stack: string;
  /** The stack's working folder, relative to the project (shipgate:workDir). */
  readonly workDir: string;
  readonly services: Readonly<Record<string, ServiceSettings>>;
  readonly webhookUrl?: string;
  /** `shipgate:<platform>`, already validated by the adapter's `settingsSchema`. */
  readonly settings: unknown;
}

/**
 * A platform as the program composes it: its name, the schema of its own stack settings, and how to
 * make it. The program keeps a list of adapters; nothing else names a platform.
 */
export interface PlatformAdapter {
  readonly name: PlatformName;
  readonly settingsSchema?: z.ZodType;
  create(context: PlatformContext): Platform;
}

/** A platform: the work behind each step of a release, for one stack. */
export interface Platform {
  readonly name: PlatformName;
  observe(service: string): ObservedService;
  /**
   * Throws, saying why, when the build `spec` names cannot be deployed as the manifest pins it (its
   * digest, its contents). The program calls it before it declares anything, preview included.
   */
  checkBuild?(service: string, spec: SlotSpec): void;
  /**
   * The newest deployment record of this exact release (its key and manifest digest), read at program
   * time: a release that was switched back is not promoted again unless a retry names that record.
   */
  lastRecordOf?(release: { readonly key: string; readonly digest: string }): RecordSummary | undefined;
  /** The platform's working folder on this machine, if it keeps one; made after `dependsOn`. */
  workspace?(opts: { dependsOn: pulumi.Resource[] }): {
    resource: pulumi.Resource;
    path: pulumi.Output<string>;
  };
  router(name: string, args: { service: string }, opts: StepOptions): RouterStep;
  /**
   * A colour running `spec`. `secrets` holds the values of `spec.secretEnv`'s variables; a platform
   * keeps them secret in state and out of anything it writes where people read (files, annotations,
   * records, logs). A kept colour whose secret was rotated since gets no value for it: the platform
   * must then refuse to start it again rather than start it without.
   */
  slot(
    name: string,
    args: { service: string; color: Color; spec: SlotSpec; secrets?: SlotSecrets; release?: ReleaseRef },
    opts: StepOptions,
  ): SlotStep;
  backup(name: string, args: { service: string; release: ReleaseRef }, opts: StepOptions): BackupStep;
  restore(
    name: string,
    args: { service: string; backupId: string; release?: ReleaseRef },
    opts: StepOptions,
  ): PlatformStep;
  migration(
    name: string,
    args: {
      service: string;
      artifact: ArtifactRef;
      migrations: readonly string[];
      backupId: pulumi.Input<string>;
      release?: ReleaseRef;
    },
    opts: StepOptions,
  ): PlatformStep;
  /** Users get a maintenance response and requests in flight finish; `stop` is then stopped (null: none). */
  maintenance(
    name: string,
    args: { service: string; stop: Color | null; release: ReleaseRef; message: string },
    opts: StepOptions,
  ): PlatformStep;
  gate(
    name: string,
    args: {
      service: string;
      release: ReleaseRef;
      /** The candidate colour the gate checks. */
      color: Color;
      target: pulumi.Input<string>;
      artifact: ArtifactRef;
      checks: readonly ResolvedHttpCheck[];
      policy: GatePolicy;
      /** The candidate's secret values, only to keep them out of what a failed build leaves for inspection. */
      secrets?: SlotSecrets;
    },
    opts: StepOptions,
  ): GateStep;
  trafficSwitch(
    name: string,
    args: {
      service: string;
      release: ReleaseRef;
      color: Color;
      target: pulumi.Input<string>;
      /** How long the previous colour stays warm after this switch (the plan shows it to the policies). */
      warmWindowMinutes: number;
    },
    opts: StepOptions,
  ): SwitchStep;
  verification(
    name: string,
    args: {
      service: string;
      release: ReleaseRef;
      url: pulumi.Input<string>;
      checks: readonly ResolvedHttpCheck[];
      /** The service's verification policy, as configured. */
      spec: VerificationPolicy;
      /**
       * A fast-tracked rollback: the step runs `verificationPolicyFor(spec, true)` (the short bake).
       * Not a reason to verify again by itself: a release already live may see it change.
       */
      fastTrack: boolean;
      promoted: Color;
      rollbackTo: Color | null;
      record: pulumi.Input<RecordDraft>;
    },
    opts: StepOptions,
  ): VerificationStep;
  record(
    name: string,
    args: { release: ReleaseRef; record: pulumi.Input<RecordDraft> },
    opts: StepOptions,
  ): RecordStep;
  notification(
    name: string,
    args: { release: ReleaseRef; event: NotificationNotice },
    opts: StepOptions,
  ): PlatformStep;
}

/** A component's `dependsOn` as a list, so its steps can add their own predecessors to it. */
export function dependencyList(
  dependsOn: pulumi.ResourceOptions["dependsOn"],
): pulumi.Input<pulumi.Resource>[] {
  if (dependsOn === undefined) return [];
  return Array.isArray(dependsOn) ? [...dependsOn] : [dependsOn as pulumi.Input<pulumi.Resource>];
}

// A test double of components/platform.ts: records every call, and answers each with a real (tiny)
// custom resource of type `fake:step:<method>`, so the mocks see it registered with its parent and
// its dependencies, and its inputs are the arguments the component passed.
import * as pulumi from "@pulumi/pulumi";
import { verificationPolicyFor } from "../../../contract";
import type {
  BackupStep,
  GateStep,
  ObservedService,
  Platform,
  PlatformStep,
  RecordStep,
  RecordSummary,
  RouterStep,
  SlotStep,
  StepOptions,
  SwitchStep,
  VerificationStep,
} from "../../../components/platform";

export type StepMethod = Exclude<keyof Platform, "name" | "observe" | "lastRecordOf">;

export interface StepCall {
  readonly method: StepMethod;
  readonly name: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly opts: StepOptions;
}

class FakeStep extends pulumi.CustomResource {
  constructor(method: StepMethod, name: string, args: object, opts: StepOptions) {
    super(`fake:step:${method}`, name, { ...args }, { parent: opts.parent, dependsOn: opts.dependsOn });
  }
}

/** The addresses and ids the fake answers with, so tests can follow them into later steps. */
export const fakeUrl = (name: string): string => `http://fake.invalid/${name}`;
export const fakeBackupId = (name: string): string => `backup-of-${name}`;

export class FakePlatform implements Platform {
  public readonly name = "local" as const;
  public readonly calls: StepCall[] = [];
  public readonly observed: string[] = [];

  /** The release keys (`<changeId>@<version>`) whose newest record was read, in order. */
  public readonly recordsRead: string[] = [];

  /**
   * @param running what each service runs now
   * @param records the newest record of each release, by `<key> <manifest digest>`
   */
  constructor(
    private readonly running: Readonly<Record<string, ObservedService>> = {},
    private readonly records: Readonly<Record<string, RecordSummary>> = {},
  ) {}

  lastRecordOf(release: { readonly key: string; readonly digest: string }): RecordSummary | undefined {
    this.recordsRead.push(release.key);
    return this.records[`${release.key} ${release.digest}`];
  }

  private step(method: StepMethod, name: string, args: object, opts: StepOptions): pulumi.Resource {
    this.calls.push({ method, name, args: { ...args }, opts });
    return new FakeStep(method, name, args, opts);
  }

  /** The calls of one method, in order. */
  callsOf(method: StepMethod): StepCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  observe(service: string): ObservedService {
    this.observed.push(service);
    return this.running[service] ?? { active: null, slots: {} };
  }

  router(name: string, args: Parameters<Platform["router"]>[1], opts: StepOptions): RouterStep {
    return { resource: this.step("router", name, args, opts), url: pulumi.output(fakeUrl(name)) };
  }

  slot(name: string, args: Parameters<Platform["slot"]>[1], opts: StepOptions): SlotStep {
    return { resource: this.step("slot", name, args, opts), url: pulumi.output(fakeUrl(name)) };
  }

  backup(name: string, args: Parameters<Platform["backup"]>[1], opts: StepOptions): BackupStep {
    return {
      resource: this.step("backup", name, args, opts),
      backupId: pulumi.output(fakeBackupId(name)),
      digest: pulumi.output(`sha256:${"b".repeat(64)}`),
      createdAt: pulumi.output("2026-11-22T10:00:01.000Z"),
    };
  }

  restore(name: string, args: Parameters<Platform["restore"]>[1], opts: StepOptions): PlatformStep {
    return { resource: this.step("restore", name, args, opts) };
  }

  migration(name: string, args: Parameters<Platform["migration"]>[1], opts: StepOptions): PlatformStep {
    return { resource: this.step("migration", name, args, opts) };
  }

  maintenance(name: string, args: Parameters<Platform["maintenance"]>[1], opts: StepOptions): PlatformStep {
    return { resource: this.step("maintenance", name, args, opts) };
  }

  gate(name: string, args: Parameters<Platform["gate"]>[1], opts: StepOptions): GateStep {
    return {
      resource: this.step("gate", name, args, opts),
      verdict: pulumi.output("passed" as const),
      rounds: pulumi.output(3),
      passedAt: pulumi.output("2026-11-22T10:00:02.000Z"),
    };
  }

  trafficSwitch(name: string, args: Parameters<Platform["trafficSwitch"]>[1], opts: StepOptions): SwitchStep {
    return {
      resource: this.step("trafficSwitch", name, args, opts),
      active: pulumi.output(args.color),
      switchedAt: pulumi.output("2026-11-22T10:00:03.000Z"),
    };
  }

  verification(
    name: string,
    args: Parameters<Platform["verification"]>[1],
    opts: StepOptions,
  ): VerificationStep {
    return {
      resource: this.step("verification", name, args, opts),
      verdict: pulumi.output("passed" as const),
      errorRate: pulumi.output(0),
      p95LatencyMs: pulumi.output(12),
      verifiedAt: pulumi.output("2026-11-22T10:00:04.000Z"),
      // As every platform reports it: the judge's short bake, only for a fast-tracked rollback.
      fastTrackBakeMs: pulumi.output(
        args.fastTrack ? verificationPolicyFor(args.spec, true).bakeTimeMs : null,
      ),
    };
  }

  record(name: string, args: Parameters<Platform["record"]>[1], opts: StepOptions): RecordStep {
    return { resource: this.step("record", name, args, opts), location: pulumi.output(`records/${name}.md`) };
  }

  notification(name: string, args: Parameters<Platform["notification"]>[1], opts: StepOptions): PlatformStep {
    return { resource: this.step("notification", name, args, opts) };
  }
}

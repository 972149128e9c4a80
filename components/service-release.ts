// One service's part of a release, in order: the maintenance window or the restore when the strategy
// wants them, the backup, migrations and the candidate colour, the pre-promotion gate, the switch and
// post-promotion verification. The Release component keeps the order of the whole release and calls
// this once per service; what it returns is all the record and the stack's outputs need.
import * as pulumi from "@pulumi/pulumi";
import {
  SecretValues,
  fastTrackRollback,
  secretFingerprint,
  type ServiceResult,
  type ServiceSettings,
} from "../contract";
import type { Manifest } from "../release";
import { Backup } from "./backup";
import { BlueGreenService } from "./blue-green-service";
import { releaseChecks } from "./checks";
import { planColors, type ColorPlan } from "./colors";
import { HealthGate } from "./health-gate";
import { Notification } from "./notification";
import type { Color, Platform, ReleaseRef, SlotSecrets, SlotSpec } from "./platform";
import { buildRecordDraft } from "./record-draft";
import { TrafficSwitch } from "./traffic-switch";
import { PostPromotionVerification } from "./verification";

export interface ServiceOutcome {
  readonly url: pulumi.Output<string>;
  readonly activeColor: pulumi.Output<string>;
  readonly version: string;
  readonly plan: ColorPlan;
}

export interface ServiceRelease {
  readonly name: string;
  readonly outcome: ServiceOutcome;
  readonly result: pulumi.Output<ServiceResult>;
  readonly colors: { readonly active: Color; readonly previous: Color | null };
  /** The last step: the record waits for it. */
  readonly verification: pulumi.Resource;
}

export interface ReleaseServiceArgs {
  /** The Release component: every resource of the service is its child. */
  readonly parent: pulumi.Resource;
  readonly platform: Platform;
  readonly manifest: Manifest;
  readonly digest: string;
  readonly stack: string;
  readonly release: ReleaseRef;
  readonly component: Manifest["components"][number];
  readonly settings: ServiceSettings;
  /** What the service's first step waits for (the anchor and the starting notice). */
  readonly after: readonly pulumi.Resource[];
  readonly restoreBackup?: string;
  /** The stack's secrets (shipgate:secrets), which the manifest's config changes may name. */
  readonly secrets?: SecretValues;
}

/** The stack's secrets as a build needs them: the values, and the stack that salts their fingerprints. */
export interface StackSecrets {
  readonly stack: string;
  readonly values: SecretValues;
}

const noSecrets: StackSecrets = { stack: "", values: new SecretValues() };

/**
 * The values of the variables a component sets from stack secrets (variable name to value). Throws,
 * naming the config change, when the manifest names a secret the stack does not have.
 */
export function secretEnvValues(
  component: Manifest["components"][number],
  secrets: StackSecrets = noSecrets,
): Record<string, string> {
  const values: Record<string, string> = {};
  (component.configChanges ?? []).forEach((change, index) => {
    if (change.secret === undefined) return;
    const value = secrets.values.value(change.secret);
    if (value === undefined) {
      throw new Error(
        `components.${component.name}.configChanges[${index}].secret: names the stack secret "${change.secret}", ` +
          `which stack "${secrets.stack}" does not have. Nothing was changed; set it with ` +
          `\`npm run pulumi -- config set --secret shipgate:secrets.${change.secret} <value> --stack ${secrets.stack}\` ` +
          `and release again.`,
      );
    }
    values[change.key] = value;
  });
  return values;
}

/** The desired build of a manifest component on a stack: secret values appear only as fingerprints. */
export function desiredBuild(
  component: Manifest["components"][number],
  settings: ServiceSettings,
  secrets: StackSecrets = noSecrets,
): SlotSpec {
  const { digest, version } = component.artifact;
  if (!digest || !version) {
    throw new Error(
      `components.${component.name}.artifact: expected both a version and a digest to deploy ${component.name} ` +
        `(the version finds the build, the digest pins it)`,
    );
  }
  const env: Record<string, string> = {};
  for (const change of component.configChanges ?? []) {
    if (change.value === undefined) continue;
    env[change.key] = typeof change.value === "string" ? change.value : JSON.stringify(change.value);
  }
  const secretEnv = Object.fromEntries(
    Object.entries(secretEnvValues(component, secrets)).map(([variable, value]) => [
      variable,
      secretFingerprint({ stack: secrets.stack, service: component.name, variable }, value),
    ]),
  );
  return {
    version,
    artifact: { source: settings.artifacts ?? component.artifact.source, version, digest },
    env,
    ...(Object.keys(secretEnv).length > 0 ? { secretEnv } : {}),
  };
}

/**
 * The secret values a colour running `spec` needs, as a Pulumi secret: for each of its secret
 * variables, the stack's value when its fingerprint matches. A variable whose secret was rotated
 * since is left out, so the platform refuses to restart that colour instead of giving it another value.
 */
function slotSecrets(
  spec: SlotSpec,
  service: string,
  stack: string,
  values: Readonly<Record<string, string>>,
): SlotSecrets | undefined {
  if (!spec.secretEnv) return undefined;
  const matching: Record<string, string> = {};
  for (const [variable, fingerprint] of Object.entries(spec.secretEnv)) {
    const value = values[variable];
    if (value !== undefined && secretFingerprint({ stack, service, variable }, value) === fingerprint) {
      matching[variable] = value;
    }
  }
  return pulumi.secret(matching);
}

/** Declares one service's steps of a release, each after the one before it. */
export function releaseService(args: ReleaseServiceArgs): ServiceRelease {
  const { parent, platform, manifest, component, settings } = args;
  const strategy = manifest.strategy.type;
  const stackSecrets: StackSecrets = { stack: args.stack, values: args.secrets ?? new SecretValues() };
  const build = desiredBuild(component, settings, stackSecrets);
  const secretValues = secretEnvValues(component, stackSecrets);
  const observed = platform.observe(component.name);
  const plan = planColors(observed, build, strategy, {
    minutes: settings.warmWindowMinutes,
    now: new Date(),
  });
  const record = buildRecordDraft({
    manifest,
    digest: args.digest,
    stack: args.stack,
    service: component.name,
    plan,
    build,
  });
  const servedVersion = plan.live === null ? undefined : observed.slots[plan.live]?.version;
  // Every step of the service carries what it needs to record its own failure.
  const release: ReleaseRef = {
    ...args.release,
    failure: {
      service: component.name,
      record,
      served:
        plan.live === null || servedVersion === undefined
          ? null
          : { version: servedVersion, color: plan.live },
      candidate: plan.candidate,
      restarts: !plan.reuse,
    },
  };
  const after: pulumi.Resource[] = [...args.after];

  if (strategy === "recreate" && plan.live !== null && !plan.reuse) {
    // The recreate strategy stops the service before anything else, so the backup below is a
    // copy of data nobody writes to any more: users are told, then get the maintenance response
    // while requests in flight finish and the running colour stops.
    const message =
      manifest.strategy.type === "recreate"
        ? manifest.strategy.maintenanceWindow.userMessage
        : `${component.name} is being upgraded to ${build.version}. Please retry shortly.`;
    const notice = new Notification(
      `${component.name}-maintenance-notice`,
      {
        platform,
        release,
        event: { stage: "maintenance", message, severity: "warning", audience: ["users", "support"] },
      },
      { parent, dependsOn: [...after] },
    );
    after.push(notice);
    after.push(
      platform.maintenance(
        `${component.name}-maintenance`,
        { service: component.name, stop: plan.candidate, release, message },
        { parent, dependsOn: [...after] },
      ).resource,
    );
  }

  const migrations = (component.database?.migrations ?? []).map((m) => m.id);
  // A routing change: the candidate already runs this build (a rollback to the warm colour), and no
  // step of the release changes data (no migration, no restore). Then the backup and the gate
  // against the candidate do not wait for each other: the gate only reads from a colour that runs
  // anyway (as users write to the live colour while any backup is taken), and the switch waits for
  // both, so the data is still backed up before users reach another version.
  const routingOnly = plan.reuse && migrations.length === 0 && !args.restoreBackup;
  const beforeBackup = [...after];

  // A stateful service is backed up before anything changes its data.
  const backup = settings.stateful
    ? new Backup(
        `${component.name}-backup`,
        { platform, service: component.name, release },
        { parent, dependsOn: [...after] },
      )
    : undefined;
  if (backup) after.push(backup);
  if (args.restoreBackup) {
    // Rollback with data restore: no user may write to the data while it is swapped, so the
    // restore happens behind the maintenance response; the switch at the end lifts it.
    const maintenance = platform.maintenance(
      `${component.name}-restore-window`,
      {
        service: component.name,
        stop: null,
        release,
        message: `${component.name} is being restored to ${build.version}. Please retry shortly.`,
      },
      { parent, dependsOn: [...after] },
    );
    after.push(maintenance.resource);
    after.push(
      platform.restore(
        `${component.name}-restore`,
        { service: component.name, backupId: args.restoreBackup, release },
        { parent, dependsOn: [...after] },
      ).resource,
    );
  }

  const service = new BlueGreenService(
    component.name,
    {
      platform,
      service: component.name,
      plan,
      build,
      migrations,
      release,
      ...(backup ? { backupId: backup.backupId } : {}),
      secretsFor: (spec) => slotSecrets(spec, component.name, args.stack, secretValues),
    },
    { parent, dependsOn: routingOnly ? beforeBackup : after },
  );
  const checks = releaseChecks({
    service: component.name,
    healthPath: settings.healthPath,
    version: build.version,
    maxLatencyMs: settings.maxLatencyMs,
    smoke: settings.smoke,
  });
  const candidateSecrets = slotSecrets(build, component.name, args.stack, secretValues);
  const gate = new HealthGate(
    `${component.name}-gate`,
    {
      platform,
      service: component.name,
      release,
      color: plan.candidate,
      target: service.candidateUrl,
      artifact: build.artifact,
      checks,
      policy: settings.gate,
      ...(candidateSecrets ? { secrets: candidateSecrets } : {}),
    },
    { parent, dependsOn: [service] },
  );
  const traffic = new TrafficSwitch(
    `${component.name}-switch`,
    {
      platform,
      service: component.name,
      release,
      color: plan.candidate,
      target: service.candidateUrl,
      warmWindowMinutes: settings.warmWindowMinutes,
    },
    { parent, dependsOn: routingOnly && backup ? [gate, backup] : [gate] },
  );
  // A rollback to a build that succeeded in this very release before bakes briefly; the newest
  // record is read only when the rest of the evidence already holds.
  const fastTrack =
    routingOnly &&
    fastTrackRollback({
      routingOnly,
      lastOutcome: platform.lastRecordOf?.({ key: release.key, digest: args.digest })?.outcome ?? null,
    });
  const verification = new PostPromotionVerification(
    `${component.name}-verify`,
    {
      platform,
      service: component.name,
      release,
      url: service.url,
      checks,
      spec: settings.verification,
      fastTrack,
      promoted: plan.candidate,
      rollbackTo: plan.live !== null && plan.live !== plan.candidate ? plan.live : null,
      record,
    },
    { parent, dependsOn: [traffic] },
  );
  const rollbackTo = plan.live !== null && plan.live !== plan.candidate ? plan.live : null;
  return {
    name: component.name,
    outcome: { url: service.url, activeColor: traffic.active, version: build.version, plan },
    // pulumi.output waits for every Output inside the object.
    result: pulumi.output({
      backup: backup ? { id: backup.backupId, digest: backup.digest, at: backup.createdAt } : null,
      gate: { verdict: "passed" as const, rounds: gate.rounds, at: gate.passedAt },
      switchedAt: traffic.switchedAt,
      verification: {
        verdict: "passed" as const,
        fastTrackBakeMs: verification.fastTrackBakeMs,
        errorRate: verification.errorRate,
        p95LatencyMs: verification.p95LatencyMs,
        at: verification.verifiedAt,
      },
    }),
    colors: { active: plan.candidate, previous: rollbackTo },
    verification,
  };
}

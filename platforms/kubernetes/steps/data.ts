// The steps that touch a service's data: a backup (a VolumeSnapshot the CSI driver says is ready, or
// a dump Job that checks its own file), a restore from a dump, and migrations in the release's image.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type {
  BackupStep,
  Platform,
  PlatformStep,
  ReleaseRef,
  StepOptions,
} from "../../../components/platform";
import type { KubernetesContext } from "../context";
import { imageJob } from "../jobs";
import { annotations, kubeName, serviceLabels } from "../labels";

/** The backup id of a release: its change id and version, as a Kubernetes name. */
export function backupIdOf(release: ReleaseRef): string {
  return kubeName(release.changeId, release.version);
}

export function backup(
  context: KubernetesContext,
  name: string,
  args: { service: string; release: ReleaseRef },
  opts: StepOptions,
): BackupStep {
  const { service, release } = args;
  const backup = context.kube(service).backup;
  if (!backup) {
    throw new Error(
      `shipgate:kubernetes.services.${service}.backup: ${service} is stateful (shipgate:services.${service}.stateful) ` +
        `but says nothing about how to back it up; expected {kind: volumeSnapshot, claim, snapshotClass} or ` +
        `{kind: dump, image, command, claim}`,
    );
  }
  const backupId = backupIdOf(release);
  const labels = serviceLabels(service, "backup");
  if (backup.kind === "volumeSnapshot") {
    const snapshot = new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: "snapshot.storage.k8s.io/v1",
        kind: "VolumeSnapshot",
        metadata: {
          name: kubeName(service, backupId),
          namespace: context.namespace,
          labels,
          annotations: {
            [annotations.release]: release.key,
            // The backup is verified when the CSI driver says the snapshot can be restored from.
            "pulumi.com/waitFor": "jsonpath={.status.readyToUse}=true",
          },
        },
        spec: {
          volumeSnapshotClassName: backup.snapshotClass,
          source: { persistentVolumeClaimName: backup.claim },
        },
      },
      context.opts(opts),
    );
    return {
      resource: snapshot,
      backupId: pulumi.output(backupId),
      digest: snapshot.metadata.apply((m) => `volumesnapshot-uid:${m?.uid ?? ""}`),
      createdAt: snapshot.metadata.apply((m) => m?.creationTimestamp ?? ""),
    };
  }
  const file = `/backups/${backupId}.dump`;
  const job = imageJob(
    context,
    name,
    {
      service,
      component: "backup",
      release,
      image: backup.image,
      command: [
        "sh",
        "-c",
        `set -eu\nexport BACKUP_FILE=${file}\n${backup.command}\n` +
          `test -s "$BACKUP_FILE"\nsha256sum "$BACKUP_FILE" > "$BACKUP_FILE.sha256"\nsha256sum -c "$BACKUP_FILE.sha256"`,
      ],
      claim: backup.claim,
      ...(backup.envFromSecret ? { envFromSecret: backup.envFromSecret } : {}),
    },
    opts,
  );
  return {
    resource: job,
    backupId: pulumi.output(backupId),
    digest: pulumi.output(`sha256-file:${backup.claim}${file}.sha256`),
    createdAt: job.status.apply((s) => s?.completionTime ?? ""),
  };
}

export function restore(
  context: KubernetesContext,
  name: string,
  args: { service: string; backupId: string },
  opts: StepOptions,
): PlatformStep {
  const backup = context.kube(args.service).backup;
  if (backup?.kind !== "dump" || !backup.restoreCommand) {
    throw new Error(
      `shipgate:kubernetes.services.${args.service}.backup: rollback with data restore needs a dump backup with a ` +
        `restoreCommand; restoring a VolumeSnapshot means a new claim from it, which shipgate does not re-wire yet`,
    );
  }
  const file = `/backups/${kubeName(args.backupId)}.dump`;
  const job = imageJob(
    context,
    name,
    {
      service: args.service,
      component: "restore",
      image: backup.image,
      command: [
        "sh",
        "-c",
        `set -eu\nexport BACKUP_FILE=${file}\nsha256sum -c "$BACKUP_FILE.sha256"\n${backup.restoreCommand}`,
      ],
      claim: backup.claim,
      ...(backup.envFromSecret ? { envFromSecret: backup.envFromSecret } : {}),
      marks: { "shipgate.dev/backup": args.backupId },
    },
    opts,
  );
  return { resource: job };
}

export function migration(
  context: KubernetesContext,
  name: string,
  args: Parameters<Platform["migration"]>[1],
  opts: StepOptions,
): PlatformStep {
  const kube = context.kube(args.service);
  if (!kube.migrationCommand) {
    throw new Error(
      `shipgate:kubernetes.services.${args.service}.migrationCommand: the release migrates data ` +
        `(${args.migrations.join(", ")}) but the stack does not say how; expected a shell command run in the release's image`,
    );
  }
  const job = imageJob(
    context,
    name,
    {
      service: args.service,
      component: "migration",
      image: `${args.artifact.source}@${args.artifact.digest}`,
      command: ["sh", "-c", kube.migrationCommand],
      env: { MIGRATIONS: args.migrations.join(","), BACKUP_ID: args.backupId },
      ...(kube.backup?.kind === "volumeSnapshot" ? { claim: kube.backup.claim, mountPath: "/data" } : {}),
    },
    opts,
  );
  return { resource: job };
}

/**
 * Not supported yet: a maintenance response needs a responder Deployment the active Service can
 * point at. Recreate releases and rollbacks with data restore stop here, before any change.
 */
export function maintenance(args: Parameters<Platform["maintenance"]>[1]): never {
  throw new Error(
    `${args.service}: release ${args.release.key} needs a maintenance window (the recreate strategy, or a rollback ` +
      `with data restore), which the kubernetes platform does not support yet; use blue-green with ` +
      `backward-compatible migrations`,
  );
}

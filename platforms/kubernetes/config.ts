// The kubernetes platform's stack settings, under `shipgate:kubernetes` in the stack's config. The
// program's config module (config.ts) reads the raw value and validates it with this schema; the
// per-service settings shared by every platform (port, healthPath, gate, verification, smoke, ...)
// stay in `shipgate:services`.
import { z } from "zod";

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a DNS label: lowercase letters, digits and -")
  .max(63, "expected at most 63 characters");

/** An image pinned by digest: `<repository>@sha256:<64 hex>`. Tags move; digests do not. */
export const pinnedImage = z
  .string()
  .regex(/^[^\s@]+@sha256:[0-9a-f]{64}$/, "expected an image pinned by digest: <repository>@sha256:<64 hex>");

const quantity = z
  .string()
  .regex(/^[0-9.]+[a-zA-Z]*$/, "expected a Kubernetes quantity such as 250m or 128Mi");

const resourcesSchema = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }).default({ cpu: "100m", memory: "128Mi" }),
  limits: z.strictObject({ cpu: quantity, memory: quantity }).default({ cpu: "500m", memory: "256Mi" }),
});

/** How a stateful service is backed up before a release changes anything. */
const backupSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    /** A CSI VolumeSnapshot of the service's PersistentVolumeClaim. */
    kind: z.literal("volumeSnapshot"),
    claim: dnsLabel,
    snapshotClass: dnsLabel,
  }),
  z.strictObject({
    /** A Job that dumps the database into a file on a backup claim, with its sha256 beside it. */
    kind: z.literal("dump"),
    image: pinnedImage,
    /** Writes the dump to $BACKUP_FILE (for example `pg_dump -Fc -f "$BACKUP_FILE"`), run by `sh -c`. */
    command: z.string().min(1),
    /** Reads $BACKUP_FILE back into the database, for rollback with data restore. */
    restoreCommand: z.string().min(1).optional(),
    /** The claim that keeps the dumps. */
    claim: dnsLabel,
    /** A Secret whose keys become the Job's environment (database address and credentials). */
    envFromSecret: dnsLabel.optional(),
  }),
]);

/** How one service runs on Kubernetes; the image itself comes from the release manifest. */
const kubernetesServiceSchema = z.strictObject({
  /** The port the container listens on; the Services expose `shipgate:services.<name>.port`. */
  containerPort: z.number().int().min(1).max(65535).default(8080),
  /** Overrides the image's entrypoint; `$(VAR)` expands the container's environment. */
  command: z.array(z.string().min(1)).min(1).optional(),
  args: z.array(z.string()).optional(),
  replicas: z.number().int().min(1).default(2),
  resources: resourcesSchema.default({
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { cpu: "500m", memory: "256Mi" },
  }),
  /** Runs the release's migrations, in the release's image, after the backup (`sh -c`, $MIGRATIONS). */
  migrationCommand: z.string().min(1).optional(),
  backup: backupSchema.optional(),
});

const labelKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
    "expected a label key such as kubernetes.io/hostname",
  )
  .max(316, "expected at most 316 characters");

const labelValueSchema = z
  .string()
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, "expected a label value: letters, digits, - _ .")
  .max(63, "expected at most 63 characters");

const tolerationSchema = z
  .strictObject({
    key: labelKey.optional(),
    operator: z.enum(["Exists", "Equal"]).default("Equal"),
    value: labelValueSchema.optional(),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
  })
  .refine((t) => t.operator !== "Equal" || t.key !== undefined, {
    message: "expected a key when operator is Equal (only Exists may match every taint)",
  })
  .refine((t) => t.operator !== "Exists" || t.value === undefined, {
    message: "expected no value when operator is Exists",
  });

/**
 * Where the stack's pods run: every pod it makes (each colour's, the gate, verification, backup,
 * migration and notification Jobs') gets these, so a release and the Jobs that judge it land on
 * the same nodes.
 */
const schedulingSchema = z.strictObject({
  nodeSelector: z
    .record(z.string(), labelValueSchema)
    .superRefine((selector, ctx) => {
      // Checked here rather than as the record's key schema, whose error would not say what a key is.
      for (const key of Object.keys(selector)) {
        if (!labelKey.safeParse(key).success) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "expected a label key such as kubernetes.io/hostname",
          });
        }
      }
    })
    .optional(),
  tolerations: z.array(tolerationSchema).optional(),
});

export const kubernetesConfigSchema = z.strictObject({
  /** The namespace every object of the stack lives in (it must exist, or set createNamespace). */
  namespace: dnsLabel,
  createNamespace: z.boolean().default(false),
  /**
   * The kubeconfig file, relative to the project (or absolute), for the provider and for observe()'s
   * kubectl; unset uses $KUBECONFIG or ~/.kube/config, as kubectl does.
   */
  kubeconfig: z.string().min(1).optional(),
  /** The kubeconfig context, for the provider and for observe()'s kubectl; the current one when unset. */
  context: z.string().min(1).optional(),
  /**
   * Render the manifests into this folder (relative to the project) instead of applying them
   * (the provider's renderYamlToDirectory). Nothing is read from a cluster: every release plans as
   * a first release.
   */
  renderYamlToDirectory: z.string().min(1).optional(),
  /** The image that runs gates, verification and webhook notifications (Node.js 22, pinned). */
  runnerImage: pinnedImage,
  /** The node selector and tolerations of every pod the stack makes; unset leaves the scheduler's choice. */
  scheduling: schedulingSchema.optional(),
  services: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a lowercase service name"),
      kubernetesServiceSchema,
    )
    .default({}),
});

export type KubernetesConfig = z.infer<typeof kubernetesConfigSchema>;
export type KubernetesServiceConfig = z.infer<typeof kubernetesServiceSchema>;
export type KubernetesScheduling = z.infer<typeof schedulingSchema>;
export type KubernetesBackupConfig = z.infer<typeof backupSchema>;

/** Validates `shipgate:kubernetes`, naming each key that is wrong and what was expected. */
export function parseKubernetesConfig(raw: unknown): KubernetesConfig {
  const result = kubernetesConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = ["shipgate:kubernetes", ...issue.path.map(String)].join(".");
      return `  - ${key}: ${issue.message}`;
    });
    throw new Error(`Invalid kubernetes platform config:\n${problems.join("\n")}`);
  }
  return result.data;
}

// The deployment record's fields known before the release runs: the seed's "Deployment
// Documentation" (issue, release, date, changes deployed, sign-off). Platforms add the outcome.
import type { Manifest } from "../release";
import type { ColorPlan } from "./colors";
import type { RecordDraft, SlotSpec } from "./platform";

export interface RecordDraftArgs {
  readonly manifest: Manifest;
  readonly digest: string;
  readonly stack: string;
  /** One service's plan and build (a verification's record), or every service's plan (the release's). */
  readonly service?: string;
  readonly plan?: ColorPlan;
  readonly build?: SlotSpec;
  readonly plans?: Readonly<Record<string, { readonly plan: ColorPlan; readonly version: string }>>;
}

export function buildRecordDraft(args: RecordDraftArgs): RecordDraft {
  const { manifest } = args;
  const signOff = (manifest.approvals ?? []).map((a) => ({
    role: a.role,
    name: a.approverId,
    date: a.signedAt,
  }));
  const plans =
    args.plans ??
    (args.service && args.plan && args.build
      ? { [args.service]: { plan: args.plan, version: args.build.version } }
      : {});
  return {
    issue: {
      changeId: manifest.changeId,
      changeRequest: manifest.changeRequest.id,
      incident: manifest.incident?.id ?? null,
    },
    release: {
      version: manifest.version,
      title: manifest.title ?? null,
      digest: args.digest,
      stack: args.stack,
    },
    deploymentType: manifest.deploymentType,
    strategy: manifest.strategy.type,
    changes: {
      code: manifest.components.map((c) => ({
        service: c.name,
        version: c.artifact.version,
        digest: c.artifact.digest ?? null,
      })),
      database: manifest.components.flatMap((c) =>
        (c.database?.migrations ?? []).map((m) => ({
          service: c.name,
          migration: m.id,
          backwardCompatible: m.backwardCompatible,
        })),
      ),
      config: manifest.components.flatMap((c) =>
        (c.configChanges ?? []).map((k) => ({ service: c.name, key: k.key })),
      ),
      services: Object.entries(plans).map(([service, p]) => ({
        service,
        version: p.version,
        color: p.plan.candidate,
        previousColor: p.plan.live !== p.plan.candidate ? p.plan.live : null,
        restarted: !p.plan.reuse,
      })),
    },
    tests: manifest.tests,
    signOff,
  };
}

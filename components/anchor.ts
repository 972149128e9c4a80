import * as pulumi from "@pulumi/pulumi";
import type { Manifest } from "../release";

/** Type token of the evidence resource the approval policies validate. */
export const evidenceType = "pulumi-nodejs:dynamic/shipgate/release:Evidence";

/** The evidence a release carries: the manifest as approved, and where it came from. */
export interface EvidenceInputs {
  readonly changeId: string;
  readonly version: string;
  readonly deploymentType: string;
  /** The canonical digest of the manifest without its approvals (see docs/release-manifest.md). */
  readonly digest: string;
  /** The whole manifest, approvals included, so a policy can recompute the digest itself. */
  readonly manifest: Manifest;
  readonly manifestPath: string;
  readonly stack: string;
}

// Evidence has no side effects: it is stored in the state and shown to the policies. The provider
// is self-contained (nothing to load), and any change to the evidence is an in-place update.
const evidenceProvider: pulumi.dynamic.ResourceProvider<EvidenceInputs, EvidenceInputs> = {
  async diff(_id, olds, news) {
    return {
      changes: JSON.stringify(olds) !== JSON.stringify(news),
      replaces: [],
      deleteBeforeReplace: false,
    };
  },
  async create(inputs) {
    return { id: `${inputs.changeId}@${inputs.version}`, outs: inputs };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
};

class Evidence extends pulumi.dynamic.Resource {
  constructor(name: string, props: EvidenceInputs, opts?: pulumi.CustomResourceOptions) {
    super(evidenceProvider, name, props, opts, "shipgate/release", "Evidence");
  }
}

export interface ReleaseAnchorArgs {
  /** The release's evidence: plain values, known at preview, so mandatory policies stay mandatory. */
  readonly evidence: EvidenceInputs;
}

/**
 * The release anchor: carries the manifest's evidence. Every other step of the release depends on
 * it, so the approval policies, which validate its evidence resource, run before anything changes.
 */
export class ReleaseAnchor extends pulumi.ComponentResource {
  public readonly changeId: string;
  public readonly version: string;
  public readonly digest: string;

  constructor(name: string, args: ReleaseAnchorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("shipgate:release:ReleaseAnchor", name, {}, opts);
    // A copy: the dynamic resource adds its serialized provider to the props object it is given.
    new Evidence(`${name}-evidence`, { ...args.evidence }, { parent: this });
    this.changeId = args.evidence.changeId;
    this.version = args.evidence.version;
    this.digest = args.evidence.digest;
    this.registerOutputs({ changeId: this.changeId, version: this.version, digest: this.digest });
  }
}

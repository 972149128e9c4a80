// Releases for policy tests: manifests from the repository's examples, approvers with real Ed25519
// keys, and approvals signed with the release model, so the approval gates check real signatures.
import { join } from "node:path";
import {
  type ApprovalRole,
  type Manifest,
  type TrustedKeys,
  generateApproverKeyPair,
  loadManifestFile,
  manifestDigest,
  parsePrivateKey,
  signApproval,
} from "../../../release";
import { evidenceType } from "../../../policies/lib/roles";

/** A manifest of the repository (releases/...), valid by construction. */
export function exampleManifest(path: string): Manifest {
  const check = loadManifestFile(join(__dirname, "../../..", path));
  if (!check.ok) throw new Error(`${path} is not a valid manifest`);
  return structuredClone(check.manifest);
}

export interface Approver {
  readonly id: string;
  readonly role: ApprovalRole;
  readonly publicKey: string;
  readonly privateKeyPem: string;
}

function approver(id: string, role: ApprovalRole): Approver {
  return { id, role, ...generateApproverKeyPair() };
}

/** One approver per role, plus the sample app's change request author (riley) with a technical key. */
export const approvers = {
  tara: approver("tara", "technical"),
  bea: approver("bea", "business"),
  sue: approver("sue", "support"),
  carl: approver("carl", "change-board"),
  riley: approver("riley", "technical"),
};

/** The trusted keys a stack's policy config holds: every approver above, in their own role. */
export function trustedKeys(list: readonly Approver[] = Object.values(approvers)): TrustedKeys {
  return {
    approvers: Object.fromEntries(list.map((a) => [a.id, { roles: [a.role], publicKeys: [a.publicKey] }])),
  };
}

const HOUR = 60 * 60 * 1000;

export interface SignOptions {
  readonly role?: ApprovalRole;
  /** Sign another digest than the manifest's (a manifest edited after signing). */
  readonly digest?: string;
  readonly signedAt?: Date;
  readonly expiresAt?: Date;
}

/** The manifest with approvals by `signers` appended, each signed over its digest. */
export function approve(
  manifest: Manifest,
  signers: readonly Approver[],
  options: SignOptions = {},
): Manifest {
  const signedAt = options.signedAt ?? new Date(Date.now() - HOUR);
  const expiresAt = options.expiresAt ?? new Date(Date.now() + 72 * HOUR);
  const approvals = signers.map((signer) =>
    signApproval({
      digest: options.digest ?? manifestDigest(manifest),
      approverId: signer.id,
      role: options.role ?? signer.role,
      privateKey: parsePrivateKey(signer.privateKeyPem),
      signedAt,
      expiresAt,
    }),
  );
  return { ...manifest, approvals: [...(manifest.approvals ?? []), ...approvals] };
}

/** The evidence resource the program registers for a manifest. */
export function evidence(manifest: Manifest, overrides: Record<string, unknown> = {}) {
  return {
    type: evidenceType,
    name: "release-anchor-evidence",
    props: {
      changeId: manifest.changeId,
      version: manifest.version,
      deploymentType: manifest.deploymentType,
      digest: manifestDigest(manifest),
      manifest,
      manifestPath: "releases/test.yaml",
      stack: "local",
      ...overrides,
    },
  };
}

/** A value a fixture guarantees, or a clear failure. */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}`);
  return value;
}

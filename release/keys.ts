/**
 * Approver keys: Ed25519 through Node's crypto. A public key travels as the base64 of its 32 raw bytes
 * (short enough for a YAML line); a private key lives only in a PKCS#8 PEM file its owner keeps.
 */
import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { z } from "zod";
import { isMap, parseDocument } from "yaml";
import { type Checked, describeIssue, issuesFromZod } from "./issues";
import { parseYamlData } from "./yaml";
import { type ApprovalRole, APPROVAL_ROLES, PRINCIPAL_ID_PATTERN } from "./schema";

export interface ApproverKeyPair {
  /** Base64 of the 32-byte raw Ed25519 public key: what goes into a trusted-keys file. */
  readonly publicKey: string;
  /** PKCS#8 PEM: what goes into the approver's private key file, and nowhere else. */
  readonly privateKeyPem: string;
}

export function generateApproverKeyPair(): ApproverKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return {
    publicKey: encodePublicKey(publicKey),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** Base64 of the raw public key. Accepts a public key, or a private key whose public half is wanted. */
export function encodePublicKey(key: KeyObject): string {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.crv !== "Ed25519" || jwk.x === undefined) throw new Error("expected an Ed25519 key");
  return Buffer.from(jwk.x, "base64url").toString("base64");
}

const RAW_PUBLIC_KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/** The public key a base64 text stands for; throws if the text is not 32 bytes of base64. */
export function decodePublicKey(text: string): KeyObject {
  if (!RAW_PUBLIC_KEY_PATTERN.test(text))
    throw new Error("expected the base64 of a 32-byte Ed25519 public key");
  const x = Buffer.from(text, "base64").toString("base64url");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
}

/** An Ed25519 private key from PKCS#8 PEM; throws, without echoing the input, on anything else. */
export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    throw new Error("expected a PKCS#8 PEM private key (as written by shipgate keygen)");
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(
      `expected an Ed25519 private key, found ${key.asymmetricKeyType ?? "an unknown key type"}`,
    );
  }
  return key;
}

const publicKeyText = z.string().refine((text) => {
  try {
    decodePublicKey(text);
    return true;
  } catch {
    return false;
  }
}, "expected the base64 of a 32-byte Ed25519 public key (as printed by shipgate keygen)");

const trustedApproverSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** The roles this approver may sign for. */
  roles: z.array(z.enum(APPROVAL_ROLES)).min(1, "expected at least one role"),
  /** More than one key lets an approver rotate keys without invalidating approvals in flight. */
  publicKeys: z.array(publicKeyText).min(1, "expected at least one public key"),
});

/** Who may approve: approver id to roles and public keys. Owned by the platform or compliance team. */
export const trustedKeysSchema = z.strictObject({
  approvers: z.record(
    z
      .string()
      .regex(PRINCIPAL_ID_PATTERN, "expected an approver id of lower-case letters, digits and . _ @ -"),
    trustedApproverSchema,
  ),
});

export type TrustedKeys = z.infer<typeof trustedKeysSchema>;
export type TrustedApprover = z.infer<typeof trustedApproverSchema>;

/** Trusted keys from already-parsed data (e.g. a policy pack's config). */
export function checkTrustedKeys(data: unknown): Checked<TrustedKeys> {
  const result = trustedKeysSchema.safeParse(data);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: issuesFromZod(result.error) };
}

/** Trusted keys from the text of a trusted-keys YAML file. */
export function parseTrustedKeys(text: string): Checked<TrustedKeys> {
  const data = parseYamlData(text);
  return data.ok ? checkTrustedKeys(data.value) : data;
}

/** The trusted entry for an approver id; own properties only, so `constructor` is just an unknown id. */
export function trustedApprover(trustedKeys: TrustedKeys, approverId: string): TrustedApprover | undefined {
  return Object.hasOwn(trustedKeys.approvers, approverId) ? trustedKeys.approvers[approverId] : undefined;
}

/**
 * The text of a trusted-keys file with a public key added for an approver (created if the text is
 * empty), comments kept. An approver already present keeps their keys and roles and gains the new ones,
 * which is how a key is rotated.
 */
export function addTrustedKeyToText(
  text: string,
  approverId: string,
  publicKey: string,
  roles: readonly ApprovalRole[],
): string {
  const document = parseDocument(text.trim() === "" ? "approvers: {}\n" : text, {
    version: "1.2",
    uniqueKeys: true,
  });
  if (document.errors.length > 0) throw new Error("expected a trusted-keys YAML file");
  const current = checkTrustedKeys(document.toJS());
  if (!current.ok)
    throw new Error(`expected a valid trusted-keys file: ${current.issues.map(describeIssue).join("; ")}`);
  const existing = trustedApprover(current.value, approverId);
  const entry = {
    ...(existing?.name === undefined ? {} : { name: existing.name }),
    roles: [...new Set([...(existing?.roles ?? []), ...roles])],
    publicKeys: [...new Set([...(existing?.publicKeys ?? []), publicKey])],
  };
  const approvers = document.get("approvers");
  if (isMap(approvers)) approvers.flow = false;
  document.setIn(["approvers", approverId], document.createNode(entry));
  const updated = document.toString({ lineWidth: 0, flowCollectionPadding: false });
  const check = parseTrustedKeys(updated);
  if (!check.ok)
    throw new Error(`the updated trusted keys are not valid: ${check.issues.map(describeIssue).join("; ")}`);
  return updated;
}

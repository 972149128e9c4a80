import { stringify } from "yaml";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  type ApprovalRole,
  PRINCIPAL_ID_PATTERN,
  addTrustedKeyToText,
  generateApproverKeyPair,
} from "../../release";
import { readText, replaceFile, writeNewFile } from "../files";
import { type CommandResult, CliError, succeeded } from "../result";

export interface KeygenOptions {
  readonly id: string;
  /** Where the private key goes; defaults to `<id>.key`. */
  readonly out?: string;
  /** The roles to put into the suggested trusted-keys entry. */
  readonly roles: readonly ApprovalRole[];
  readonly force: boolean;
  /** A trusted-keys file to add the public key to (created if missing): for trying shipgate on one machine. */
  readonly addTo?: string;
}

/**
 * `shipgate keygen`: a new Ed25519 key pair. The private key is written to a file only its owner can read
 * and is never printed; the public key is printed with the trusted-keys entry to hand to the platform team.
 */
export function generateKey(options: KeygenOptions): CommandResult {
  if (!PRINCIPAL_ID_PATTERN.test(options.id)) {
    throw new CliError(`--id ${options.id} is not an id of lower-case letters, digits and . _ @ -`);
  }
  const file = options.out ?? `${options.id}.key`;
  if (options.addTo !== undefined && options.roles.length === 0) {
    throw new CliError("--add-to needs at least one --role: the roles the approver may sign for");
  }
  const keyPair = generateApproverKeyPair();
  // Build the trusted-keys text first: a key file is only left behind if everything else worked.
  let trustedText: string | undefined;
  if (options.addTo !== undefined) {
    const current = existsSync(options.addTo) ? readText(options.addTo, "trusted keys") : "";
    try {
      trustedText = addTrustedKeyToText(current, options.id, keyPair.publicKey, options.roles);
    } catch (error) {
      throw new CliError(`${options.addTo}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  // A key folder such as ~/.shipgate is made owner-only when shipgate creates it.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeNewFile(file, keyPair.privateKeyPem, { force: options.force, mode: 0o600 });
  if (options.addTo !== undefined && trustedText !== undefined) {
    if (existsSync(options.addTo)) replaceFile(options.addTo, trustedText);
    else writeNewFile(options.addTo, trustedText, { force: false });
  }
  const entry = { roles: [...options.roles], publicKeys: [keyPair.publicKey] };
  const snippet = stringify(
    { approvers: { [options.id]: entry } },
    { flowCollectionPadding: false },
  ).trimEnd();
  const text = [
    `Wrote the private key of ${options.id} to ${file} (mode 0600). Keep it to yourself; shipgate never prints it.`,
    `Public key: ${keyPair.publicKey}`,
    "",
    ...(options.addTo === undefined
      ? ["Entry for the trusted-keys file (the platform team decides the roles):", snippet]
      : [`Added ${options.id} (${options.roles.join(", ")}) to the trusted keys in ${options.addTo}.`]),
  ].join("\n");
  return succeeded(text, {
    approverId: options.id,
    publicKey: keyPair.publicKey,
    privateKeyFile: file,
    trustedKeysEntry: entry,
    ...(options.addTo === undefined ? {} : { trustedKeysFile: options.addTo }),
  });
}

/** The `shipgate` command line: commander wiring around the command functions in ./commands. */
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import {
  type ApprovalRole,
  APPROVAL_ROLES,
  DEPLOYMENT_TYPES,
  PRINCIPAL_ID_PATTERN,
  SHA256_DIGEST_PATTERN,
  parseDuration,
} from "../release";
import { approveManifest } from "./commands/approve";
import { digestManifest } from "./commands/digest";
import { generateKey } from "./commands/keygen";
import { newManifest } from "./commands/new";
import { validateManifests } from "./commands/validate";
import { verifyManifest, verifyWithPolicy } from "./commands/verify";
import { type CommandResult, CliError, EXIT_USAGE } from "./result";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** shipgate's version from its package.json: the nearest one above this file, source or compiled. */
function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const packageJson: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (typeof packageJson === "object" && packageJson !== null && "version" in packageJson) {
        return String(packageJson.version);
      }
    } catch {
      // No package.json here: look one level up.
    }
  }
  return "unknown";
}

function parseRole(value: string): ApprovalRole {
  const role = APPROVAL_ROLES.find((candidate) => candidate === value);
  if (role === undefined) throw new InvalidArgumentError(`expected one of ${APPROVAL_ROLES.join(", ")}`);
  return role;
}

function collectRole(value: string, previous: ApprovalRole[]): ApprovalRole[] {
  return [...previous, parseRole(value)];
}

function parseId(value: string): string {
  if (!PRINCIPAL_ID_PATTERN.test(value)) {
    throw new InvalidArgumentError("expected an id of lower-case letters, digits and . _ @ -");
  }
  return value;
}

function parsePositiveDuration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError("expected a duration such as 72h, 3d or 1h30m");
  return ms;
}

function parseTimestamp(value: string): Date {
  const time = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(time)) {
    throw new InvalidArgumentError("expected an RFC 3339 timestamp such as 2026-12-03T20:00:00Z");
  }
  return new Date(time);
}

function parseDigest(value: string): string {
  if (!SHA256_DIGEST_PATTERN.test(value)) {
    throw new InvalidArgumentError("expected a digest as shipgate digest prints it: sha256:<64 hex digits>");
  }
  return value;
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number");
  return Number(value);
}

/** Builds the program; each action stores its result instead of printing, so `run` prints once. */
function buildProgram(io: CliIo, record: (result: CommandResult, json: boolean) => void): Command {
  const program = new Command("shipgate")
    .description("Release manifests: validate them, compute their digest, and sign and verify approvals.")
    .version(packageVersion())
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(run shipgate help <command> for its options)");
  const json = (): Option => new Option("--json", "print one JSON object for pipelines instead of text");

  program
    .command("new")
    .description("write a new release manifest for a deployment type")
    .argument("<type>", `deployment type: ${DEPLOYMENT_TYPES.join(", ")}`)
    .requiredOption("-o, --out <file>", "the manifest file to write")
    .requiredOption("--change-id <id>", "the change id, e.g. CHG-2041")
    .requiredOption("--version <semver>", "the release version, e.g. 2.4.0")
    .requiredOption("--author <id>", "who wrote the change request", parseId)
    .option("--title <text>", "one line saying what the release does")
    .option("--start <timestamp>", "when the release window opens (default: in about a day)", parseTimestamp)
    .option("--force", "overwrite the file if it exists", false)
    .addOption(json())
    .action(
      (
        type: string,
        options: {
          out: string;
          changeId: string;
          version: string;
          author: string;
          title?: string;
          start?: Date;
          force: boolean;
          json?: boolean;
        },
      ) => {
        record(newManifest({ type, ...options }), options.json === true);
      },
    );

  program
    .command("validate")
    .description("check manifests against the schema and their deployment type's rules")
    .argument("<manifest...>", "manifest files")
    .addOption(json())
    .action((files: string[], options: { json?: boolean }) => {
      record(validateManifests(files), options.json === true);
    });

  program
    .command("digest")
    .description("print the canonical digest of a manifest: what approvers sign")
    .argument("<manifest>", "manifest file")
    .addOption(json())
    .action((file: string, options: { json?: boolean }) => {
      record(digestManifest(file), options.json === true);
    });

  program
    .command("keygen")
    .description("create an approver's Ed25519 key pair; the private key goes to a file only you can read")
    .requiredOption("--id <approver>", "your approver id, e.g. alice", parseId)
    .option("-o, --out <file>", "private key file (default: <approver>.key)")
    .option("--role <role>", "a role to suggest for the trusted-keys entry (repeatable)", collectRole, [])
    .option("--force", "overwrite the key file if it exists", false)
    .option("--add-to <file>", "also add the public key with the --role(s) to this trusted-keys file")
    .addOption(json())
    .action(
      (options: {
        id: string;
        out?: string;
        role: ApprovalRole[];
        force: boolean;
        addTo?: string;
        json?: boolean;
      }) => {
        record(generateKey({ ...options, roles: options.role }), options.json === true);
      },
    );

  program
    .command("approve")
    .description("sign a manifest's digest with your private key and add the approval to the manifest")
    .argument("<manifest>", "manifest file (updated in place)")
    .requiredOption("--key <file>", "your private key file (from shipgate keygen)")
    .requiredOption("--id <approver>", "your approver id", parseId)
    .requiredOption("--role <role>", `the role you approve as: ${APPROVAL_ROLES.join(", ")}`, parseRole)
    .option(
      "--expires-in <duration>",
      "how long the approval stays valid",
      parsePositiveDuration,
      parseDuration("72h"),
    )
    .option(
      "--expect-digest <digest>",
      "refuse unless the manifest still has the digest you reviewed",
      parseDigest,
    )
    .option("--trusted-keys <file>", "refuse unless this trusted-keys file trusts your key for the role")
    .addOption(json())
    .action(
      (
        file: string,
        options: {
          key: string;
          id: string;
          role: ApprovalRole;
          expiresIn: number;
          expectDigest?: string;
          trustedKeys?: string;
          json?: boolean;
        },
      ) => {
        record(
          approveManifest({
            file,
            keyFile: options.key,
            approverId: options.id,
            role: options.role,
            validForMs: options.expiresIn,
            ...(options.expectDigest === undefined ? {} : { expectDigest: options.expectDigest }),
            ...(options.trustedKeys === undefined ? {} : { trustedKeysFile: options.trustedKeys }),
          }),
          options.json === true,
        );
      },
    );

  program
    .command("verify")
    .description(
      "check a manifest's approvals: every approval gate of the policy pack with --policy-config, or signatures only with --trusted-keys",
    )
    .argument("<manifest>", "manifest file")
    .option(
      "--policy-config <file>",
      "the stack's policy pack config (policies/config/<stack>.json): runs every approval gate the pack runs",
    )
    .option("--stack <name>", "the stack the policy config is for (default: the config file's name)")
    .option("--trusted-keys <file>", "trusted-keys file: checks signatures, roles and approver count only")
    .option(
      "--require-role <role>",
      "a role needed besides the deployment type's (repeatable)",
      collectRole,
      [],
    )
    .option("--min-approvers <n>", "distinct approvers needed (with --trusted-keys)", parseCount, 1)
    .option(
      "--at <timestamp>",
      "verify signatures as of this time instead of now (with --trusted-keys)",
      parseTimestamp,
    )
    .option(
      "--allow-self-approval",
      "count approvals by the change request's author (with --trusted-keys)",
      false,
    )
    .option("--strict", "fail on any rejected approval too", false)
    .addOption(json())
    .action(
      async (
        file: string,
        options: {
          policyConfig?: string;
          stack?: string;
          trustedKeys?: string;
          requireRole: ApprovalRole[];
          minApprovers: number;
          at?: Date;
          allowSelfApproval: boolean;
          strict: boolean;
          json?: boolean;
        },
      ) => {
        if ((options.policyConfig === undefined) === (options.trustedKeys === undefined)) {
          throw new CliError(
            "verify needs either --policy-config <the stack's policy pack config> (every approval gate the pack runs) " +
              "or --trusted-keys <file> (signatures only), not both",
          );
        }
        if (options.policyConfig !== undefined) {
          if (options.at !== undefined || options.allowSelfApproval) {
            throw new CliError(
              "--at and --allow-self-approval apply to --trusted-keys only: the pack's gates judge now, and never count self-approval",
            );
          }
          record(
            await verifyWithPolicy({
              file,
              policyConfigFile: options.policyConfig,
              stack: options.stack ?? basename(options.policyConfig).replace(/\.json$/, ""),
              requireRoles: options.requireRole,
              strict: options.strict,
            }),
            options.json === true,
          );
          return;
        }
        record(
          verifyManifest({
            file,
            trustedKeysFile: options.trustedKeys as string,
            requireRoles: options.requireRole,
            minApprovers: options.minApprovers,
            ...(options.at === undefined ? {} : { now: options.at }),
            allowSelfApproval: options.allowSelfApproval,
            strict: options.strict,
          }),
          options.json === true,
        );
      },
    );

  return program;
}

/** Runs the CLI on `argv` (as process.argv: node, script, args...) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const wantsJson = argv.includes("--json");
  let outcome: { result: CommandResult; json: boolean } | undefined;
  const program = buildProgram(io, (result, json) => {
    outcome = { result, json };
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end here with code 0; commander has already written its message.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (wantsJson) io.stdout(`${JSON.stringify({ ok: false, error: message }, null, 2)}\n`);
    else io.stderr(`shipgate: ${message}\n`);
    return EXIT_USAGE;
  }
  if (outcome === undefined) {
    io.stderr(program.helpInformation());
    return EXIT_USAGE;
  }
  const { result, json } = outcome;
  if (json) io.stdout(`${JSON.stringify(result.json, null, 2)}\n`);
  else if (result.exitCode === 0) io.stdout(`${result.text}\n`);
  else io.stderr(`${result.text}\n`);
  return result.exitCode;
}

export { CliError };

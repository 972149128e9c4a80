/** What a command hands back: an exit code, the lines a person reads, and the object `--json` prints. */
export const EXIT_OK = 0;
/** The check ran and said no: an invalid manifest, a digest mismatch, missing approvals. */
export const EXIT_FAILED = 1;
/** The command could not run: bad options, a file that cannot be read or written. */
export const EXIT_USAGE = 2;

export interface CommandResult {
  readonly exitCode: typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE;
  readonly text: string;
  readonly json: { readonly ok: boolean } & Record<string, unknown>;
}

/** An error whose message is fit to show as it is, without a stack. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

export function succeeded(text: string, json: Record<string, unknown>): CommandResult {
  return { exitCode: EXIT_OK, text, json: { ok: true, ...json } };
}

export function failed(text: string, json: Record<string, unknown>): CommandResult {
  return { exitCode: EXIT_FAILED, text, json: { ok: false, ...json } };
}

/** File handling shared by the commands: reads with clear errors, atomic and owner-only writes. */
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { type ManifestCheck, type ManifestIssue, describeIssue, parseManifest } from "../release";
import { CliError } from "./result";

function reason(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    const messages: Record<string, string> = {
      ENOENT: "no such file",
      EACCES: "permission denied",
      EISDIR: "is a directory",
      EEXIST: "already exists (use --force to replace it)",
    };
    return messages[error.code] ?? error.code;
  }
  return error instanceof Error ? error.message : String(error);
}

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${reason(error)}`);
  }
}

export function readManifest(path: string): { readonly text: string; readonly check: ManifestCheck } {
  const text = readText(path, "manifest");
  return { text, check: parseManifest(text) };
}

/** Replaces a file's content in one rename, so a crash never leaves half a manifest; keeps its mode. */
export function replaceFile(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: statSync(path).mode & 0o777, flag: "wx" });
    renameSync(temporary, path);
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${reason(error)}`);
  }
}

/** Writes a new file; refuses to overwrite unless forced. `mode` is enforced even on an existing file. */
export function writeNewFile(path: string, text: string, options: { force: boolean; mode?: number }): void {
  const mode = options.mode ?? 0o644;
  try {
    writeFileSync(path, text, { mode, flag: options.force ? "w" : "wx" });
    chmodSync(path, mode);
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${reason(error)}`);
  }
}

/** Owner-only, as ssh insists for private keys; Windows has no such mode bits to check. */
export function assertPrivateFile(path: string): void {
  if (process.platform === "win32") return;
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new CliError(`cannot read private key ${path}: ${reason(error)}`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, "0");
    throw new CliError(`private key ${path} is readable by others (mode ${octal}): run chmod 600 ${path}`);
  }
}

export function issueLines(issues: readonly ManifestIssue[]): string {
  return issues.map((issue) => `  - ${describeIssue(issue)}`).join("\n");
}

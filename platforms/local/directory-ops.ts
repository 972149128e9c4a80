// The local platform's working directories, as plain functions: the dynamic provider in
// directory.ts only calls these, and unit tests call them directly.
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import type { LocalHandlers } from "./provider-factory";

/** What happens to a directory when its resource is deleted. */
export const removalPolicies = ["ifEmpty", "always", "never"] as const;
export type RemovalPolicy = (typeof removalPolicies)[number];

export interface DirectoryInputs {
  /** Path relative to the project folder (the engine's working directory). */
  readonly path: string;
  /** `ifEmpty` (default) keeps a directory that still holds files, so deleting never loses data. */
  readonly removeOnDelete: RemovalPolicy;
}

export interface DirectoryOutputs extends DirectoryInputs {
  readonly absolutePath: string;
}

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

/** Validates raw inputs; applies defaults. Returns the failures, each naming the property. */
export function checkDirectoryInputs(raw: Record<string, unknown>): {
  inputs: DirectoryInputs;
  failures: CheckFailure[];
} {
  const failures: CheckFailure[] = [];
  const path = raw["path"];
  if (typeof path !== "string" || path.length === 0) {
    failures.push({ property: "path", reason: "expected a non-empty string" });
  } else if (isAbsolute(path) || path.split(/[\\/]/).includes("..")) {
    failures.push({
      property: "path",
      reason: `expected a path inside the project folder (relative, without ".."), got "${path}"`,
    });
  }
  const removeOnDelete = raw["removeOnDelete"] ?? "ifEmpty";
  if (!removalPolicies.includes(removeOnDelete as RemovalPolicy)) {
    failures.push({
      property: "removeOnDelete",
      reason: `expected one of ${removalPolicies.join(", ")}, got ${JSON.stringify(removeOnDelete)}`,
    });
  }
  return {
    inputs: { path: typeof path === "string" ? path : "", removeOnDelete: removeOnDelete as RemovalPolicy },
    failures,
  };
}

/** Only the path decides which directory this is: changing it replaces the resource. */
export function directoryReplaceKeys(olds: DirectoryInputs, news: DirectoryInputs): string[] {
  return olds.path === news.path ? [] : ["path"];
}

export function resolveInside(projectDir: string, path: string): string {
  const absolutePath = resolve(projectDir, path);
  const rel = relative(projectDir, absolutePath);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new Error(`directory "${path}" resolves outside the project folder ${projectDir}`);
  }
  return absolutePath;
}

export async function createDirectory(
  projectDir: string,
  inputs: DirectoryInputs,
): Promise<DirectoryOutputs> {
  const absolutePath = resolveInside(projectDir, inputs.path);
  await mkdir(absolutePath, { recursive: true });
  return { ...inputs, absolutePath };
}

/** Reads the directory back; undefined when it is gone, so a refresh drops it from the state. */
export async function readDirectory(
  projectDir: string,
  inputs: DirectoryInputs,
): Promise<DirectoryOutputs | undefined> {
  const absolutePath = resolveInside(projectDir, inputs.path);
  try {
    const info = await stat(absolutePath);
    return info.isDirectory() ? { ...inputs, absolutePath } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Deletes the directory as its removal policy says. Returns what happened, so the caller can
 * report a directory that was kept because it still holds files.
 */
export async function deleteDirectory(
  projectDir: string,
  outputs: DirectoryInputs,
): Promise<"removed" | "kept" | "absent"> {
  const absolutePath = resolveInside(projectDir, outputs.path);
  let entries: string[];
  try {
    entries = await readdir(absolutePath);
  } catch {
    return "absent";
  }
  if (outputs.removeOnDelete === "never") return "kept";
  if (outputs.removeOnDelete === "ifEmpty" && entries.length > 0) return "kept";
  await rm(absolutePath, { recursive: true, force: true });
  return "removed";
}

/** The Directory resource's provider logic (see provider-factory.ts). */
export const handlers: LocalHandlers<DirectoryInputs, DirectoryOutputs> = {
  async check(_projectDir, _olds, news) {
    return checkDirectoryInputs(news as Record<string, unknown>);
  },
  async diff(_projectDir, _id, olds, news) {
    const replaces = directoryReplaceKeys(olds, news);
    return {
      changes: replaces.length > 0 || olds.removeOnDelete !== news.removeOnDelete,
      replaces,
      deleteBeforeReplace: false,
    };
  },
  async create(projectDir, inputs) {
    const outs = await createDirectory(projectDir, inputs);
    return { id: outs.path, outs };
  },
  async read(projectDir, id, props) {
    const outs = await readDirectory(projectDir, props);
    // Gone from disk: an empty id drops it from the state on refresh.
    return outs ? { id, props: outs } : { id: "", props };
  },
  async update(projectDir, _id, _olds, news) {
    return { outs: await createDirectory(projectDir, news) };
  },
  async delete(projectDir, _id, props) {
    await deleteDirectory(projectDir, props);
  },
};

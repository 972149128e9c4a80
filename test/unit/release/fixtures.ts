/** Shared test material: the example manifests, approver keys and helpers to poke at plain data. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { KeyObject } from "node:crypto";
import { parse } from "yaml";
import {
  type ApprovalRole,
  type DeploymentType,
  type Manifest,
  type TrustedKeys,
  checkManifest,
  generateApproverKeyPair,
  parsePrivateKey,
} from "../../../release";

export const EXAMPLES_DIR = join(__dirname, "..", "..", "..", "releases", "examples");

export function exampleText(type: DeploymentType): string {
  return readFileSync(join(EXAMPLES_DIR, `${type}.yaml`), "utf8");
}

/** The example's data as parsed from YAML, before any validation. */
export function exampleData(type: DeploymentType): Record<string, unknown> {
  return parse(exampleText(type)) as Record<string, unknown>;
}

export function exampleManifest(type: DeploymentType): Manifest {
  const check = checkManifest(exampleData(type));
  if (!check.ok) throw new Error(`example ${type} is invalid: ${JSON.stringify(check.issues)}`);
  return check.manifest;
}

export interface TestApprover {
  readonly id: string;
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

export function makeApprover(id: string): TestApprover {
  const pair = generateApproverKeyPair();
  return { id, publicKey: pair.publicKey, privateKey: parsePrivateKey(pair.privateKeyPem) };
}

export function trustedKeysFor(entries: readonly [TestApprover, readonly ApprovalRole[]][]): TrustedKeys {
  return {
    approvers: Object.fromEntries(
      entries.map(([approver, roles]) => [
        approver.id,
        { roles: [...roles], publicKeys: [approver.publicKey] },
      ]),
    ),
  };
}

export type PathSegment = string | number;

/** Every leaf (string, number, boolean, null, empty array or object) with its path. */
export function leaves(value: unknown, path: PathSegment[] = []): [PathSegment[], unknown][] {
  if (Array.isArray(value)) {
    return value.length === 0
      ? [[path, value]]
      : value.flatMap((item, index) => leaves(item, [...path, index]));
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    return entries.length === 0
      ? [[path, value]]
      : entries.flatMap(([key, item]) => leaves(item, [...path, key]));
  }
  return [[path, value]];
}

/** Every object member's path (not array items): the fields one can delete or mistype. */
export function memberPaths(value: unknown, path: PathSegment[] = []): PathSegment[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => memberPaths(item, [...path, index]));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => [
      [...path, key],
      ...memberPaths(item, [...path, key]),
    ]);
  }
  return [];
}

type Container = Record<PathSegment, unknown>;

function parentOf(root: unknown, path: readonly PathSegment[]): Container {
  let node = root;
  for (const segment of path.slice(0, -1)) node = (node as Container)[segment];
  return node as Container;
}

export function setAt(root: unknown, path: readonly PathSegment[], value: unknown): void {
  parentOf(root, path)[path[path.length - 1] as PathSegment] = value;
}

export function deleteAt(root: unknown, path: readonly PathSegment[]): void {
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the path is the point of the helper
  delete parentOf(root, path)[path[path.length - 1] as PathSegment];
}

export function getAt(root: unknown, path: readonly PathSegment[]): unknown {
  return path.reduce<unknown>((node, segment) => (node as Container)[segment], root);
}

/** The same path as the issues print it: `components[0].artifact`. */
export function pathText(path: readonly PathSegment[]): string {
  return path
    .map((segment, index) =>
      typeof segment === "number" ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join("");
}

/** The value, or a test failure saying it was missing: lets tests index without non-null assertions. */
export function present<T>(value: T | undefined | null, what = "value"): T {
  if (value === undefined || value === null) throw new Error(`expected a ${what}, found none`);
  return value;
}

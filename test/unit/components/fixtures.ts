// Shared material of the component tests: the sample app's release manifests, a stack's service
// settings with the config's defaults applied, and what a registration looks like once recorded.
import { join } from "node:path";
import { parseStackConfig, type ServiceSettings } from "../../../config";
import type { SlotSpec } from "../../../components/platform";
import { type Manifest, loadManifestFile } from "../../../release";
import type { Registration } from "../mocks";

export const projectRoot = join(__dirname, "..", "..", "..");

export interface LoadedManifest {
  readonly manifest: Manifest;
  readonly digest: string;
  readonly path: string;
}

/** A manifest of releases/sample-app/, validated. */
export function sampleManifest(file: "v1" | "v2" | "v4-recreate"): LoadedManifest {
  const path = `releases/sample-app/${file}.yaml`;
  const check = loadManifestFile(join(projectRoot, path));
  if (!check.ok) throw new Error(`${path} is not valid: ${JSON.stringify(check.issues)}`);
  return { manifest: check.manifest, digest: check.digest, path };
}

/** `shipgate:services` as the program gets it: the sample app on `port`, every default applied. */
export function serviceSettings(
  port: number,
  overrides: Record<string, unknown> = {},
): Record<string, ServiceSettings> {
  return parseStackConfig(
    {
      services: {
        "sample-app": { port, artifacts: ".shipgate/artifacts/sample-app", ...overrides },
      },
    },
    "unit",
  ).services;
}

/** What a colour runs for the sample app's build of a manifest (the release's desired build). */
export function sampleBuild(loaded: LoadedManifest): SlotSpec {
  const artifact = loaded.manifest.components[0]?.artifact;
  if (!artifact?.version || !artifact.digest) throw new Error(`${loaded.path}: no pinned artifact`);
  return {
    version: artifact.version,
    artifact: {
      source: ".shipgate/artifacts/sample-app",
      version: artifact.version,
      digest: artifact.digest,
    },
    env: {},
  };
}

/** `manifest` with the first component's config changes replaced by `changes` (default: kept) plus `extra`. */
export function withConfigChanges(
  manifest: Manifest,
  extra: Manifest["components"][number]["configChanges"],
  changes?: Manifest["components"][number]["configChanges"],
): Manifest {
  const [component, ...rest] = manifest.components;
  if (!component) throw new Error("the manifest has no component");
  return {
    ...manifest,
    components: [
      { ...component, configChanges: [...(changes ?? component.configChanges), ...extra] },
      ...rest,
    ],
  };
}

/** Type, name, parent and dependencies of each registration, in order: the shape of a release. */
export function shapeOf(registrations: readonly Registration[]): string[] {
  return registrations.map(
    (r) => `${r.type} ${r.name} <- ${r.parent || "(root)"} after [${(r.dependsOn ?? []).join(", ")}]`,
  );
}

/** The one registration named `name`; fails when there is none or more than one. */
export function registered(registrations: readonly Registration[], name: string): Registration {
  const found = registrations.filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one registration named ${name}, got ${found.length}`);
  return found[0] as Registration;
}

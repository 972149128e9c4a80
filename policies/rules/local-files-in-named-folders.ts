import type { ResourceValidationPolicy } from "@pulumi/policy";

/** Type token of the local platform's working directories. */
export const localDirectoryType = "pulumi-nodejs:dynamic/shipgate/local:Directory";

export interface LocalFoldersConfig {
  /** Folders, relative to the project, under which the local platform may keep files. */
  readonly allowedRoots: string[];
}

export const localFoldersDefaults: LocalFoldersConfig = { allowedRoots: [".shipgate"] };

/** True when `path` (relative to the project) lies inside one of `roots`. */
export function insideAllowedRoot(path: string, roots: readonly string[]): boolean {
  const segments = path.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (path.startsWith("/") || segments.includes("..")) return false;
  return roots.some((root) => {
    const rootSegments = root.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
    return rootSegments.every((s, i) => segments[i] === s);
  });
}

/**
 * The local platform keeps every file it writes inside the folders the docs name, so that
 * `pulumi destroy` leaves nothing behind elsewhere and the repository stays clean.
 */
export const localFilesInNamedFolders: ResourceValidationPolicy = {
  name: "local-files-in-named-folders",
  description:
    "The local platform's working directories must lie inside the folders the policy config names (by default .shipgate/).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedRoots: {
        type: "array",
        items: { type: "string" },
        default: localFoldersDefaults.allowedRoots,
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== localDirectoryType) return;
    const path: unknown = args.props["path"];
    if (typeof path !== "string") return;
    const { allowedRoots } = args.getConfig<LocalFoldersConfig>();
    if (!insideAllowedRoot(path, allowedRoots)) {
      reportViolation(
        `Move the working directory of ${args.name} ("${path}") under one of: ${allowedRoots.join(", ")}. ` +
          `Set shipgate:workDir in the stack's config, or add the folder to this policy's allowedRoots.`,
      );
    }
  },
};

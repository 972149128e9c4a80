// The shipgate program: one release of the stack's release manifest, on the stack's platform.
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { Release } from "./components/release";
import type { Platform } from "./components/platform";
import { loadStackConfig, type StackConfig } from "./config";
import { Directory } from "./platforms/local/directory";
import { LocalPlatform } from "./platforms/local";
import { KubernetesPlatform } from "./platforms/kubernetes";
import { AwsPlatform } from "./platforms/aws";
import { describeIssue, loadManifestFile } from "./release";

const projectDir = process.cwd();
const stack = pulumi.getStack();
const config = loadStackConfig();

function platformFor(settings: StackConfig): Platform {
  switch (settings.platform) {
    case "local":
      return new LocalPlatform({
        projectDir,
        workDir: settings.workDir,
        services: settings.services,
        ...(settings.notifications.webhookUrl ? { webhookUrl: settings.notifications.webhookUrl } : {}),
      });
    case "kubernetes":
      return new KubernetesPlatform({
        projectDir,
        // parseStackConfig requires these settings when the platform is kubernetes.
        config: settings.kubernetes as NonNullable<StackConfig["kubernetes"]>,
        services: settings.services,
        ...(settings.notifications.webhookUrl ? { webhookUrl: settings.notifications.webhookUrl } : {}),
      });
    case "aws":
      return new AwsPlatform({
        projectDir,
        // parseStackConfig requires these settings when the platform is aws.
        config: settings.aws as NonNullable<StackConfig["aws"]>,
        services: settings.services,
      });
    default:
      throw new Error(
        `shipgate:platform: "${settings.platform}" has no platform adapter in this version of shipgate; ` +
          `expected "local", "kubernetes" or "aws". Set it with \`npm run pulumi -- config set shipgate:platform local --stack ${stack}\`.`,
      );
  }
}

function loadManifest(path: string) {
  const check = loadManifestFile(join(projectDir, path));
  if (!check.ok) {
    throw new Error(
      `The release manifest ${path} (shipgate:manifest) is not valid:\n` +
        check.issues.map((issue) => `  - ${describeIssue(issue)}`).join("\n") +
        `\nFix it, check it with \`npx shipgate validate ${path}\`, and run the release again.`,
    );
  }
  return check;
}

let release: Release | undefined;
if (config.manifest) {
  const { manifest, digest } = loadManifest(config.manifest);
  release = new Release("release", {
    platform: platformFor(config),
    manifest,
    digest,
    manifestPath: config.manifest,
    stack,
    services: config.services,
    ...(config.restoreBackup ? { restoreBackup: config.restoreBackup } : {}),
  });
}

// The local platform's working folder; releases keep their data, backups and records under it.
// It waits for the release anchor, so an unapproved release changes nothing at all.
const workDir =
  config.platform === "local"
    ? new Directory(
        "workdir",
        { path: config.workDir, removeOnDelete: "ifEmpty" },
        { dependsOn: release ? [release.anchor] : [] },
      )
    : undefined;

const first = release ? Object.entries(release.services)[0] : undefined;

export const platform = config.platform;
export const workDirPath = workDir?.absolutePath;
/** Where users are served. */
export const url = first?.[1].url;
/** The colour users are sent to. */
export const activeColor = first?.[1].activeColor;
/** The version users get. */
export const liveVersion = first?.[1].activeColor.apply((color) =>
  color === first[1].plan.candidate
    ? first[1].version
    : (first[1].plan.keep[color as "blue" | "green"]?.version ?? null),
);
/** Every service of the release. */
export const services = release
  ? Object.fromEntries(
      Object.entries(release.services).map(([name, s]) => [name, { url: s.url, activeColor: s.activeColor }]),
    )
  : {};
/** The deployment record (Markdown). */
export const deploymentRecord = release?.recordLocation;

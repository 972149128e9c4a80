// The nginx that carries the local router's user traffic (platforms/local/router/nginx-config.ts
// says why): Debian's nginx package, unpacked (not installed) into .tools/nginx/, so no service is
// set up, nothing runs as root and nothing outside the project and the machine cache changes.
// nginx is BSD-licensed. Without it the router forwards requests itself: slower, same rules.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { machineCacheDir } from "./gobuild.mjs";
import { toolsDir } from "./engine.mjs";

/** Where the router looks for it (platforms/local/router/nginx.ts names the same path). */
export const projectNginx = join(toolsDir, "nginx", "nginx");

/** The version a binary reports, or undefined when it does not run. */
function versionOf(binary) {
  const result = spawnSync(binary, ["-v"], { encoding: "utf8" });
  if (result.status !== 0) return undefined;
  return /nginx\/(\S+)/.exec(result.stderr)?.[1];
}

/** The version apt would take of the `nginx` package, or undefined without apt. */
function aptCandidate() {
  if (!existsSync("/usr/bin/apt-cache")) return undefined;
  const policy = spawnSync("/usr/bin/apt-cache", ["policy", "nginx"], { encoding: "utf8" });
  const candidate = /Candidate:\s*(\S+)/.exec(policy.stdout ?? "")?.[1];
  return candidate === undefined || candidate === "(none)" ? undefined : candidate;
}

/** Downloads the package (no install) and unpacks its binary into `intoDir`. */
function unpack(version, intoDir, log) {
  const work = mkdtempSync(join(tmpdir(), "shipgate-nginx-deb-"));
  try {
    const download = () =>
      spawnSync("/usr/bin/apt-get", ["download", `nginx=${version}`], { cwd: work, encoding: "utf8" });
    let result = download();
    if (result.status !== 0 && process.getuid?.() === 0) {
      // A fresh machine may not have the package lists yet.
      spawnSync("/usr/bin/apt-get", ["update"], { stdio: "ignore" });
      result = download();
    }
    if (result.status !== 0) throw new Error(`apt-get download nginx=${version}: ${result.stderr.trim()}`);
    const deb = readdirSync(work).find((name) => name.endsWith(".deb"));
    if (deb === undefined) throw new Error("apt-get download left no .deb file");
    execFileSync("dpkg-deb", ["-x", join(work, deb), join(work, "root")]);
    mkdirSync(intoDir, { recursive: true });
    copyFileSync(join(work, "root", "usr", "sbin", "nginx"), join(intoDir, "nginx"));
    log(`nginx ${version} unpacked from Debian's package`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Puts a working nginx at .tools/nginx/nginx, from the machine cache when it has one. Returns what
 * happened, for the set-up's log; never throws (the router works without it, only slower).
 */
export function ensureNginx(log) {
  if (existsSync(projectNginx) && versionOf(projectNginx) !== undefined) {
    return `nginx ${versionOf(projectNginx)} in .tools/nginx`;
  }
  try {
    const version = aptCandidate();
    if (version === undefined) {
      // No apt: an nginx the machine has (any package manager's) does the same job.
      const system = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].find(
        (path) => existsSync(path) && versionOf(path) !== undefined,
      );
      if (system === undefined) {
        return "nginx: neither apt nor an installed nginx here; the local router forwards requests itself (slower)";
      }
      mkdirSync(dirname(projectNginx), { recursive: true });
      copyFileSync(system, projectNginx);
      return `nginx ${versionOf(projectNginx)} copied from ${system} into .tools/nginx`;
    }
    const cache = machineCacheDir("nginx", "SHIPGATE_NGINX_CACHE");
    const cached = cache === undefined ? undefined : join(cache, version);
    if (cached === undefined || !existsSync(join(cached, "nginx"))) {
      unpack(version, cached ?? dirname(projectNginx), log);
    }
    mkdirSync(dirname(projectNginx), { recursive: true });
    if (cached !== undefined) copyFileSync(join(cached, "nginx"), projectNginx);
    const runs = versionOf(projectNginx);
    if (runs === undefined) {
      rmSync(projectNginx, { force: true });
      return `nginx ${version} does not run here; the local router forwards requests itself (slower)`;
    }
    return `nginx ${runs} in .tools/nginx`;
  } catch (error) {
    return `nginx could not be fetched (${error.message.split("\n")[0]}); the local router forwards requests itself (slower)`;
  }
}

// What the set-up needs to build Go tools from the module proxy and keep them for the machine: a
// `go build` with progress lines, the machine-wide cache folder, and an install that hard-links (or
// copies) a folder of binaries into place in one rename, so a half-written folder is never used.
//
// Plain Node.js with no dependencies, so that it runs on a fresh clone before `npm ci`.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

/** The Go toolchain's version (`go1.26.8`), or undefined when there is none. */
export function goVersion() {
  try {
    return execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The machine-wide cache folder for one kind of build (`engine`, `kubernetes`), or undefined when the
 * cache is switched off. `variable` names the environment variable that moves it (a folder) or
 * switches it off (`off`); otherwise it is `$XDG_CACHE_HOME/shipgate/<kind>` (or `~/.cache/...`).
 */
export function machineCacheDir(kind, variable) {
  const configured = process.env[variable];
  if (configured === "off") return undefined;
  if (configured) return configured;
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return join(base, "shipgate", kind);
}

/**
 * The environment of a build from pinned modules: the module's go.sum pins every module and is the
 * trust anchor, so no checksum database is needed (none is reachable from every machine this runs on),
 * and go.mod is never rewritten.
 */
export function pinnedGoEnv() {
  return { ...process.env, GOSUMDB: "off", GOFLAGS: "-mod=readonly -buildvcs=false" };
}

/** An empty folder beside `dir` for a build to write into before it is installed; returns its path. */
export function buildStaging(dir) {
  const staging = `${dir}.build-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  return staging;
}

/** True when every one of `files` is in `dir`. */
export function complete(dir, files) {
  return files.every((file) => existsSync(join(dir, file)));
}

/** Hard-links (or copies, across file systems) `files` from one folder to another, replacing it. */
export function installFiles(files, fromDir, toDir) {
  const staging = `${toDir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const file of files) {
    try {
      linkSync(join(fromDir, file), join(staging, file));
    } catch {
      copyFileSync(join(fromDir, file), join(staging, file));
    }
    chmodSync(join(staging, file), 0o755);
  }
  rmSync(toDir, { recursive: true, force: true });
  mkdirSync(dirname(toDir), { recursive: true });
  renameSync(staging, toDir);
}

/**
 * `go build -v <args>` in `cwd`, printing how many packages it compiled so far (every second on a
 * terminal, every 20 seconds otherwise). Rejects with go's error output when the build fails.
 */
export function goBuild({ label, args, cwd, env, log, nice = false }) {
  return new Promise((resolvePromise, reject) => {
    const t = Date.now();
    let compiled = 0;
    let last = "";
    let errors = "";
    // `nice` for builds that take many minutes: they yield the cores to whatever else runs.
    const [command, argv] = nice
      ? ["nice", ["-n", "19", "go", "build", "-v", ...args]]
      : ["go", ["build", "-v", ...args]];
    const child = spawn(command, argv, { cwd, env });
    const tty = process.stderr.isTTY;
    const report = () => {
      const line = `  ${label}: ${compiled} packages compiled, ${seconds(t)}${last ? ` (${last})` : ""}`;
      if (tty)
        process.stderr.write(
          `\r${line.slice(0, process.stderr.columns - 1).padEnd(process.stderr.columns - 1)}`,
        );
      else process.stderr.write(`${line}\n`);
    };
    const timer = setInterval(report, tty ? 1000 : 20_000);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      for (const line of chunk.split("\n")) {
        if (!line) continue;
        if (/^[\w.-]+(\/[\w.~-]+)+$/.test(line) || /^[\w-]+$/.test(line)) {
          compiled += 1;
          last = line;
        } else {
          errors += `${line}\n`;
        }
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(timer);
      if (tty) process.stderr.write("\n");
      if (code === 0) {
        log(`${label}: built in ${seconds(t)}`);
        resolvePromise();
      } else {
        reject(new Error(`go build of ${label} failed (exit ${code}):\n${errors}`));
      }
    });
  });
}

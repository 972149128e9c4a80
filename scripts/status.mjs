#!/usr/bin/env node
// `npm run status [-- --stack <name>]`: what the local platform serves right now, read from the
// platform itself (the router's state, each colour's build, the latest deployment record), so it
// is true even right after a failed or rolled-back release.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { root } from "./lib/engine.mjs";

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** The local stack's working folder and services, from stacks/Pulumi.<stack>.yaml. */
export function localStatus(stack) {
  const configPath = join(root, "stacks", `Pulumi.${stack}.yaml`);
  if (!existsSync(configPath)) throw new Error(`stacks/Pulumi.${stack}.yaml does not exist: is "${stack}" a stack?`);
  const config = parse(readFileSync(configPath, "utf8"))?.config ?? {};
  const workDir = config["shipgate:workDir"] ?? `.shipgate/${stack}`;
  const services = Object.entries(config["shipgate:services"] ?? {}).map(([name, settings]) => {
    const base = join(root, workDir, "services", name);
    const router = readJson(join(base, "router", "state.json"));
    const colors = Object.fromEntries(
      ["blue", "green"].map((color) => [color, readJson(join(base, color, "spec.json"))?.version ?? null]),
    );
    return {
      service: name,
      url: `http://127.0.0.1:${settings.port}`,
      active: router?.active ?? null,
      liveVersion: router?.active ? colors[router.active] : null,
      maintenance: router?.maintenance?.enabled ?? false,
      colors,
    };
  });
  const latest = readJson(join(root, workDir, "records", "latest.json"));
  return {
    stack,
    manifest: config["shipgate:manifest"] ?? null,
    services,
    latestRecord: latest
      ? { release: `${latest.issue.changeId}@${latest.release.version}`, outcome: latest.outcome, date: latest.date }
      : null,
    /** The backup the latest succeeded release took before it changed anything. */
    latestBackup: latest?.outcome === "succeeded" ? (latest.backup?.id ?? null) : null,
  };
}

export function printStatus(status, write = (line) => process.stdout.write(`${line}\n`)) {
  write(`stack ${status.stack} (manifest ${status.manifest ?? "none"})`);
  for (const s of status.services) {
    const live = s.active ? `${s.liveVersion} on ${s.active}` : "nothing live";
    write(`  ${s.service}: ${s.url} serves ${live}${s.maintenance ? " (maintenance response on)" : ""}`);
    write(`    blue: ${s.colors.blue ?? "-"}   green: ${s.colors.green ?? "-"}`);
  }
  if (status.latestRecord) {
    const r = status.latestRecord;
    write(`  latest record: ${r.release} ${r.outcome} at ${r.date}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { stack: { type: "string", default: "local" }, json: { type: "boolean" } } });
  try {
    const status = localStatus(values.stack);
    if (values.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    else printStatus(status);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

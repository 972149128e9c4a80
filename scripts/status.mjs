#!/usr/bin/env node
// `npm run status [-- --stack <name>]`: what the local platform serves right now, read from the
// platform itself (the router's state, each colour's build, the latest deployment record), so it
// is true even right after a failed or rolled-back release; and then asked of the processes
// themselves (the users' address, the router's admin API, each colour's port), since files say
// what should run and only an answer says what does.
import { existsSync, readFileSync, readdirSync } from "node:fs";
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
  if (!existsSync(configPath))
    throw new Error(`stacks/Pulumi.${stack}.yaml does not exist: is "${stack}" a stack?`);
  const config = parse(readFileSync(configPath, "utf8"))?.config ?? {};
  const workDir = config["shipgate:workDir"] ?? `.shipgate/${stack}`;
  const services = Object.entries(config["shipgate:services"] ?? {}).map(([name, settings]) => {
    const base = join(root, workDir, "services", name);
    const router = readJson(join(base, "router", "state.json"));
    const colors = Object.fromEntries(
      ["blue", "green"].map((color) => [color, readJson(join(base, color, "spec.json"))?.version ?? null]),
    );
    // Failed builds kept for inspection (keepFailedBuilds), newest last: stopped, never a colour.
    const failedDir = join(base, "failed");
    const keptFailedBuilds = existsSync(failedDir)
      ? readdirSync(failedDir)
          .sort()
          .map((id) => join(workDir, "services", name, "failed", id))
      : [];
    return {
      service: name,
      port: settings.port,
      keptFailedBuilds,
      url: `http://127.0.0.1:${settings.port}`,
      active: router?.active ?? null,
      liveVersion: router?.active ? colors[router.active] : null,
      maintenance: router?.maintenance?.enabled ?? false,
      colors,
    };
  });
  const recordsDir = join(root, workDir, "records");
  const latest = readJson(join(recordsDir, "latest.json"));
  const records = existsSync(recordsDir)
    ? readdirSync(recordsDir)
        .filter((name) => name.endsWith(".json") && name !== "latest.json")
        .map((name) => readJson(join(recordsDir, name)))
        .filter((record) => record?.outcome === "succeeded")
        .sort((a, b) => a.date.localeCompare(b.date))
    : [];
  const live = records.at(-1);
  // The first successful run of the live release took its backup before that release changed any
  // data; later runs of the same release back up data it had already changed.
  const firstRunOfLive = live
    ? records.find(
        (r) => r.issue.changeId === live.issue.changeId && r.release.version === live.release.version,
      )
    : undefined;
  return {
    stack,
    manifest: config["shipgate:manifest"] ?? null,
    services,
    latestRecord: latest
      ? {
          release: `${latest.issue.changeId}@${latest.release.version}`,
          outcome: latest.outcome,
          date: latest.date,
        }
      : null,
    /** The backup the live release took before it changed anything (for a rollback with data restore). */
    restorableBackup: firstRunOfLive?.backup?.id ?? null,
  };
}

/** One GET to 127.0.0.1:port: the status, the JSON body's version and the router's colour header. */
async function ask(port, path, timeoutMs) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return {
      status: response.status,
      version: typeof body?.version === "string" ? body.version : null,
      color: response.headers.get("x-shipgate-color"),
      body,
    };
  } catch (error) {
    const code =
      error?.cause?.code ??
      (error?.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : error?.message);
    return { error: String(code) };
  }
}

/**
 * Adds to each service what its processes answer now: the users' address (`/version` through the
 * router), the router's admin API (`/state`: the colour it really routes to, its pid) and each
 * colour's own port. Ports follow the platform's layout: router P, blue P+1, green P+2, admin P+3.
 */
export async function probeLive(status, timeoutMs = 1500) {
  const services = await Promise.all(
    status.services.map(async (s) => {
      const [users, router, blue, green] = await Promise.all([
        ask(s.port, "/version", timeoutMs),
        ask(s.port + 3, "/state", timeoutMs),
        ask(s.port + 1, "/version", timeoutMs),
        ask(s.port + 2, "/version", timeoutMs),
      ]);
      return {
        ...s,
        live: {
          users,
          router: router.error
            ? { error: router.error }
            : {
                active: router.body?.active ?? null,
                pid: router.body?.pid ?? null,
                failedOver: router.body?.failedOver ?? null,
                held: router.body?.held ?? [],
              },
          colors: { blue, green },
        },
      };
    }),
  );
  return { ...status, services };
}

function describeAnswer(answer) {
  if (answer.error) return `does not answer (${answer.error})`;
  const from = answer.color ? ` from ${answer.color}` : "";
  return answer.status === 200 && answer.version
    ? `answers ${answer.version}${from}`
    : `answers ${answer.status}${from}`;
}

/** The service's failed builds kept for inspection, when there are any: how many, and the newest. */
function printKept(s, write) {
  const kept = s.keptFailedBuilds ?? [];
  if (kept.length === 0) return;
  write(
    `    kept for inspection (stopped): ${kept.length} failed build${kept.length === 1 ? "" : "s"}, newest ${kept.at(-1)}`,
  );
}

export function printStatus(status, write = (line) => process.stdout.write(`${line}\n`)) {
  write(`stack ${status.stack} (manifest ${status.manifest ?? "none"})`);
  for (const s of status.services) {
    const live = s.active ? `${s.liveVersion} on ${s.active}` : "nothing live";
    if (!s.live) {
      write(`  ${s.service}: ${s.url} serves ${live}${s.maintenance ? " (maintenance response on)" : ""}`);
      write(`    blue: ${s.colors.blue ?? "-"}   green: ${s.colors.green ?? "-"}`);
      printKept(s, write);
      continue;
    }
    const { users, router, colors } = s.live;
    write(
      `  ${s.service}: ${s.url} ${describeAnswer(users)}${s.maintenance ? " (maintenance response on)" : ""}`,
    );
    write(
      router.error
        ? `    router: does not answer (${router.error}); its state file says ${live}`
        : `    router: pid ${router.pid}, routes to ${router.active ?? "nothing"}` +
            (router.failedOver
              ? ` (failed over from ${router.failedOver.from} at ${router.failedOver.at})`
              : "") +
            (router.held?.length
              ? `; holds ${router.held.join(" and ")} back from users until its gate passes again`
              : ""),
    );
    for (const color of ["blue", "green"]) {
      write(`    ${color}: build ${s.colors[color] ?? "-"}, ${describeAnswer(colors[color])}`);
    }
    printKept(s, write);
  }
  if (status.latestRecord) {
    const r = status.latestRecord;
    write(`  latest record: ${r.release} ${r.outcome} at ${r.date}`);
  }
  if (status.restorableBackup) write(`  backup from before the live release: ${status.restorableBackup}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { stack: { type: "string", default: "local" }, json: { type: "boolean" } },
  });
  try {
    const status = await probeLive(localStatus(values.stack));
    if (values.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    else printStatus(status);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

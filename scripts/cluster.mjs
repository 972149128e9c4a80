#!/usr/bin/env node
// `npm run cluster -- up | down [--purge] | status`: the local Kubernetes cluster the kubernetes
// platform's end-to-end tests run against, and that the staging stack points at
// (docs/kubernetes.md). `up` and `down` are safe to run twice; `status` exits 0 only when every
// component answers its health endpoint.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { clusterPorts, contextName, down, kubeconfigPath, status, up } from "./lib/cluster.mjs";
import { root } from "./lib/engine.mjs";
import { missingTools } from "./lib/kubernetes-tools.mjs";

const usage = "usage: npm run cluster -- up | down [--purge] | status";
const log = (message) => process.stderr.write(`cluster: ${message}\n`);

try {
  const [command, ...rest] = process.argv.slice(2);
  if (command === "up") {
    if (missingTools().some((spec) => spec.name !== "provider")) {
      // The programs come from the set-up, built once per machine (it says how long that takes).
      const setup = spawnSync(process.execPath, [join(root, "scripts", "setup.mjs"), "--kubernetes"], {
        stdio: "inherit",
      });
      if (setup.status !== 0) process.exit(setup.status ?? 1);
    }
    const started = await up({ log });
    if (started.length === 0) log("already up");
    log(`use it with: export KUBECONFIG=${kubeconfigPath}  (context ${contextName})`);
  } else if (command === "down") {
    const stopped = await down({ log, purge: rest.includes("--purge") });
    if (stopped.length === 0) log("nothing was running");
  } else if (command === "status") {
    const components = await status();
    for (const c of components) {
      const state = c.pid === null ? "stopped" : c.healthy ? "ready" : "running, not answering";
      process.stdout.write(`${c.name.padEnd(24)} ${state.padEnd(24)} ${c.pid ?? ""}\t${c.url}\n`);
    }
    process.stdout.write(
      `kubeconfig ${kubeconfigPath} (API server on 127.0.0.1:${clusterPorts().apiserver})\n`,
    );
    process.exit(components.every((c) => c.healthy) ? 0 : 3);
  } else {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
} catch (error) {
  process.stderr.write(`cluster: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

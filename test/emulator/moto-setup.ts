// Vitest global set-up of the emulator tests: starts a real AWS API emulator, moto_server, on a free
// port of 127.0.0.1, hands its address to the tests, and stops it afterwards. Without moto_server the
// run stops here with the command that installs it: the tests never skip.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

const install = "pip install 'moto[server]==5.2.1'";

/** The ports to try, `first-last` (SHIPGATE_MOTO_PORTS; 45000-45099 by default). */
function portRange(): [number, number] {
  const raw = process.env["SHIPGATE_MOTO_PORTS"] ?? "45000-45099";
  const match = /^(\d+)-(\d+)$/.exec(raw);
  if (!match) throw new Error(`SHIPGATE_MOTO_PORTS=${raw}: expected a port range such as 45000-45099`);
  return [Number(match[1]), Number(match[2])];
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function ready(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`moto_server exited with ${child.exitCode} before it served:\n${output()}`);
    }
    try {
      const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`moto_server did not answer on ${url} within 60 s:\n${output()}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const found = spawnSync("moto_server", ["--help"], { stdio: "ignore" });
  if (found.error) {
    throw new Error(
      `moto_server is not on PATH; the aws platform's step modules are tested against it. ` +
        `Install it with \`${install}\` (Python 3.9+), make sure it is on PATH, and run the tests again.`,
    );
  }
  const [first, last] = portRange();
  let port: number | undefined;
  for (let candidate = first; candidate <= last && port === undefined; candidate++) {
    if (await isFree(candidate)) port = candidate;
  }
  if (port === undefined)
    throw new Error(`no free port in ${first}-${last} for moto_server (SHIPGATE_MOTO_PORTS)`);
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  try {
    await ready(url, child, () => log);
  } catch (error) {
    child.kill("SIGTERM");
    throw error;
  }
  process.stderr.write(`moto_server ${url} (pid ${child.pid})\n`);
  project.provide("motoEndpoint", url);
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await exited;
  };
}

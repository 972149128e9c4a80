import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  bundleFile,
  bundleRecord,
  bundleRecordFile,
  bundleSettings,
  bundleState,
  currentBundle,
  sha256,
} from "../../../policies/bundle.cjs";
import { cacheKey, codeCacheFile } from "../../../policies/code-cache.cjs";
import { policiesForStack } from "../../../policies/pack";
import * as subset from "../../../policies/sdk-subset";
import { buildIfStale } from "../../../scripts/lib/build.mjs";

const root = join(__dirname, "..", "..", "..");

/** A project folder in the temporary folder, with `files` (path to content) written into it. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "shipgate-pack-bundle-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Writes `bundle` and its record as the build would, from the sources' current content. */
function bundleAs(dir: string, bundle: string, sources: string[]): void {
  mkdirSync(dirname(bundleFile(dir)), { recursive: true });
  writeFileSync(bundleFile(dir), bundle);
  const hashes = Object.fromEntries(sources.map((path) => [path, sha256(readFileSync(join(dir, path)))]));
  writeFileSync(bundleRecordFile(dir), JSON.stringify(bundleRecord(dir, Buffer.from(bundle), hashes)));
}

/** Runs `node <script> <args>` in `cwd` until it exits or prints `until`; resolves with its output. */
function run(script: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, until?: RegExp) {
  return new Promise<{ stdout: string; stderr: string; code: number | null; pid: number }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [script, ...args], {
        cwd,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      const done = (code: number | null) => resolve({ stdout, stderr, code, pid: child.pid ?? 0 });
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk;
        if (until?.test(stdout)) done(null);
      });
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
      child.on("error", reject);
      child.on("exit", (code) => done(code));
    },
  );
}

describe("whether the pack's bundle may run", () => {
  const sources = ["policies/index.ts", "release/schema.ts"];
  let dir: string;

  beforeEach(() => {
    dir = project({
      "policies/index.ts": "export {};\n",
      "release/schema.ts": "export const a = 1;\n",
      "package-lock.json": "{}\n",
      "tsconfig.json": "{}\n",
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("may run when the bundle, its sources and its settings are what its record says", () => {
    bundleAs(dir, "// bundle\n", sources);
    expect(bundleState(dir)).toEqual({ current: true });
  });

  it("hands over the content it checked, and its hash, when the bundle may run", () => {
    bundleAs(dir, "// bundle\n", sources);
    expect(currentBundle(dir)).toEqual({
      current: true,
      content: Buffer.from("// bundle\n"),
      hash: sha256("// bundle\n"),
    });
  });

  it("may not run before the pack was bundled", () => {
    expect(bundleState(dir)).toEqual({ current: false, reason: expect.stringMatching(/not been bundled/) });
  });

  it("may not run when a source changed, even if its modification time did not", () => {
    bundleAs(dir, "// bundle\n", sources);
    const file = join(dir, "release/schema.ts");
    writeFileSync(file, "export const a = 2;\n");
    utimesSync(file, 1000, 1000);
    expect(bundleState(dir)).toEqual({
      current: false,
      reason: "release/schema.ts changed since the pack was bundled",
    });
  });

  it("may not run when a source it was built from is gone", () => {
    bundleAs(dir, "// bundle\n", sources);
    rmSync(join(dir, "policies/index.ts"));
    expect(bundleState(dir)).toMatchObject({
      current: false,
      reason: expect.stringMatching(/policies\/index.ts/),
    });
  });

  it.each(bundleSettings)("may not run when %s changed (the packages or the bundler)", (setting) => {
    bundleAs(dir, "// bundle\n", sources);
    mkdirSync(dirname(join(dir, setting)), { recursive: true });
    writeFileSync(join(dir, setting), "changed\n");
    expect(bundleState(dir)).toEqual({
      current: false,
      reason: `${setting} changed since the pack was bundled`,
    });
  });

  it("may not run when the bundle is not the one its record describes", () => {
    bundleAs(dir, "// bundle\n", sources);
    writeFileSync(bundleFile(dir), "// another bundle\n");
    expect(bundleState(dir)).toMatchObject({ current: false, reason: expect.stringMatching(/not the one/) });
  });

  it("may not run when its record is unreadable", () => {
    bundleAs(dir, "// bundle\n", sources);
    writeFileSync(bundleRecordFile(dir), "{");
    expect(bundleState(dir)).toMatchObject({ current: false, reason: expect.stringMatching(/unreadable/) });
  });
});

describe("the pack's starter (policies/runner.cjs)", () => {
  // A project with the real starter, entry and check, a stand-in bundle and stand-in TypeScript
  // sources, and the real node_modules (for @pulumi/pulumi's runner and ts-node).
  let dir: string;
  beforeEach(() => {
    dir = project({
      "policies/index.ts": 'console.log("ran from the TypeScript sources");\n',
      "policies/package.json": JSON.stringify({ name: "p", version: "1.0.0", main: "main.cjs" }),
      "package-lock.json": "{}\n",
    });
    for (const file of ["runner.cjs", "main.cjs", "bundle.cjs", "code-cache.cjs"]) {
      copyFileSync(join(root, "policies", file), join(dir, "policies", file));
    }
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    bundleAs(dir, 'console.log("ran the bundle");\n', ["policies/index.ts"]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const start = () =>
    run(join(dir, "policies", "runner.cjs"), ["127.0.0.1:1", join(dir, "policies")], join(dir, "policies"), {
      ...process.env,
    });

  it("runs the bundle when it matches the sources", async () => {
    const { stdout, code } = await start();
    expect(code).toBe(0);
    expect(stdout).toBe("ran the bundle\n");
  });

  it("writes the bundle's code cache as soon as the pack has printed its port, not at exit", async () => {
    // The pack prints its port and then serves until the host kills it, so nothing is left for exit:
    // a bundle that prints and stops shows the cache was made before the process had to end.
    const { stdout, code } = await start();
    expect(code).toBe(0);
    expect(stdout).toBe("ran the bundle\n");
    const cache = readFileSync(codeCacheFile(bundleFile(dir)));
    expect(cache.subarray(0, cache.indexOf(0x0a)).toString("utf8")).toBe(
      JSON.stringify(cacheKey(readFileSync(bundleFile(dir)))),
    );
  });

  it("writes no code cache when NODE_DISABLE_COMPILE_CACHE turns caches off", async () => {
    const env = { ...process.env, NODE_DISABLE_COMPILE_CACHE: "1" };
    const { stdout, code } = await run(
      join(dir, "policies", "runner.cjs"),
      ["127.0.0.1:1", join(dir, "policies")],
      join(dir, "policies"),
      env,
    );
    expect(code).toBe(0);
    expect(stdout).toBe("ran the bundle\n");
    expect(existsSync(codeCacheFile(bundleFile(dir)))).toBe(false);
  });

  it("runs the TypeScript sources instead of a stale bundle, and says why and what to run", async () => {
    writeFileSync(
      join(dir, "policies/index.ts"),
      'console.log("ran from the TypeScript sources");\n// changed\n',
    );
    const { stdout, stderr, code } = await start();
    expect(code).toBe(0);
    expect(stdout).toBe("ran from the TypeScript sources\n");
    expect(stderr).toContain("policies/index.ts changed since the pack was bundled");
    expect(stderr).toContain("Run `npm run build`");
  });
});

describe("the @pulumi/pulumi the bundle gives the pack", () => {
  it("has every name that @pulumi/policy takes from @pulumi/pulumi's index", () => {
    const policyDir = join(root, "node_modules", "@pulumi", "policy");
    const used = new Set<string>();
    for (const file of readdirSync(policyDir).filter((name) => name.endsWith(".js"))) {
      const code = readFileSync(join(policyDir, file), "utf8");
      for (const [, binding] of code.matchAll(/(\w+) = (?:__importStar\()?require\("@pulumi\/pulumi"\)/g)) {
        for (const [, name] of code.matchAll(new RegExp(`\\b${binding}\\.(\\w+)`, "g"))) {
          if (name) used.add(name);
        }
      }
    }
    // The test reads what it checks: @pulumi/policy does use the index.
    expect([...used]).toContain("asset");
    for (const name of used) expect(subset, `sdk-subset.ts lacks ${name}`).toHaveProperty(name);
  });
});

describe("the built bundle", () => {
  let pack: { pid: number } | undefined;
  let port: number;

  beforeAll(async () => {
    buildIfStale();
    expect(bundleState(root)).toEqual({ current: true });
    const started = await run(
      join(root, "policies", "runner.cjs"),
      ["127.0.0.1:1", join(root, "policies")],
      join(root, "policies"),
      { ...process.env, PULUMI_NODEJS_STACK: "production", PULUMI_NODEJS_PROJECT: "shipgate" },
      /^\d+\n/,
    );
    pack = started;
    port = Number(started.stdout.trim());
  });
  afterAll(() => {
    if (pack) process.kill(pack.pid, "SIGKILL");
  });

  it("serves every policy of the pack at the stack's levels", async () => {
    const client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const info = await new Promise<analyzerProto.AnalyzerInfo>((resolve, reject) =>
      client.getAnalyzerInfo(new Empty(), (error, response) => (error ? reject(error) : resolve(response))),
    );
    client.close();
    const level = (value: number) =>
      Object.entries(analyzerProto.EnforcementLevel)
        .find(([, v]) => v === value)?.[0]
        .toLowerCase();
    expect(info.getName()).toBe("shipgate");
    expect(
      Object.fromEntries(info.getPoliciesList().map((p) => [p.getName(), level(p.getEnforcementlevel())])),
    ).toEqual(Object.fromEntries(policiesForStack("production").map((p) => [p.name, p.enforcementLevel])));
  });
});

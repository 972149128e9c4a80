// Secrets stay secret end to end, on the real engine: a stack secret set with the real CLI
// (`pulumi config set --secret`, through the Automation API) reaches the sample app named by a
// manifest's config change, and its value is nowhere people or tools read: not the state files of
// the stack's backend, not `pulumi stack export` or the stack's outputs, not the deployment records,
// not the webhook bodies a receiver on loopback gets, not the engine's output or events, not a file
// of the stack's working folder. The service proves it got the value by answering its SHA-256
// (test/e2e/fixtures/secret-probe.mjs, a preload: the approved build is not changed). A rotated
// secret is a changed build, and a build that prints its secret when it fails has it redacted from
// the error the engine shows.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createReleaseStack,
  fetchLocal,
  filesUnder,
  readJsonFile,
  refusedUp,
  type ReleaseStack,
  snapshotStack,
  testPort,
} from "./harness";
import { chosenEngine, root } from "../../scripts/lib/engine.mjs";

const port = testPort(21250);
const webhookPort = testPort(21254);
const probe = fileURLToPath(new URL("./fixtures/secret-probe.mjs", import.meta.url));
const variable = "SAMPLE_API_TOKEN";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Where `needle` occurs in `files` (absolute paths), as `file` names: every file read as bytes. */
function filesHolding(files: readonly string[], needle: string): string[] {
  const bytes = Buffer.from(needle, "utf8");
  return files.filter((file) => readFileSync(file).includes(bytes));
}

describe("a stack secret given to a service stays secret end to end", () => {
  let stack: ReleaseStack;
  let receiver: Server;
  const webhookBodies: string[] = [];
  /** Everything the engine printed and every engine event, per release. */
  const engineText: string[] = [];
  let inputsDir: string;
  let backendDir: string;
  // Random per run, so nothing else on the machine can hold it by chance.
  const first = `sg-first-${randomBytes(12).toString("hex")}`;
  const rotated = `sg-rotated-${randomBytes(12).toString("hex")}`;

  /** Writes a manifest (v1.yaml with `changes` as its config changes) and points the stack at it. */
  const useManifest = async (file: string, changes: string) => {
    const v1 = readFileSync(join(root, "releases", "sample-app", "v1.yaml"), "utf8");
    expect(v1).toContain("    configChanges: []\n");
    writeFileSync(
      join(inputsDir, file),
      v1.replace("    configChanges: []\n", `    configChanges:\n${changes}`),
    );
    await stack.stack.setConfig("shipgate:manifest", { value: `.shipgate/${stack.name}-inputs/${file}` });
  };

  /** `pulumi up --refresh`, keeping the engine's output and events for the greps. */
  const up = async () => {
    const output: string[] = [];
    const events: EngineEvent[] = [];
    try {
      return await stack.stack.up({
        refresh: true,
        onOutput: (text) => output.push(text),
        onEvent: (event) => events.push(event),
      });
    } finally {
      engineText.push(output.join(""), JSON.stringify(events));
    }
  };

  const pulumiCli = (args: string[]): string => {
    const engine = chosenEngine();
    if (!engine) throw new Error("The Pulumi engine is not set up: run `npm run setup`.");
    return execFileSync(join(engine.binDir, "pulumi"), [...args, "--stack", stack.name], {
      cwd: root,
      env: stack.stack.workspace.envVars,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
  };

  /** The files of the stack's backend (state, its history and backups), absolute. */
  const backendFiles = () => filesUnder(backendDir).map((file) => join(backendDir, file));

  /** The slot resources in the state as the backend stores it (secrets encrypted). */
  const storedSlots = () => {
    const exported = JSON.parse(pulumiCli(["stack", "export"])) as {
      deployment: {
        resources: {
          type: string;
          urn: string;
          inputs?: Record<string, unknown>;
          outputs?: Record<string, unknown>;
        }[];
      };
    };
    return exported.deployment.resources.filter(
      (r) => r.type === "pulumi-nodejs:dynamic/shipgate/local:Slot",
    );
  };

  /** Every place the test greps, with the files or text that hold `value`; all should be empty. */
  const leaks = async (value: string, options: { skipAppLogs?: boolean } = {}) => {
    const stackFiles = filesUnder(stack.workDirPath)
      .filter((file) => !(options.skipAppLogs && file.endsWith("/app.log")))
      .map((file) => join(stack.workDirPath, file));
    const text = (name: string, body: string) => (body.includes(value) ? [name] : []);
    return {
      backend: filesHolding(backendFiles(), value),
      stackConfig: filesHolding([join(root, "stacks", `Pulumi.${stack.name}.yaml`)], value),
      export: text("pulumi stack export", pulumiCli(["stack", "export"])),
      outputs: text("pulumi stack output", pulumiCli(["stack", "output", "--json"])),
      records: filesHolding(
        stackFiles.filter((file) => file.includes("/records/")),
        value,
      ),
      webhook: webhookBodies.filter((body) => body.includes(value)),
      engine: engineText.filter((body) => body.includes(value)).map((body) => body.slice(0, 200)),
      workDir: filesHolding(stackFiles, value).map((file) => file.slice(stack.workDirPath.length + 1)),
      inputs: filesHolding(
        filesUnder(inputsDir).map((file) => join(inputsDir, file)),
        value,
      ),
    };
  };
  const none = {
    backend: [],
    stackConfig: [],
    export: [],
    outputs: [],
    records: [],
    webhook: [],
    engine: [],
    workDir: [],
    inputs: [],
  };

  const served = async (colorPort: number) =>
    JSON.parse((await fetchLocal(colorPort, "/__probe/secret")).body) as { sha256: string | null };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        webhookBodies.push(Buffer.concat(chunks).toString("utf8"));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(webhookPort, "127.0.0.1", resolve));
    stack = await createReleaseStack({
      port,
      prefix: "dev-e2e-sec",
      service: { stateful: false, command: ["node", "--import", probe, "server.mjs"] },
    });
    backendDir = fileURLToPath(stack.stack.workspace.envVars["PULUMI_BACKEND_URL"] ?? "");
    inputsDir = join(root, ".shipgate", `${stack.name}-inputs`);
    mkdirSync(inputsDir, { recursive: true });
    await stack.stack.setConfig("shipgate:notifications", {
      value: JSON.stringify({ webhookUrl: `http://127.0.0.1:${webhookPort}/hooks/releases` }),
    });
    // The real CLI's `pulumi config set --secret`.
    await stack.stack.setConfig("shipgate:secrets.apiToken", { value: first, secret: true });
  });

  afterAll(async () => {
    await stack?.dispose();
    if (inputsDir) rmSync(inputsDir, { recursive: true, force: true });
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it("releases the secret to the service, and its value is in none of the places people and tools read", async () => {
    await useManifest("v1-secret.yaml", `      - key: ${variable}\n        secret: apiToken\n`);
    expect((await up()).summary.result).toBe("succeeded");

    // The service got the value: blue (the first release's colour) and the users' address answer its hash.
    expect(await served(port + 1)).toEqual({ variable, sha256: sha256(first) });
    expect(await served(port)).toEqual({ variable, sha256: sha256(first) });
    expect(webhookBodies.length).toBeGreaterThan(0);
    expect(await leaks(first)).toEqual(none);

    // Where it is kept instead: encrypted in state (inputs), absent from the outputs, a fingerprint in the spec.
    const [slot] = storedSlots();
    expect(slot?.inputs?.["secrets"]).toEqual({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      ciphertext: expect.any(String),
    });
    expect(slot?.outputs).not.toHaveProperty("secrets");
    const spec = readJsonFile<{ secretEnv?: Record<string, string> }>(stack.paths.slot("blue").specFile);
    expect(spec?.secretEnv).toEqual({ [variable]: expect.stringMatching(/^scrypt:[A-Za-z0-9_-]{43}$/) });
    expect(readFileSync(join(root, "stacks", `Pulumi.${stack.name}.yaml`), "utf8")).toContain("secure: ");
    // The record names the variable, never its value.
    const records = filesUnder(join(stack.workDirPath, "records")).filter((file) => file.endsWith(".md"));
    expect(
      records.map((file) => readFileSync(join(stack.workDirPath, "records", file), "utf8")).join("\n"),
    ).toContain(`sample-app: ${variable}`);
  });

  it("sees a rotated secret as a changed build: the idle colour gets the new value, the warm one keeps the old", async () => {
    await stack.stack.setConfig("shipgate:secrets.apiToken", { value: rotated, secret: true });
    expect((await up()).summary.result).toBe("succeeded");

    expect(await served(port)).toEqual({ variable, sha256: sha256(rotated) });
    expect(await served(port + 2)).toEqual({ variable, sha256: sha256(rotated) });
    // Blue stays warm, untouched, with the value it was released with: a rollback target.
    expect(await served(port + 1)).toEqual({ variable, sha256: sha256(first) });
    expect(await leaks(first)).toEqual(none);
    expect(await leaks(rotated)).toEqual(none);
    expect(storedSlots()).toHaveLength(2);
  });

  it("redacts the secret from the error of a build that prints it when it fails to start", async () => {
    await useManifest(
      "v1-secret-crash.yaml",
      `      - key: ${variable}\n        secret: apiToken\n      - key: SECRET_PROBE_CRASH\n        value: "1"\n`,
    );
    const before = engineText.length;
    const error = await up().then(
      () => new Error("expected the release to fail: the build exits before it listens"),
      (failure: unknown) => failure as Error,
    );
    expect(error.message).toContain(`secret-probe: failing to start with ${variable}=[secret]`);
    expect(error.message).not.toContain(rotated);
    expect(engineText.slice(before).join("\n")).toContain(`${variable}=[secret]`);
    // Users stay on green with the rotated value. The build's own log (its output, not the platform's)
    // is the one place that holds what it printed.
    expect(await served(port)).toEqual({ variable, sha256: sha256(rotated) });
    expect(await leaks(rotated, { skipAppLogs: true })).toEqual(none);
  });
  it("refuses, changing nothing, a secret stored in plaintext and a manifest naming a secret the stack lacks", async () => {
    await useManifest("v1-secret.yaml", `      - key: ${variable}\n        secret: apiToken\n`);
    const before = await snapshotStack(stack);

    await stack.stack.setConfig("shipgate:secrets.typedInPlain", { value: "not-encrypted" });
    expect(await refusedUp(stack)).toContain(
      "shipgate:secrets.typedInPlain: stored in plaintext in the stack's config; a secret must be set with --secret",
    );
    await stack.stack.removeConfig("shipgate:secrets.typedInPlain");
    expect(await snapshotStack(stack)).toEqual(before);

    await useManifest("v1-missing-secret.yaml", `      - key: ${variable}\n        secret: neverSet\n`);
    expect(await refusedUp(stack)).toContain(
      `components.sample-app.configChanges[0].secret: names the stack secret "neverSet", which stack "${stack.name}" does not have`,
    );
    expect(await snapshotStack(stack)).toEqual(before);
  });
});

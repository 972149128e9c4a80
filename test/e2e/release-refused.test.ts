// Releases the program refuses, on the real engine, on a stack that serves the sample app: each is
// refused with an error naming the config key or input at fault, and changes nothing at all: the same
// processes run, the stack's folder holds the same files with the same contents, users get the same
// version, and the state is the same resource for resource.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createReleaseStack,
  fetchLocal,
  filesUnder,
  processesUnder,
  type ReleaseStack,
  testPort,
} from "./harness";

const port = testPort(21200);

interface Snapshot {
  readonly pids: number[];
  readonly files: Record<string, string>;
  readonly resources: unknown;
  readonly served: string;
}

describe("releases the program refuses change nothing", () => {
  let stack: ReleaseStack;

  const snapshot = async (): Promise<Snapshot> => {
    const files: Record<string, string> = {};
    for (const file of filesUnder(stack.workDirPath)) {
      // The router's own log grows with every request the test sends; everything else must not change.
      if (file.endsWith(".log") && file !== "notifications.log") continue;
      files[file] = createHash("sha256")
        .update(readFileSync(join(stack.workDirPath, file)))
        .digest("hex");
    }
    const state = await stack.stack.exportStack();
    return {
      pids: processesUnder(stack.workDirPath)
        .map((p) => p.pid)
        .sort((a, b) => a - b),
      files,
      resources: state.deployment.resources,
      served: (await fetchLocal(port, "/version")).body,
    };
  };

  /** Runs `up` (no refresh: a refresh may rewrite outputs on its own) and returns how it failed. */
  const refusedUp = async (): Promise<string> => {
    const outcome = await stack.stack.up().then(
      (up) => `expected the update to be refused, but it ${up.summary.result}`,
      (error: unknown) => error,
    );
    if (typeof outcome === "string") throw new Error(outcome);
    return outcome instanceof Error ? outcome.message : String(outcome);
  };

  let before: Snapshot;

  beforeAll(async () => {
    stack = await createReleaseStack({ port, service: { stateful: false } });
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");
    before = await snapshot();
    expect(before.served).toBe('{"version":"1.0.0","schema":1}\n');
    expect(before.pids).toHaveLength(2);
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it("refuses a misspelt shipgate:manifest key, naming it, and deletes nothing", async () => {
    await stack.stack.removeConfig("shipgate:manifest");
    await stack.stack.setConfig("shipgate:manifst", { value: "releases/sample-app/v2.yaml" });
    const message = await refusedUp();
    expect(message).toContain("shipgate:manifst: unknown key (did you mean shipgate:manifest?)");
    expect(await snapshot()).toEqual(before);
    await stack.stack.removeConfig("shipgate:manifst");
  });

  it("refuses a stack with no manifest, saying how to take the services down on purpose", async () => {
    const message = await refusedUp();
    expect(message).toContain("names no release manifest (shipgate:manifest is not set)");
    expect(message).toContain("config set shipgate:retire true");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses an empty shipgate:manifest", async () => {
    await stack.stack.setConfig("shipgate:manifest", { value: "" });
    const message = await refusedUp();
    expect(message).toContain("shipgate:manifest: expected a non-empty path");
    expect(await snapshot()).toEqual(before);
  });

  it("takes the services down when asked to with shipgate:retire, keeping the stack's data and records", async () => {
    await stack.stack.removeConfig("shipgate:manifest");
    await stack.stack.setConfig("shipgate:retire", { value: "true" });
    const up = await stack.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(processesUnder(stack.workDirPath)).toEqual([]);
    await expect(fetchLocal(port, "/version")).rejects.toThrow();
    expect(filesUnder(stack.workDirPath)).toContain("records/latest.json");
  });
});

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearStaleLocks } from "../../scripts/lib/locks.mjs";

describe("clearStaleLocks", () => {
  let state: string;
  let lockDir: string;
  const write = (name: string, lock: object) => writeFileSync(join(lockDir, name), JSON.stringify(lock));

  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), "shipgate-locks-"));
    lockDir = join(state, ".pulumi", "locks", "organization", "shipgate", "local");
    mkdirSync(lockDir, { recursive: true });
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it("removes only this machine's locks whose engine is gone", () => {
    // A pid that certainly exited: a finished child.
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    write("dead.json", { pid: gone, hostname: "here", timestamp: "2026-11-22T10:00:00Z" });
    write("alive.json", { pid: process.pid, hostname: "here", timestamp: "2026-11-22T10:01:00Z" });
    write("elsewhere.json", { pid: gone, hostname: "another-machine", timestamp: "2026-11-22T10:02:00Z" });

    expect(clearStaleLocks("local", { dir: state, host: "here" })).toEqual([
      { path: join(lockDir, "dead.json"), pid: gone, timestamp: "2026-11-22T10:00:00Z" },
    ]);
    expect(existsSync(join(lockDir, "dead.json"))).toBe(false);
    expect(existsSync(join(lockDir, "alive.json"))).toBe(true);
    expect(existsSync(join(lockDir, "elsewhere.json"))).toBe(true);
  });

  it("leaves other stacks' locks alone", () => {
    const other = join(state, ".pulumi", "locks", "organization", "shipgate", "staging");
    mkdirSync(other, { recursive: true });
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(join(other, "dead.json"), JSON.stringify({ pid: gone, hostname: "here", timestamp: "t" }));
    expect(clearStaleLocks("local", { dir: state, host: "here" })).toEqual([]);
    expect(existsSync(join(other, "dead.json"))).toBe(true);
  });
});

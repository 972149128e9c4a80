// Stale locks of the file backend. An engine that was killed leaves its lock behind, and the next
// update refuses to run ("the stack is currently locked"). A lock whose engine ran on this machine
// and is gone can be removed safely; a lock of a live engine, or of another machine, is left alone.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { stateDir } from "./engine.mjs";

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** Removes the stack's locks whose engine ran on this machine and no longer runs; returns them. */
export function clearStaleLocks(stack, { dir = stateDir, host = hostname() } = {}) {
  const locksRoot = join(dir, ".pulumi", "locks");
  const removed = [];
  const walk = (folder) => {
    if (!existsSync(folder)) return;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      if (!entry.name.endsWith(".json") || !folder.endsWith(`/${stack}`)) continue;
      let lock;
      try {
        lock = JSON.parse(readFileSync(path, "utf8"));
      } catch {
        continue;
      }
      if (lock.hostname === host && Number.isInteger(lock.pid) && !isAlive(lock.pid)) {
        rmSync(path, { force: true });
        removed.push({ path, pid: lock.pid, timestamp: lock.timestamp });
      }
    }
  };
  walk(locksRoot);
  return removed;
}

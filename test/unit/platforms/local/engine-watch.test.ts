import { describe, expect, it, vi } from "vitest";
import {
  assertEngineAlive,
  engineGone,
  engineWatchIntervalMs,
  exitWithEngine,
  isDynamicProviderProcess,
} from "../../../../platforms/local/engine-watch";

describe("engine-watch", () => {
  it("sees the engine as gone once the process has another parent", () => {
    expect(engineGone(4242, 4242)).toBe(false);
    expect(engineGone(4242, 1)).toBe(true);
    expect(engineGone(4242, 777)).toBe(true);
    // In this test process the parent that loaded the module is still there.
    expect(engineGone()).toBe(false);
  });

  it("refuses an action for a run whose engine is gone, naming the action and what to do", () => {
    expect(() => assertEngineAlive("switching users to green", 4242, 4242)).not.toThrow();
    expect(() => assertEngineAlive("switching users to green", 4242, 1)).toThrow(
      /^not switching users to green: the Pulumi engine that started this provider \(pid 4242\) is gone\. .*run the release again/,
    );
  });

  it("knows the dynamic provider process by its entry script", () => {
    expect(
      isDynamicProviderProcess(["node", "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", "x"]),
    ).toBe(true);
    expect(isDynamicProviderProcess(["node", "/p/node_modules/@pulumi/pulumi/cmd/run/index.js"])).toBe(false);
    expect(isDynamicProviderProcess(["node"])).toBe(false);
  });

  it("calls back once, on the first check after the parent changed", () => {
    vi.useFakeTimers();
    try {
      let parent = 4242;
      const onGone = vi.fn();
      const stop = exitWithEngine(onGone, 4242, () => parent);
      vi.advanceTimersByTime(engineWatchIntervalMs * 3);
      expect(onGone).not.toHaveBeenCalled();
      parent = 1;
      vi.advanceTimersByTime(engineWatchIntervalMs);
      expect(onGone).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(engineWatchIntervalMs * 3);
      expect(onGone).toHaveBeenCalledTimes(1);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

// A release's main paths on the real engine, in the order a release engineer meets them on one
// stack: v1, then v2 under continuous concurrent requests (no request fails across the switch), a
// broken v3 stopped at its pre-promotion gate (no user ever reaches it, v2 keeps serving, no data
// lost), and v2.1, which fails after the switch and goes back to v2 by itself.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addItem,
  createReleaseStack,
  fetchLocal,
  readJsonFile,
  type ReleaseStack,
  testPort,
} from "./harness";
import { startLoad, waitForRequests, type LoadReport, type RunningLoad } from "./load";

const port = testPort(21000);

describe("blue-green releases of the sample app on the local platform", () => {
  let stack: ReleaseStack;
  const loads: RunningLoad[] = [];
  const load = () => {
    const running = startLoad({ port, clients: 8 });
    loads.push(running);
    return running;
  };
  let items: unknown;

  beforeAll(async () => {
    stack = await createReleaseStack({ port });
  });

  afterAll(async () => {
    await Promise.allSettled(loads.map((l) => l.stop()));
    await stack?.dispose();
  });

  it("releases v1 to blue and serves it on the stack's url", async () => {
    const up = await stack.release("v1.yaml");
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["url"]?.value).toBe(`http://127.0.0.1:${port}`);
    expect(up.outputs["activeColor"]?.value).toBe("blue");
    expect(up.outputs["liveVersion"]?.value).toBe("1.0.0");
    const answer = await fetchLocal(port, "/version");
    expect(answer).toEqual({ status: 200, color: "blue", body: '{"version":"1.0.0","schema":1}\n' });
    await addItem(port, "written by 1.0.0");
  });

  it("switches v1 to v2 under continuous concurrent requests without a failed request", async () => {
    const bluePid = stack.slotPid("blue");
    const running = load();
    await waitForRequests(running, 50);
    const up = await stack.release("v2.yaml");
    const releasedAt = running.count();
    await waitForRequests(running, 150);
    const report = await running.stop();

    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["activeColor"]?.value).toBe("green");
    expect(up.outputs["liveVersion"]?.value).toBe("2.0.0");
    expect(report.failures).toEqual([]);
    expect(report.endedBy).toBe("stop");
    expect(Object.keys(report.served).sort()).toEqual(["blue 1.0.0", "green 2.0.0"]);
    // Requests sent after the release finished all went to the new version.
    const after = answersSentAfter(report, releasedAt);
    expect(after.length).toBeGreaterThanOrEqual(100);
    expect(new Set(after.map((r) => `${r.color} ${r.version}`))).toEqual(new Set(["green 2.0.0"]));
    // The previous colour stays warm, the same process as before, still running v1.
    expect(stack.slotPid("blue")).toBe(bluePid);
    expect(await fetchLocal(port + 1, "/version")).toMatchObject({
      status: 200,
      body: '{"version":"1.0.0","schema":1}\n',
    });
    expect(stack.routerState().active).toBe("green");
    items = JSON.parse((await fetchLocal(port, "/items")).body);
    expect(items).toMatchObject({ items: [{ id: 1, name: "written by 1.0.0" }] });
  });

  it("stops v3 at its pre-promotion gate: no user reaches it, v2 keeps serving, no data lost", async () => {
    await addItem(port, "written by 2.0.0");
    const before = (await fetchLocal(port, "/items")).body;
    const running = load();
    await waitForRequests(running, 50);
    const failure = await stack.releaseFailure("v3-broken.yaml");
    await waitForRequests(running, 50);
    const report = await running.stop();

    expect(failure.message).toContain("pre-promotion gate of sample-app (CHG-103@3.0.0) failed");
    expect(failure.message).toContain('check "health" (technical) failed');
    expect(failure.message).toContain("No traffic was switched: users stay on the live version.");
    expect(report.failures).toEqual([]);
    expect(report.served).toEqual({ "green 2.0.0": report.requests });
    expect(stack.routerState().active).toBe("green");
    expect((await fetchLocal(port, "/items")).body).toBe(before);
    expect(JSON.parse(before)).toMatchObject({
      items: [
        { id: 1, name: "written by 1.0.0" },
        { id: 2, name: "written by 2.0.0" },
      ],
    });
  });

  it("sends users back to v2 by itself when v2.1 fails after the switch, and records why", async () => {
    const running = load();
    await waitForRequests(running, 50);
    const failure = await stack.releaseFailure("v2.1-fails-after-switch.yaml");
    const failedAt = running.count();
    await waitForRequests(running, 150);
    const report = await running.stop();

    // A 500 comes from a service that runs but errs: gate-ops classifies it as "errors" (502-504 are
    // "system-failure").
    expect(failure.message).toContain(
      "post-promotion verification of sample-app (CHG-102@2.1.0) failed; rollback trigger: errors.",
    );
    // Verification learns why from the router, which normally has sent users back already (after a
    // burst of five failures); when one of its own probes met 2.1.0's first errors, its version
    // check (answered by green through the router's retry) can end the bake a moment earlier.
    expect(failure.message).toMatch(
      /The router sent users back to green by itself at \S+ \(5 failed requests within 10000 ms from blue \(the last: answered 500\)|check "version" \(technical\) failed/,
    );
    expect(failure.message).toContain("Traffic is back on green, the previous version.");
    expect(stack.routerState().active).toBe("green");
    // No user saw an error: the router sent each request 2.1.0 failed once more to 2.0.0 on green,
    // and after a burst of five it sent every user there, before verification switched back.
    expect(report.failures).toEqual([]);
    const failedOver = readJsonFile<{ failedOver: { from: string; to: string } | null }>(
      stack.paths.routerState,
    )?.failedOver;
    expect([null, "blue -> green"]).toContain(failedOver ? `${failedOver.from} -> ${failedOver.to}` : null);
    const after = answersSentAfter(report, failedAt);
    expect(after.length).toBeGreaterThanOrEqual(100);
    expect(new Set(after.map((r) => `${r.color} ${r.version}`))).toEqual(new Set(["green 2.0.0"]));

    const latest = readJsonFile<Record<string, unknown>>(join(stack.workDirPath, "records", "latest.json"));
    expect(latest).toMatchObject({
      outcome: "rolled-back",
      issue: { changeId: "CHG-102" },
      release: { version: "2.1.0" },
      rollback: { trigger: "errors" },
      activeColor: "green",
      previousColor: "blue",
    });
    const reason = (latest?.["rollback"] as { reason: string }).reason;
    expect(reason).toMatch(
      /^(The router sent users back to green by itself at |Post-promotion verification failed)/,
    );
    expect((await fetchLocal(port, "/version")).body).toBe('{"version":"2.0.0","schema":2}\n');
  });
});

/** Successful answers to requests sent after the load had sent `count` requests (by send time). */
function answersSentAfter(report: LoadReport, count: number) {
  const sorted = [...report.responses, ...report.failures].map((r) => r.at).sort((a, b) => a - b);
  const from = sorted[Math.min(count, sorted.length - 1)] ?? 0;
  return report.responses.filter((r) => r.at > from);
}

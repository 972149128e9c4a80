// `npm run status` names a service's failed builds kept for inspection (keepFailedBuilds), so an
// operator sees them next to what serves users; a service that keeps none prints nothing more.
import { describe, expect, it } from "vitest";
import { type LocalStatus, printStatus } from "../../scripts/status.mjs";

const status = (keptFailedBuilds: string[]): LocalStatus => ({
  stack: "local",
  manifest: "releases/sample-app/v2.yaml",
  services: [
    {
      service: "sample-app",
      port: 8080,
      url: "http://127.0.0.1:8080",
      active: "green",
      liveVersion: "2.0.0",
      maintenance: false,
      colors: { blue: null, green: "2.0.0" },
      keptFailedBuilds,
    },
  ],
  latestRecord: null,
  restorableBackup: null,
});

const printed = (s: LocalStatus): string[] => {
  const lines: string[] = [];
  printStatus(s, (line) => lines.push(line));
  return lines;
};

describe("printStatus", () => {
  it("names how many failed builds are kept for inspection, and the newest", () => {
    const kept = [
      ".shipgate/local/services/sample-app/failed/2026-11-30T10-01-00-000Z-blue-3.0.0",
      ".shipgate/local/services/sample-app/failed/2026-11-30T11-02-00-000Z-blue-3.0.1",
    ];
    expect(printed(status(kept))).toEqual([
      "stack local (manifest releases/sample-app/v2.yaml)",
      "  sample-app: http://127.0.0.1:8080 serves 2.0.0 on green",
      "    blue: -   green: 2.0.0",
      `    kept for inspection (stopped): 2 failed builds, newest ${kept[1]}`,
    ]);
  });

  it("says nothing of kept builds when there are none", () => {
    expect(printed(status([])).some((line) => line.includes("kept"))).toBe(false);
  });
});

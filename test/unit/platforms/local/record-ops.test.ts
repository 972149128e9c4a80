import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  parseDeploymentRecord,
  readRecords,
  recordFileStem,
  renderRecordMarkdown,
  writeRecord,
  type DeploymentRecord,
} from "../../../../platforms/local/record-ops";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const BACKUP_DIGEST = `sha256:${"cd".repeat(32)}`;

/** A hot fix that passed its gate and was rolled back by post-promotion verification. */
const record: DeploymentRecord = {
  issue: { changeId: "CHG-2041", changeRequest: "CR-88", incident: "INC-7" },
  release: { version: "2.0.1", title: "Fix checkout | totals", digest: DIGEST, stack: "local" },
  date: "2025-07-01T20:00:00.000Z",
  deploymentType: "hot-fix",
  strategy: "blue-green",
  outcome: "rolled-back",
  failure: null,
  rollback: {
    trigger: "performance",
    reason: "p95 latency 480 ms exceeds 300 ms",
    at: "2025-07-01T20:09:30.000Z",
  },
  activeColor: "blue",
  previousColor: "green",
  backup: { id: "shop-CHG-2041-20250701T200000Z", digest: BACKUP_DIGEST },
  changes: {
    code: [
      { service: "shop", version: "2.0.1", digest: DIGEST },
      { service: "search", version: null, digest: null },
    ],
    database: [{ service: "shop", migration: "0007-add-index", backwardCompatible: true }],
    config: [{ service: "shop", key: "CHECKOUT_TIMEOUT_MS" }],
    services: [{ service: "shop", version: "2.0.1", color: "green", previousColor: "blue", restarted: true }],
  },
  tests: {
    scope: "reduced",
    passed: 40,
    failed: 0,
    skipped: 2,
    total: 42,
    report: "https://ci.example.com/run/991",
    reviewedBy: "bob",
  },
  verification: {
    system: "blue serves 2.0.0 again;\ngreen stopped",
    gates: [
      {
        name: "shop-gate",
        stage: "pre-promotion",
        service: "shop",
        verdict: "passed",
        trigger: null,
        summary: "Gate passed: 3 consecutive passing rounds after 3 rounds.",
      },
      {
        name: "shop-verify",
        stage: "post-promotion",
        service: "shop",
        verdict: "failed",
        trigger: "performance",
        summary: "Post-promotion verification failed with rollback trigger performance.",
      },
    ],
    performance: [
      { metric: "p95 latency", value: 480, unit: "ms" },
      { metric: "error rate", value: 0, unit: "%" },
      { metric: "probes", value: 120, unit: "" },
    ],
    users: null,
  },
  issues: { found: 1, resolved: 0, pending: 1, workarounds: ["Serve checkout from blue <until fixed>"] },
  signOff: [
    { role: "technical", name: "alice", date: "2025-07-01T18:00:00.000Z" },
    { role: "technical", name: "dan", date: "2025-07-01T18:05:00.000Z" },
    { role: "support", name: "sam", date: "2025-07-01T18:10:00.000Z" },
  ],
  timeline: [
    { stage: "backup", at: "2025-07-01T20:00:05.000Z" },
    { stage: "gate", at: "2025-07-01T20:03:00.000Z" },
    { stage: "switch", at: "2025-07-01T20:04:00.000Z" },
    { stage: "rollback", at: "2025-07-01T20:09:30.000Z" },
  ],
};

describe("renderRecordMarkdown", () => {
  it("renders the seed's deployment documentation, exactly", () => {
    expect(renderRecordMarkdown(record)).toBe(`# Deployment Documentation

Issue: CHG-2041 (change request CR-88; incident INC-7)
Release: 2.0.1 (Fix checkout \\| totals)
Date: 2025-07-01T20:00:00.000Z

- Deployment type: hot-fix
- Strategy: blue-green
- Outcome: rolled-back (rollback trigger: performance)
- Active colour: blue (previous: green)
- Backup: shop-CHG-2041-20250701T200000Z (${BACKUP_DIGEST})
- Stack: local
- Manifest digest: ${DIGEST}

## Implementation

### 1. Changes Deployed

- Code:
  - shop 2.0.1 (${DIGEST})
  - search (unversioned)
- Database:
  - shop: 0007-add-index (backward compatible)
- Config:
  - shop: CHECKOUT_TIMEOUT_MS
- Services:
  - shop 2.0.1 on green (was blue), restarted

### 2. Verification

- System: blue serves 2.0.0 again; green stopped
- Tests: 40 of 42 passed, 0 failed, 2 skipped (reduced scope, reviewed by bob; report: https://ci.example.com/run/991)
- Users: no feedback recorded
- Performance:
  - p95 latency: 480 ms
  - error rate: 0 %
  - probes: 120
- Gates:
  - shop-gate (pre-promotion, shop): passed. Gate passed: 3 consecutive passing rounds after 3 rounds.
  - shop-verify (post-promotion, shop): failed, trigger performance. Post-promotion verification failed with rollback trigger performance.

## Issues

- Found: 1
- Resolved: 0
- Pending: 1
- Workarounds:
  - Serve checkout from blue &lt;until fixed>

## Sign-off

- Technical: alice (2025-07-01T18:00:00.000Z), dan (2025-07-01T18:05:00.000Z)
- Business: none
- Support: sam (2025-07-01T18:10:00.000Z)

## Rollback

- Trigger: performance
- Reason: p95 latency 480 ms exceeds 300 ms
- At: 2025-07-01T20:09:30.000Z

## Timeline

| Stage | At |
| --- | --- |
| backup | 2025-07-01T20:00:05.000Z |
| gate | 2025-07-01T20:03:00.000Z |
| switch | 2025-07-01T20:04:00.000Z |
| rollback | 2025-07-01T20:09:30.000Z |
`);
  });

  it("says none for what a first standard release does not have", () => {
    const markdown = renderRecordMarkdown({
      ...record,
      issue: { ...record.issue, incident: null },
      release: { ...record.release, title: null },
      outcome: "succeeded",
      rollback: null,
      activeColor: "green",
      previousColor: null,
      backup: null,
      changes: { code: [], database: [], config: [], services: [] },
      issues: { found: 0, resolved: 0, pending: 0, workarounds: [] },
      signOff: [...record.signOff, { role: "change-board", name: "cab", date: "2025-07-01T18:20:00.000Z" }],
    });
    expect(markdown).toContain("Issue: CHG-2041 (change request CR-88)\nRelease: 2.0.1\n");
    expect(markdown).toContain("- Outcome: succeeded\n- Active colour: green\n- Backup: none\n");
    expect(markdown).toContain("- Code: none\n- Database: none\n- Config: none\n- Services: none\n");
    expect(markdown).toContain("- Workarounds: none\n");
    expect(markdown).toContain(
      "- Support: sam (2025-07-01T18:10:00.000Z)\n- Change board: cab (2025-07-01T18:20:00.000Z)\n",
    );
    expect(markdown).not.toContain("## Rollback");
  });
});

describe("parseDeploymentRecord", () => {
  it("accepts a complete record", () => {
    expect(parseDeploymentRecord(JSON.parse(JSON.stringify(record)))).toEqual({ ok: true, value: record });
  });

  it("names every invalid field", () => {
    expect(
      parseDeploymentRecord({
        ...record,
        outcome: "maybe",
        activeColor: "red",
        rollback: { ...record.rollback, trigger: "bad-luck" },
        issues: { ...record.issues, found: -1 },
        extra: true,
      }),
    ).toEqual({
      ok: false,
      issues: [
        "outcome: expected one of succeeded, failed, rolled-back",
        "rollback.trigger: expected one of system-failure, data-corruption, integration-break, " +
          "security-breach, errors, performance, business-impact",
        'activeColor: expected "blue" or "green"',
        "issues.found: expected 0 or more",
        "extra: unknown field: remove it or check its spelling",
      ],
    });
  });
});

describe("writeRecord and readRecords", () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), "shipgate-record-")), "records");
  });
  afterEach(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

  it("writes JSON and Markdown, and latest.json", async () => {
    const stored = await writeRecord({ dir, record });
    expect(recordFileStem(record)).toBe("CHG-2041-2.0.1-20250701T200000000Z");
    expect(stored).toEqual({
      record,
      jsonPath: join(dir, "CHG-2041-2.0.1-20250701T200000000Z.json"),
      markdownPath: join(dir, "CHG-2041-2.0.1-20250701T200000000Z.md"),
    });
    expect(JSON.parse(readFileSync(stored.jsonPath, "utf8"))).toEqual(record);
    expect(readFileSync(stored.markdownPath, "utf8")).toBe(renderRecordMarkdown(record));
    expect(JSON.parse(readFileSync(join(dir, "latest.json"), "utf8"))).toEqual(record);
    expect(readdirSync(dir).sort()).toEqual([
      "CHG-2041-2.0.1-20250701T200000000Z.json",
      "CHG-2041-2.0.1-20250701T200000000Z.md",
      "latest.json",
    ]);
  });

  it("keeps every record, lists them newest first, and keeps latest.json on the newest", async () => {
    const later = {
      ...record,
      release: { ...record.release, version: "2.0.2" },
      date: "2025-07-02T08:00:00Z",
    };
    await writeRecord({ dir, record: later });
    await writeRecord({ dir, record });
    const again = await writeRecord({ dir, record: { ...record, outcome: "failed", rollback: null } });
    expect(again.jsonPath).toBe(join(dir, "CHG-2041-2.0.1-20250701T200000000Z-2.json"));
    // latest.json still holds the later release, though an older one was written after it.
    expect(JSON.parse(readFileSync(join(dir, "latest.json"), "utf8"))).toEqual(later);
    expect(
      (await readRecords(dir)).map((s) => [s.record.release.version, s.record.outcome, s.markdownPath]),
    ).toEqual([
      ["2.0.2", "rolled-back", join(dir, "CHG-2041-2.0.2-20250702T080000000Z.md")],
      ["2.0.1", "failed", join(dir, "CHG-2041-2.0.1-20250701T200000000Z-2.md")],
      ["2.0.1", "rolled-back", join(dir, "CHG-2041-2.0.1-20250701T200000000Z.md")],
    ]);
  });

  it("lists nothing for a folder that does not exist", async () => {
    expect(await readRecords(join(dir, "none"))).toEqual([]);
  });

  it("refuses to write an invalid record, and names a broken file when reading", async () => {
    await expect(writeRecord({ dir, record: { ...record, date: "yesterday" } })).rejects.toThrow(
      "the deployment record to write is not valid: date: expected an ISO timestamp with an offset; fix these fields",
    );
    await writeRecord({ dir, record });
    writeFileSync(join(dir, "broken.json"), "{");
    await expect(readRecords(dir)).rejects.toThrow(
      `deployment record ${join(dir, "broken.json")} is not valid JSON; move it out of ${dir} or restore it`,
    );
    writeFileSync(join(dir, "broken.json"), JSON.stringify({ ...record, outcome: "maybe" }));
    await expect(readRecords(dir)).rejects.toThrow(
      `deployment record ${join(dir, "broken.json")} is not valid: outcome: expected one of succeeded, ` +
        `failed, rolled-back; move it out of ${dir} or fix it`,
    );
  });
});

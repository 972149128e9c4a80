import { describe, expect, it } from "vitest";
import { DEPLOYMENT_TYPES, checkManifest, parseDuration, parseManifest } from "../../../release";
import { exampleData, exampleText, present } from "./fixtures";

function issuesOf(data: unknown): { path: string; message: string }[] {
  const check = checkManifest(data);
  if (check.ok) throw new Error("expected the manifest to be rejected");
  return [...check.issues];
}

describe("example manifests", () => {
  it.each(DEPLOYMENT_TYPES)("%s validates and is of its own type", (type) => {
    const check = parseManifest(exampleText(type));
    expect(check.issues).toEqual([]);
    expect(check.ok && check.manifest.deploymentType).toBe(type);
    expect(check.ok && check.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("manifest schema", () => {
  it("reports every shape error at once, each with its field path", () => {
    const data = exampleData("standard-full");
    delete data.title;
    data.version = 2.4;
    data.deploymentType = "big-bang";
    (data.window as Record<string, unknown>).start = "2026-12-03 20:00";
    data.colour = "blue";
    expect(issuesOf(data)).toEqual([
      { path: "title", message: "required: expected string" },
      { path: "version", message: "Invalid input: expected string, received number" },
      {
        path: "deploymentType",
        message:
          'Invalid option: expected one of "standard-full"|"standard-partial"|"hot-fix"|"emergency-patch"',
      },
      {
        path: "window.start",
        message: "expected an RFC 3339 timestamp with an offset, e.g. 2025-07-01T20:00:00Z",
      },
      { path: "colour", message: "unknown field: remove it or check its spelling" },
    ]);
  });

  it("rejects a document that is not a mapping", () => {
    expect(issuesOf(null)).toEqual([{ path: "", message: "Invalid input: expected object, received null" }]);
    expect(issuesOf(["a"])).toEqual([
      { path: "", message: "Invalid input: expected object, received array" },
    ]);
  });

  it.each([
    [
      { source: "registry.example.com/shop/api", version: "latest" },
      "components[0].artifact.version",
      "floating tag",
    ],
    [
      { source: "registry.example.com/shop/api", version: "LATEST" },
      "components[0].artifact.version",
      "floating tag",
    ],
    [
      { source: "registry.example.com/shop/api", version: "2.x" },
      "components[0].artifact.version",
      "range or wildcard",
    ],
    [
      { source: "registry.example.com/shop/api", version: "^2.4.0" },
      "components[0].artifact.version",
      "range",
    ],
    [
      { source: "registry.example.com/shop/api:2.4.0", version: "2.4.0" },
      "components[0].artifact.source",
      "without a tag",
    ],
    [
      { source: "registry.example.com/shop/api@sha256:ab", version: "2.4.0" },
      "components[0].artifact.source",
      "without a tag",
    ],
    [{ source: "registry.example.com/shop/api" }, "components[0].artifact", "immutable artifact"],
    [
      { source: "registry.example.com/shop/api", digest: "sha256:ABC" },
      "components[0].artifact.digest",
      "sha256:<64",
    ],
  ])("refuses the mutable or malformed artifact %j", (artifact, path, words) => {
    const data = exampleData("standard-full");
    present((data.components as Record<string, unknown>[])[0]).artifact = artifact;
    const issues = issuesOf(data);
    expect(issues).toHaveLength(1);
    expect(present(issues[0]).path).toBe(path);
    expect(present(issues[0]).message).toContain(words);
  });

  it("accepts a registry with a port and an artifact pinned by digest alone", () => {
    const data = exampleData("standard-full");
    present((data.components as Record<string, unknown>[])[0]).artifact = {
      source: "localhost:5000/shop/api",
      digest: `sha256:${"a".repeat(64)}`,
    };
    expect(checkManifest(data).issues).toEqual([]);
  });

  it("names the field of a recreate strategy that lacks its maintenance window", () => {
    const data = exampleData("standard-full");
    data.strategy = { type: "recreate" };
    expect(issuesOf(data)).toEqual([
      { path: "strategy.maintenanceWindow", message: "required: expected object" },
    ]);
  });

  it("refuses an unknown strategy, role and approval signature shape", () => {
    const data = exampleData("hot-fix");
    data.strategy = { type: "canary" };
    data.approvals = [
      {
        approverId: "erin",
        role: "owner",
        signature: "c2ln",
        signedAt: "2026-12-01T00:00:00Z",
        expiresAt: "x",
      },
    ];
    expect(issuesOf(data).map((issue) => issue.path)).toEqual([
      "strategy.type",
      "approvals[0].role",
      "approvals[0].signature",
      "approvals[0].expiresAt",
    ]);
  });
});

describe("parseDuration", () => {
  it.each([
    ["90s", 90_000],
    ["45m", 2_700_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["0m", 0],
  ])("reads %s as %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "h", "30", "1.5h", "30m1h", " 5m", "5 m"])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

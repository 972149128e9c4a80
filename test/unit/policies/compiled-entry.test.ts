import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compiledEntry, compiledIsCurrent } from "../../../policies/compiled.cjs";

describe("the policy pack's compiled entry", () => {
  let root: string;
  const at = (path: string, seconds: number, content = "") => {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    utimesSync(file, seconds, seconds);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "shipgate-pack-entry-"));
    at("policies/index.ts", 1000);
    at("release/index.ts", 1000);
    at("tsconfig.json", 1000);
    for (const dir of ["policies", "release"]) utimesSync(join(root, dir), 1000, 1000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("is used when the build is newer than every source of the pack", () => {
    at("dist/policies/index.js", 2000);
    at("dist/.tsbuildinfo", 2000);
    expect(compiledEntry(root)).toBe(join(root, "dist", "policies", "index.js"));
    expect(compiledIsCurrent(root)).toBe(true);
  });

  it("is not used when there is no build", () => {
    expect(compiledIsCurrent(root)).toBe(false);
    at("dist/.tsbuildinfo", 2000);
    expect(compiledIsCurrent(root)).toBe(false);
  });

  it.each(["policies/rules/new-rule.ts", "release/schema.ts", "contract/judge.ts", "tsconfig.build.json"])(
    "is not used when %s changed after the build",
    (source) => {
      at("dist/policies/index.js", 2000);
      at("dist/.tsbuildinfo", 2000);
      at(source, 3000);
      expect(compiledIsCurrent(root)).toBe(false);
    },
  );

  it("ignores a node_modules folder inside the pack", () => {
    at("dist/policies/index.js", 2000);
    at("dist/.tsbuildinfo", 2000);
    at("policies/node_modules/x/index.js", 3000);
    utimesSync(join(root, "policies"), 1000, 1000);
    expect(compiledIsCurrent(root)).toBe(true);
  });
});

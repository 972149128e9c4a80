import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../../../policies/bundle.cjs";
import { cacheKey, codeCacheFile, runWithCodeCache } from "../../../policies/code-cache.cjs";

const codeCacheModule = join(__dirname, "..", "..", "..", "policies", "code-cache.cjs");

// A stand-in bundle: enough functions for V8 to have code worth caching, and everything `require`
// gives a module, reported back so the tests see the module ran as it would under require.
const bundle = (marker: string) => `"use strict";
const path = require("node:path");
function square(n) { return n * n; }
const squares = [1, 2, 3].map((n) => square(n));
module.exports = {
  marker: ${JSON.stringify(marker)},
  squares,
  filename: __filename,
  dirname: __dirname,
  sameExports: module.exports === exports,
  thisIsExports: this === exports,
  joined: path.join("a", "b"),
};
`;

// Runs the bundle through the cache in a process of its own (V8 keeps compiled code in memory too,
// which would hide what the cache file did), then writes the cache if it was not used.
const driver = `"use strict";
const { runWithCodeCache } = require(${JSON.stringify(codeCacheModule)});
const run = runWithCodeCache(process.argv[2], module);
const saved = run.saveCache();
process.stdout.write(JSON.stringify({ cache: run.cache, saved, exports: run.exports }));
`;

interface Started {
  cache: string;
  saved: boolean;
  exports: { marker: string; squares: number[]; filename: string; dirname: string } & Record<string, unknown>;
}

describe("the bundle's V8 code cache (policies/code-cache.cjs)", () => {
  let dir: string;
  let file: string;
  let cacheFile: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "shipgate-code-cache-"));
    file = join(dir, "pack.cjs");
    cacheFile = codeCacheFile(file);
    writeFileSync(join(dir, "driver.cjs"), driver);
    writeFileSync(file, bundle("first"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const start = async (): Promise<Started> => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, "driver.cjs"), file]);
    return JSON.parse(stdout) as Started;
  };
  const header = () => {
    const content = readFileSync(cacheFile);
    return JSON.parse(content.subarray(0, content.indexOf(0x0a)).toString("utf8")) as Record<string, unknown>;
  };

  it("compiles afresh and writes the cache the first time, then starts from it", async () => {
    const first = await start();
    expect(first).toMatchObject({ cache: "no cache yet", saved: true });
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    expect(header()).toEqual(cacheKey(readFileSync(file)));

    const second = await start();
    expect(second).toMatchObject({ cache: "used", saved: false });
    expect(second.exports).toEqual(first.exports);
  });

  it("runs the file with what require gives a module", async () => {
    const { exports } = await start();
    expect(exports).toEqual({
      marker: "first",
      squares: [1, 4, 9],
      filename: file,
      dirname: dir,
      sameExports: true,
      thisIsExports: true,
      joined: join("a", "b"),
    });
  });

  it("writes again a cache whose data V8 rejects", async () => {
    await start();
    const content = readFileSync(cacheFile);
    const end = content.indexOf(0x0a) + 1;
    // The header still matches; the data after it is noise of the same length.
    content.fill(0x5a, end);
    writeFileSync(cacheFile, content);
    expect(await start()).toMatchObject({
      cache: "rejected by V8",
      saved: true,
      exports: { marker: "first" },
    });
    expect(await start()).toMatchObject({ cache: "used" });
  });

  it("does not use a cache made for another bundle of the same length", async () => {
    await start();
    // V8's own check compares little more than the source's length, so this one is the cache's to catch.
    writeFileSync(file, bundle("other"));
    expect(await start()).toMatchObject({
      cache: "the cache was made for another source",
      saved: true,
      exports: { marker: "other" },
    });
    expect(header()).toMatchObject({ source: cacheKey(readFileSync(file)).source });
    expect(await start()).toMatchObject({ cache: "used", exports: { marker: "other" } });
  });

  it("does not use a cache made by another Node.js", async () => {
    await start();
    const content = readFileSync(cacheFile);
    const end = content.indexOf(0x0a);
    const foreign = { ...header(), node: "v0.0.1" };
    writeFileSync(cacheFile, Buffer.concat([Buffer.from(JSON.stringify(foreign)), content.subarray(end)]));
    expect(await start()).toMatchObject({ cache: "the cache was made for another node", saved: true });
    expect(header()).toMatchObject({ node: process.version });
  });

  it.each([
    ["the cache file has no header", Buffer.from([0x00, 0x01, 0x02])],
    ["the cache file's header is unreadable", Buffer.from("{not json\n\u0000")],
  ])("writes again a cache file when %s", async (reason, content) => {
    writeFileSync(cacheFile, content);
    expect(await start()).toMatchObject({ cache: reason, saved: true });
    expect(await start()).toMatchObject({ cache: "used" });
  });

  it("does not use a cache file that others may write, and writes its own in its place", async () => {
    await start();
    chmodSync(cacheFile, 0o666);
    expect(await start()).toMatchObject({ cache: "others may write the cache file", saved: true });
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    expect(await start()).toMatchObject({ cache: "used" });
  });

  it("runs the file uncached where the cache cannot be written", async () => {
    // A folder in the cache file's place: neither readable as a file nor replaceable by one.
    mkdirSync(cacheFile);
    expect(await start()).toMatchObject({
      cache: "the cache file is unreadable",
      saved: false,
      exports: { marker: "first" },
    });
  });

  it("runs the content it is given (the bundle that was checked), not the file as it is now", () => {
    const checked = Buffer.from(bundle("checked"));
    const run = runWithCodeCache(file, undefined, { content: checked, hash: sha256(checked) });
    expect(run.exports).toMatchObject({ marker: "checked", filename: file });
    expect(run.saveCache()).toBe(true);
    expect(header()).toEqual(cacheKey(checked));
  });

  it("keys the cache by the file's content, Node.js and V8", () => {
    const a = cacheKey(Buffer.from(bundle("first")));
    const b = cacheKey(Buffer.from(bundle("other")));
    expect(a.source).not.toBe(b.source);
    expect(a).toEqual({ ...b, source: a.source });
    expect(a).toMatchObject({ node: process.version, v8: process.versions.v8, arch: process.arch });
  });
});

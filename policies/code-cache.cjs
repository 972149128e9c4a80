// Runs a CommonJS file with a V8 code cache of its own, kept next to the file, so that the policy
// pack's 3 MB bundle is not compiled afresh on every start. Node.js's on-disk compile cache
// (NODE_COMPILE_CACHE) does the same from Node.js 22.1, but not on Node.js 20, and it records only the
// functions compiled by the time it is flushed; this cache is made once the pack serves, so it also
// holds the functions the pack compiles to start its server.
//
// The cache file holds one line of JSON naming what it was made from (the source's SHA-256, Node.js's
// version and V8's cache version tag, which covers V8's version, flags and the CPU's features), then
// V8's data. V8 itself checks little more than the source's length, so a file made for another
// source, another Node.js or by another user is never handed to it: it is replaced instead. A cache
// file runs code as surely as the bundle does, which is why it lives in the bundle's own folder (who
// can write there can already change the bundle) and is used only when the current user owns it and
// no one else may write it.
"use strict";
const { createHash } = require("node:crypto");
const { closeSync, fstatSync, openSync, readFileSync } = require("node:fs");
const Module = require("node:module");
const { basename, dirname, join } = require("node:path");
const v8 = require("node:v8");
const vm = require("node:vm");

/** The cache file for `file` on this Node.js (one per V8 cache version, so two Node.js versions coexist). */
function codeCacheFile(file) {
  return join(dirname(file), `${basename(file)}.${v8.cachedDataVersionTag()}.code-cache`);
}

/** What a cache made now for `source` (the file's bytes, whose SHA-256 `hash` is) must name to be used. */
function cacheKey(source, hash = createHash("sha256").update(source).digest("hex")) {
  return {
    source: hash,
    node: process.version,
    v8: process.versions.v8,
    tag: v8.cachedDataVersionTag(),
    arch: process.arch,
  };
}

/**
 * V8's data from `cacheFile` when it was made for `key` by this user, or why not. Never throws: a
 * missing, unreadable or foreign file is a cache miss.
 */
function readCodeCache(cacheFile, key) {
  let fd;
  try {
    fd = openSync(cacheFile, "r");
  } catch {
    return { reason: "no cache yet" };
  }
  try {
    const stat = fstatSync(fd);
    // POSIX only: Windows reports neither owners nor group and world permissions this way.
    if (typeof process.getuid === "function") {
      if (stat.uid !== process.getuid()) return { reason: "the cache file belongs to another user" };
      if ((stat.mode & 0o022) !== 0) return { reason: "others may write the cache file" };
    }
    const content = readFileSync(fd);
    const end = content.indexOf(0x0a);
    if (end < 0) return { reason: "the cache file has no header" };
    let header;
    try {
      header = JSON.parse(content.subarray(0, end).toString("utf8"));
    } catch {
      return { reason: "the cache file's header is unreadable" };
    }
    for (const [name, value] of Object.entries(key)) {
      if (header === null || typeof header !== "object" || header[name] !== value) {
        return { reason: `the cache was made for another ${name}` };
      }
    }
    return { data: content.subarray(end + 1) };
  } catch {
    return { reason: "the cache file is unreadable" };
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `cacheFile` with `data` made for `key`, whole (a temporary file renamed over it), readable
 * and writable by the current user only. Returns whether it was written: a folder the user may not
 * write leaves the pack uncached, not broken.
 */
function writeCodeCache(cacheFile, key, data) {
  try {
    // Loaded only when a cache is written: most starts find theirs and need no more than the above.
    const { sync: writeFileAtomicSync } = require("write-file-atomic");
    const header = Buffer.from(`${JSON.stringify(key)}\n`, "utf8");
    writeFileAtomicSync(cacheFile, Buffer.concat([header, data]), { mode: 0o600, fsync: false });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the CommonJS file `file` as `require(file)` would (its own `module`, `exports`, `require`,
 * `__filename`, `__dirname`), compiled with the code cache of `codeCacheFile(file)` when there is a
 * usable one. `read`, when given, is the file's content already read (`{ content, hash }`, its
 * SHA-256), which is what runs. Returns `{ exports, cache, saveCache }`: `cache` says whether V8 took
 * the cached code ("used"), or why not; `saveCache()` writes the cache from everything compiled so
 * far when it was not used (call it once the file has done what is worth caching) and says whether
 * it wrote one.
 */
function runWithCodeCache(file, parent, read) {
  // The bytes are hashed, not the decoded string (which hashing would encode again).
  const bytes = read ? read.content : readFileSync(file);
  const cacheFile = codeCacheFile(file);
  const key = cacheKey(bytes, read?.hash);
  const source = bytes.toString("utf8");
  const cached = readCodeCache(cacheFile, key);
  // No importModuleDynamically: its one useful value (vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER) is
  // experimental and warns on stderr on every start, and the bundle, all CommonJS, never calls import().
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    cachedData: cached.data,
  });
  const cache =
    cached.data === undefined ? cached.reason : script.cachedDataRejected ? "rejected by V8" : "used";

  const mod = new Module(file, parent);
  mod.filename = file;
  const compiled = script.runInThisContext({ displayErrors: true });
  compiled.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
  mod.loaded = true;

  let saved = false;
  const saveCache = () => {
    if (cache === "used" || saved) return false;
    saved = true;
    let data;
    try {
      data = script.createCachedData();
    } catch {
      return false;
    }
    return writeCodeCache(cacheFile, key, data);
  };
  return { exports: mod.exports, cache, saveCache };
}

module.exports = { cacheKey, codeCacheFile, readCodeCache, runWithCodeCache, writeCodeCache };

// The sample app's data: items.json and schema.json in DATA_DIR, shared by both colours like a
// shared database, so every request reads them again and every write is atomic (temp file + rename).
import { randomBytes } from "node:crypto";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

export const buildDir = dirname(fileURLToPath(import.meta.url));

/** DATA_DIR from the environment; exits with a clear message when it is missing. */
export function dataDirFromEnv() {
  const dir = process.env.DATA_DIR;
  if (dir === undefined || dir === "") {
    process.stderr.write("sample-app: DATA_DIR is not set: expected the path of the data directory\n");
    process.exit(2);
  }
  return dir;
}

/** This build's release.json: {name, version, schema, fault, failAfterRequests?}. */
export async function readRelease() {
  const path = join(buildDir, "release.json");
  const release = JSON.parse(await readFile(path, "utf8"));
  if (typeof release.version !== "string" || !Number.isInteger(release.schema)) {
    throw new Error(`${path}: expected {"version": "x.y.z", "schema": <integer>, ...}`);
  }
  return release;
}

async function readJson(path) {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    if (error.code === "ENOENT") return undefined;
    throw new Error(`cannot read ${path}: ${error.message}`, { cause: error });
  }
}

export async function writeJsonAtomic(path, value) {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * The schema the data is at, and the oldest app schema that can still read it (a backward-compatible
 * migration keeps older readers working). A directory without schema.json is at schema 1.
 */
export async function readSchema(dataDir) {
  const stored = await readJson(join(dataDir, "schema.json"));
  if (stored === undefined) return { schema: 1, minReaderSchema: 1, initialized: false };
  if (!Number.isInteger(stored.schema) || !Number.isInteger(stored.minReaderSchema)) {
    throw new Error(
      `${join(dataDir, "schema.json")}: expected {"schema": <integer>, "minReaderSchema": <integer>}`,
    );
  }
  return { schema: stored.schema, minReaderSchema: stored.minReaderSchema, initialized: true };
}

export function writeSchema(dataDir, schema, minReaderSchema) {
  return writeJsonAtomic(join(dataDir, "schema.json"), { schema, minReaderSchema });
}

export async function readItems(dataDir) {
  const items = await readJson(join(dataDir, "items.json"));
  if (items === undefined) return [];
  if (!Array.isArray(items))
    throw new Error(`${join(dataDir, "items.json")}: expected a JSON array of items`);
  return items;
}

export function writeItems(dataDir, items) {
  return writeJsonAtomic(join(dataDir, "items.json"), items);
}

/** The migrations shipped in this build, by id, in order. */
export async function loadMigrations() {
  let names;
  try {
    names = await readdir(join(buildDir, "migrations"));
  } catch (error) {
    if (error.code === "ENOENT") return [];
    throw error;
  }
  const ids = names.filter((name) => /^\d{4}_[a-z0-9_]+\.mjs$/.test(name)).sort();
  return Promise.all(ids.map(async (name) => import(pathToFileURL(join(buildDir, "migrations", name)).href)));
}

/**
 * Why an app of `appSchema` cannot use data at `data` (undefined when it can): equal schemas work,
 * newer data works when its migration kept older readers working, older data needs its migration.
 */
export function incompatibility(appSchema, data, migrations) {
  if (data.schema === appSchema) return undefined;
  if (data.schema > appSchema) {
    if (data.minReaderSchema <= appSchema) return undefined;
    return `data is at schema ${data.schema}, which needs an app of schema ${data.minReaderSchema} or later; this build is schema ${appSchema}`;
  }
  const needed = migrations.filter((m) => m.from >= data.schema && m.to <= appSchema).map((m) => m.id);
  return `data is at schema ${data.schema}, this build needs schema ${appSchema}: run ${needed.join(", ") || "its migrations"} first`;
}

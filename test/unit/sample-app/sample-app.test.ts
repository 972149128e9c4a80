// The sample app's builds as real processes on 127.0.0.1: behaviour, faults and migrations.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type BuiltSampleApp,
  buildSampleApps,
  json,
  request,
  runMigration,
  startSampleApp,
  stop,
  stopAll,
} from "./processes";

let work: string;
let builds: Map<string, BuiltSampleApp>;
let dataCount = 0;

function build(version: string): BuiltSampleApp {
  const found = builds.get(version);
  if (found === undefined) throw new Error(`no sample-app build ${version}`);
  return found;
}

function freshDataDir(): string {
  dataCount += 1;
  return join(work, `data-${dataCount}`);
}

function migrate(version: string, dataDir: string, id: string) {
  return runMigration(build(version).path, dataDir, id);
}

function readJsonFile(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "shipgate-sample-app-"));
  builds = buildSampleApps(join(work, "artifacts"));
}, 120_000);

afterEach(async () => {
  await stopAll();
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("sample-app builds", () => {
  it("declares the five builds with their schemas, faults and migrations", () => {
    expect(
      [...builds.values()].map(({ version, schema, fault, migrations, backwardCompatible }) => ({
        version,
        schema,
        fault,
        migrations,
        backwardCompatible,
      })),
    ).toEqual([
      { version: "1.0.0", schema: 1, fault: null, migrations: [], backwardCompatible: true },
      {
        version: "2.0.0",
        schema: 2,
        fault: null,
        migrations: ["0002_add_created_at"],
        backwardCompatible: true,
      },
      {
        version: "2.1.0",
        schema: 2,
        fault: "fails-after-requests",
        migrations: ["0002_add_created_at"],
        backwardCompatible: true,
      },
      {
        version: "3.0.0",
        schema: 2,
        fault: "unhealthy",
        migrations: ["0002_add_created_at"],
        backwardCompatible: true,
      },
      {
        version: "4.0.0",
        schema: 3,
        fault: null,
        migrations: ["0002_add_created_at", "0003_rename_name_to_title"],
        backwardCompatible: false,
      },
    ]);
    for (const { digest } of builds.values()) expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(new Set([...builds.values()].map((b) => b.digest)).size).toBe(5);
    expect(readJsonFile(join(build("2.1.0").path, "release.json"))).toEqual({
      name: "sample-app",
      version: "2.1.0",
      schema: 2,
      fault: "fails-after-requests",
      failAfterRequests: 40,
    });
  });

  it("builds deterministically: a second build gives the same digests", () => {
    const again = buildSampleApps(join(work, "artifacts-again"));
    expect([...again.values()].map((b) => [b.version, b.digest])).toEqual(
      [...builds.values()].map((b) => [b.version, b.digest]),
    );
  });
});

describe("sample-app 1.0.0", () => {
  it("serves health, version, a page and persistent items", async () => {
    const dataDir = freshDataDir();
    const app = await startSampleApp(build("1.0.0").path, dataDir);
    expect(json(await request(app.port, "/health"))).toEqual({ status: "ok", version: "1.0.0" });
    expect(json(await request(app.port, "/version"))).toEqual({ version: "1.0.0", schema: 1 });
    const page = await request(app.port, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.body).toContain("sample-app 1.0.0");

    const created = await request(app.port, "/items", { method: "POST", body: { name: "first" } });
    expect(created.status).toBe(201);
    expect(json(created)).toEqual({ id: 1, name: "first" });
    const invalid = await request(app.port, "/items", { method: "POST", body: { name: 3 } });
    expect(invalid.status).toBe(400);
    expect(json(invalid)).toEqual({ error: "name: expected a non-empty string of at most 200 characters" });
    expect((await request(app.port, "/nowhere")).status).toBe(404);

    // Persistent: another process on the same data sees the item.
    expect(await stop(app)).toBe(0);
    const again = await startSampleApp(build("1.0.0").path, dataDir);
    expect(json(await request(again.port, "/items"))).toEqual({ items: [{ id: 1, name: "first" }] });
    expect(readJsonFile(join(dataDir, "schema.json"))).toEqual({ schema: 1, minReaderSchema: 1 });
  });
});

describe("faulty builds", () => {
  it("3.0.0 answers 500 on /health while / works", async () => {
    const app = await startSampleApp(build("3.0.0").path, freshDataDir());
    const health = await request(app.port, "/health");
    expect(health.status).toBe(500);
    expect(json(health)).toEqual({
      status: "unhealthy",
      version: "3.0.0",
      reason: "simulated fault: unhealthy",
    });
    expect((await request(app.port, "/")).status).toBe(200);
    expect(json(await request(app.port, "/version"))).toEqual({ version: "3.0.0", schema: 2 });
  });

  it("2.1.0 answers its first 40 requests, then 500 on everything", async () => {
    const app = await startSampleApp(build("2.1.0").path, freshDataDir());
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++)
      statuses.push((await request(app.port, i % 2 === 0 ? "/health" : "/")).status);
    expect(statuses.slice(0, 40)).toEqual(Array<number>(40).fill(200));
    expect(statuses.slice(40)).toEqual([500, 500, 500, 500, 500]);
    const failed = await request(app.port, "/version");
    expect(json(failed)).toEqual({ error: "simulated fault: version 2.1.0 fails after 40 requests" });
  });
});

describe("migrations", () => {
  it("0002 adds createdAt to every item, is idempotent, and 1.0.0 keeps working on the result", async () => {
    const dataDir = freshDataDir();
    const v1 = await startSampleApp(build("1.0.0").path, dataDir);
    for (const name of ["a", "b"]) await request(v1.port, "/items", { method: "POST", body: { name } });

    const first = migrate("2.0.0", dataDir, "0002_add_created_at");
    expect(first).toEqual({
      status: 0,
      output: "migrate: 0002_add_created_at migrated 2 item(s) from schema 1 to 2\n",
    });
    const migrated = readJsonFile(join(dataDir, "items.json")) as { id: number; createdAt: string }[];
    expect(migrated.map((item) => Object.keys(item))).toEqual([
      ["id", "name", "createdAt"],
      ["id", "name", "createdAt"],
    ]);
    expect(readJsonFile(join(dataDir, "schema.json"))).toEqual({ schema: 2, minReaderSchema: 1 });

    const second = migrate("2.0.0", dataDir, "0002_add_created_at");
    expect(second.status).toBe(0);
    expect(second.output).toContain("already applied");
    expect(readJsonFile(join(dataDir, "items.json"))).toEqual(migrated);

    // The live 1.0.0 on migrated data: healthy, reads, writes, and keeps the fields it does not know.
    expect(json(await request(v1.port, "/health"))).toEqual({ status: "ok", version: "1.0.0" });
    expect(json(await request(v1.port, "/items"))).toEqual({
      items: [
        { id: 1, name: "a" },
        { id: 2, name: "b" },
      ],
    });
    expect((await request(v1.port, "/items", { method: "POST", body: { name: "c" } })).status).toBe(201);
    const afterWrite = readJsonFile(join(dataDir, "items.json")) as Record<string, unknown>[];
    expect(afterWrite.slice(0, 2)).toEqual(migrated);

    // 2.0.0 on the same data shows createdAt (null for the item 1.0.0 wrote after the migration).
    const v2 = await startSampleApp(build("2.0.0").path, dataDir);
    const items = (json(await request(v2.port, "/items")) as { items: Record<string, unknown>[] }).items;
    expect(items.map((item) => [item["name"], typeof item["createdAt"]])).toEqual([
      ["a", "string"],
      ["b", "string"],
      ["c", "object"],
    ]);
    const added = json(await request(v2.port, "/items", { method: "POST", body: { name: "d" } }));
    expect(added).toMatchObject({ id: 4, name: "d", createdAt: expect.any(String) as string });
  });

  it("2.0.0 on unmigrated data is unhealthy and says which migration to run", async () => {
    const dataDir = freshDataDir();
    const v1 = await startSampleApp(build("1.0.0").path, dataDir);
    await stop(v1);
    const v2 = await startSampleApp(build("2.0.0").path, dataDir);
    const health = await request(v2.port, "/health");
    expect(health.status).toBe(500);
    expect(json(health)).toEqual({
      status: "unhealthy",
      version: "2.0.0",
      reason: "data is at schema 1, this build needs schema 2: run 0002_add_created_at first",
    });
  });

  it("0003 refuses data of an unexpected schema, renames name to title, and only 4.0.0 reads the result", async () => {
    const dataDir = freshDataDir();
    const v1 = await startSampleApp(build("1.0.0").path, dataDir);
    await request(v1.port, "/items", { method: "POST", body: { name: "a" } });

    const refused = migrate("4.0.0", dataDir, "0003_rename_name_to_title");
    expect(refused.status).toBe(1);
    expect(refused.output).toBe(
      `migrate: refusing to run 0003_rename_name_to_title: data in ${dataDir} is at schema 1, expected schema 2 (run 0002_add_created_at first)\n`,
    );
    expect(readJsonFile(join(dataDir, "schema.json"))).toEqual({ schema: 1, minReaderSchema: 1 });

    const unknown = migrate("2.0.0", dataDir, "0003_rename_name_to_title");
    expect(unknown).toEqual({
      status: 2,
      output:
        'migrate: unknown migration "0003_rename_name_to_title": this build ships 0002_add_created_at\n',
    });

    expect(migrate("4.0.0", dataDir, "0002_add_created_at").status).toBe(0);
    expect(migrate("4.0.0", dataDir, "0003_rename_name_to_title").status).toBe(0);
    const again = migrate("4.0.0", dataDir, "0003_rename_name_to_title");
    expect(again.output).toContain("already applied");
    // 0002 on schema-3 data is already applied too: a release may run its whole list again.
    expect(migrate("4.0.0", dataDir, "0002_add_created_at").status).toBe(0);
    const items = readJsonFile(join(dataDir, "items.json")) as Record<string, unknown>[];
    expect(items.map((item) => Object.keys(item).sort())).toEqual([["createdAt", "id", "title"]]);
    expect(readJsonFile(join(dataDir, "schema.json"))).toEqual({ schema: 3, minReaderSchema: 3 });

    const health = await request(v1.port, "/health");
    expect(health.status).toBe(500);
    expect(json(health)).toMatchObject({
      reason: "data is at schema 3, which needs an app of schema 3 or later; this build is schema 1",
    });
    const v4 = await startSampleApp(build("4.0.0").path, dataDir);
    expect(json(await request(v4.port, "/health"))).toEqual({ status: "ok", version: "4.0.0" });
    expect((json(await request(v4.port, "/items")) as { items: unknown[] }).items).toEqual([
      { id: 1, title: "a", createdAt: expect.any(String) as string },
    ]);
    expect(json(await request(v4.port, "/items", { method: "POST", body: { title: "b" } }))).toMatchObject({
      id: 2,
      title: "b",
    });
  });

  it("a data directory with items but no schema.json is taken as schema 1", async () => {
    const dataDir = freshDataDir();
    const v1 = await startSampleApp(build("1.0.0").path, dataDir);
    await stop(v1);
    rmSync(join(dataDir, "schema.json"));
    writeFileSync(join(dataDir, "items.json"), JSON.stringify([{ id: 7, name: "legacy" }]));
    const v2 = await startSampleApp(build("2.0.0").path, dataDir);
    expect((await request(v2.port, "/health")).status).toBe(500);
    expect(readJsonFile(join(dataDir, "schema.json"))).toEqual({ schema: 1, minReaderSchema: 1 });
  });
});

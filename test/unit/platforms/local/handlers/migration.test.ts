// The Migration handler: its diff, and create running a build's real migrations (node migrate.mjs)
// on a temporary data folder, refusing a build whose digest is not the pinned one.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type MigrationInputs,
  type MigrationOutputs,
  handlers,
} from "../../../../../platforms/local/handlers/migration";
import { type TestProject, testProject, crud } from "./helpers";

const ops = crud(handlers);

let project: TestProject;

beforeAll(() => {
  project = testProject("migration-handler", true);
});

afterAll(() => project.remove());

function inputs(version: string, overrides: Partial<MigrationInputs> = {}): MigrationInputs {
  return {
    service: "web",
    artifactDir: `artifacts/${version}`,
    digest: project.build(version).digest,
    migrations: project.build(version).migrations,
    dataDir: "data/web",
    backupId: "CHG-101-2.0.0",
    ...overrides,
  };
}

const outputsOf = (i: MigrationInputs): MigrationOutputs => ({
  ...i,
  applied: [...i.migrations],
  migratedAt: "2026-11-22T10:00:00.000Z",
});

describe("Migration diff", () => {
  it("changes nothing for the same build, backup, folder and migrations", async () => {
    expect(await handlers.diff("", "id", outputsOf(inputs("2.0.0")), inputs("2.0.0"))).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("runs again (in place) for another build, backup, data folder or list of migrations", async () => {
    for (const change of [
      { digest: project.build("4.0.0").digest },
      { backupId: "CHG-101-2.0.0-2" },
      { dataDir: "data/other" },
      { migrations: ["0002_add_created_at", "0003_rename_name_to_title"] },
    ]) {
      expect(await handlers.diff("", "id", outputsOf(inputs("2.0.0")), inputs("2.0.0", change))).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });

  it("does not run again when only the build's folder moves; replaces for another service", async () => {
    expect(
      (await handlers.diff("", "id", outputsOf(inputs("2.0.0")), inputs("2.0.0", { artifactDir: "x/2.0.0" })))
        .changes,
    ).toBe(false);
    expect(
      await handlers.diff("", "id", outputsOf(inputs("2.0.0")), inputs("2.0.0", { service: "api" })),
    ).toEqual({
      changes: true,
      replaces: ["service"],
      deleteBeforeReplace: false,
    });
  });
});

describe("Migration create", () => {
  it("refuses a build whose digest is not the pinned one, and touches no data", async () => {
    await expect(
      ops.create(project.dir, inputs("2.0.0", { digest: project.build("1.0.0").digest })),
    ).rejects.toThrow(
      `build artifacts/2.0.0 has digest ${project.build("2.0.0").digest}, the release pins ${project.build("1.0.0").digest}: refusing to migrate`,
    );
  });

  it("runs the build's migrations on the data folder", async () => {
    mkdirSync(join(project.dir, "data/web"), { recursive: true });
    writeFileSync(join(project.dir, "data/web/items.json"), JSON.stringify([{ id: 1, name: "first" }]));
    const created = await ops.create(project.dir, inputs("2.0.0"));
    expect(created.id).toBe("web-migrations");
    expect(created.outs.applied).toEqual(["0002_add_created_at"]);
    const schema = JSON.parse(readFileSync(join(project.dir, "data/web/schema.json"), "utf8")) as {
      schema: number;
    };
    expect(schema.schema).toBe(2);
    const again = await ops.update(project.dir, "web-migrations", created.outs, inputs("2.0.0"));
    expect(again.outs?.applied).toEqual(["0002_add_created_at"]);
  });

  it("names the failed migration and the backup to restore when a migration fails", async () => {
    // 0003 starts from schema 2 only; data at schema 3 already is left alone, so use fresh schema-1 data.
    writeFileSync(
      join(project.dir, "data/web/schema.json"),
      JSON.stringify({ schema: 1, minReaderSchema: 1 }),
    );
    await expect(
      ops.create(project.dir, inputs("4.0.0", { migrations: ["0003_rename_name_to_title"] })),
    ).rejects.toThrow(
      /^migration 0003_rename_name_to_title of web failed \(applied before it: none\): .+\nThe release's backup CHG-101-2\.0\.0 holds the data from before/s,
    );
  });
});

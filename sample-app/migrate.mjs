// Runs one migration of this build on DATA_DIR: `node migrate.mjs <id>`. Idempotent: a migration
// already applied does nothing. Refuses data at a schema the migration does not start from.
import process from "node:process";
import { dataDirFromEnv, loadMigrations, readItems, readSchema, writeItems, writeSchema } from "./data.mjs";

function fail(code, message) {
  process.stderr.write(`migrate: ${message}\n`);
  process.exit(code);
}

const id = process.argv[2];
if (id === undefined || id === "") fail(2, "usage: node migrate.mjs <migration id>");
const dataDir = dataDirFromEnv();
const migrations = await loadMigrations();
const migration = migrations.find((m) => m.id === id);
if (migration === undefined) {
  const known = migrations.map((m) => m.id).join(", ") || "none";
  fail(2, `unknown migration ${JSON.stringify(id)}: this build ships ${known}`);
}

const data = await readSchema(dataDir);
if (data.schema >= migration.to) {
  process.stdout.write(`migrate: ${id} already applied (data in ${dataDir} is at schema ${data.schema})\n`);
  process.exit(0);
}
if (data.schema !== migration.from) {
  const before = migrations.filter((m) => m.to <= migration.from && m.to > data.schema).map((m) => m.id);
  fail(
    1,
    `refusing to run ${id}: data in ${dataDir} is at schema ${data.schema}, expected schema ${migration.from}` +
      (before.length > 0 ? ` (run ${before.join(", ")} first)` : ""),
  );
}

const now = new Date().toISOString();
const items = (await readItems(dataDir)).map((item) => migration.migrateItem(item, now));
// Items first, schema last: a migration interrupted between the two runs again and, being
// idempotent per item, ends in the same place.
await writeItems(dataDir, items);
await writeSchema(dataDir, migration.to, migration.minReaderSchema);
process.stdout.write(
  `migrate: ${id} migrated ${items.length} item(s) from schema ${migration.from} to ${migration.to}\n`,
);

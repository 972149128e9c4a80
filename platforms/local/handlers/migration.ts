// Database (data) migrations of a build, run after the release's backup and before the new colour
// starts. Each migration is run as `node migrate.mjs <id>` inside the build, with DATA_DIR set;
// migrations are idempotent, so a re-run after an interrupted release is safe.
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { treeDigest } from "../artifact-ops";
import { type FailingInputs, withFailureRecord } from "../failure-ops";
import type { LocalHandlers } from "../provider-factory";

const run = promisify(execFile);

export interface MigrationInputs extends FailingInputs {
  readonly service: string;
  readonly artifactDir: string;
  readonly digest: string;
  readonly migrations: readonly string[];
  readonly dataDir: string;
  /** The backup taken first; a new backup runs the migrations again (they are idempotent). */
  readonly backupId: string;
}

export interface MigrationOutputs extends MigrationInputs {
  readonly applied: readonly string[];
  readonly migratedAt: string;
}

async function migrate(projectDir: string, inputs: MigrationInputs): Promise<MigrationOutputs> {
  const buildDir = join(projectDir, inputs.artifactDir);
  const digest = await treeDigest(buildDir);
  if (digest !== inputs.digest) {
    throw new Error(
      `build ${inputs.artifactDir} has digest ${digest}, the release pins ${inputs.digest}: refusing to migrate`,
    );
  }
  const dataDir = join(projectDir, inputs.dataDir);
  await mkdir(dataDir, { recursive: true });
  const applied: string[] = [];
  for (const id of inputs.migrations) {
    try {
      await run(process.execPath, ["migrate.mjs", id], {
        cwd: buildDir,
        env: { PATH: process.env["PATH"] ?? "", DATA_DIR: dataDir },
        timeout: 120_000,
      });
    } catch (error) {
      const detail =
        error instanceof Error ? (error as { stderr?: string }).stderr || error.message : String(error);
      throw new Error(
        `migration ${id} of ${inputs.service} failed (applied before it: ${applied.join(", ") || "none"}): ${detail.trim()}\n` +
          `The release's backup ${inputs.backupId} holds the data from before; restore it with a rollback that restores data.`,
      );
    }
    applied.push(id);
  }
  return { ...inputs, applied, migratedAt: new Date().toISOString() };
}

export const handlers: LocalHandlers<MigrationInputs, MigrationOutputs> = withFailureRecord("migration", {
  async diff(_projectDir, _id, olds, news) {
    const changes =
      olds.service !== news.service ||
      olds.digest !== news.digest ||
      olds.backupId !== news.backupId ||
      olds.dataDir !== news.dataDir ||
      JSON.stringify(olds.migrations) !== JSON.stringify(news.migrations);
    return {
      changes,
      replaces: olds.service !== news.service ? ["service"] : [],
      deleteBeforeReplace: false,
    };
  },
  async create(projectDir, inputs) {
    return { id: `${inputs.service}-migrations`, outs: await migrate(projectDir, inputs) };
  },
  async update(projectDir, _id, _olds, news) {
    return { outs: await migrate(projectDir, news) };
  },
});

import type { StackValidationPolicy } from "@pulumi/policy";
import { configSchema, withDefaults } from "../lib/config";
import { readManifest, releaseKey } from "../lib/evidence";
import { dependsOn } from "../lib/graph";
import { resourcesWithRole, serviceOf, stepInputs } from "../lib/roles";

export interface StrategyMatchesMigrationsConfig {
  /** Whether every migration a plan runs must be declared in the approved manifest. */
  readonly requireDeclaredMigrations: boolean;
}

export const strategyMatchesMigrationsDefaults: StrategyMatchesMigrationsConfig = {
  requireDeclaredMigrations: true,
};

/**
 * Blue-green runs both colours against one database during the switch, so it is allowed only when
 * every migration is backward-compatible; otherwise the release is a recreate in a maintenance window,
 * whose migrations and new version wait for the maintenance step. Reads the migrations from the
 * approved manifest, and checks the plan runs no migration the manifest does not declare.
 */
export const strategyMatchesMigrations: StackValidationPolicy = {
  name: "strategy-matches-migrations",
  description:
    "A blue-green release may only run backward-compatible migrations declared in its manifest; other migrations need strategy recreate, with the migration and the new version after the maintenance step.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Make the migration backward-compatible (expand/contract), or set strategy.type: recreate with a maintenanceWindow and notify users; declare every migration in components[].database.migrations.",
  configSchema: configSchema(strategyMatchesMigrationsDefaults, {
    requireDeclaredMigrations: { type: "boolean" },
  }),
  validateStack: (args, reportViolation) => {
    const config = withDefaults(strategyMatchesMigrationsDefaults, args.getConfig());
    for (const evidence of resourcesWithRole(args.resources, "evidence")) {
      const read = readManifest(evidence.props);
      if (!read.ok) continue; // release-manifest-valid reports it.
      const { manifest } = read;
      const key = releaseKey(manifest);
      if (manifest.strategy.type === "blue-green") {
        for (const component of manifest.components) {
          for (const migration of component.database?.migrations ?? []) {
            if (migration.backwardCompatible) continue;
            reportViolation(
              `Release ${key} with strategy recreate and a maintenance window, or make migration ${migration.id} of ` +
                `${component.name} backward-compatible: blue-green runs the old and new versions against one database.`,
              evidence.urn,
            );
          }
        }
      }
      const maintenance = resourcesWithRole(args.resources, "maintenance");
      for (const migration of resourcesWithRole(args.resources, "migration")) {
        const service = serviceOf(migration);
        const declared = manifest.components.find((component) => component.name === service)?.database
          ?.migrations;
        const ids: unknown = stepInputs(migration)["migrations"];
        if (config.requireDeclaredMigrations && Array.isArray(ids)) {
          for (const id of ids) {
            if (declared?.some((entry) => entry.id === id)) continue;
            reportViolation(
              `Declare migration ${String(id)} of ${service ?? migration.name} in ${key}'s manifest, or remove it from ` +
                `${migration.name}: approvers did not see it.`,
              migration.urn,
            );
          }
        }
        for (const step of maintenance.filter((m) => serviceOf(m) === service)) {
          if (dependsOn(migration, step)) continue;
          reportViolation(
            `Run migration ${migration.name} after maintenance step ${step.name} of ${service}: a recreate ` +
              `migrates only once users see the maintenance page and the old version is stopped.`,
            migration.urn,
          );
        }
      }
    }
  },
};

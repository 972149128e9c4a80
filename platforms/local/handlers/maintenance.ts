// A maintenance window: users get the maintenance response and requests in flight finish; then, for
// the recreate strategy, the running colour stops so its data can be migrated (a data restore stops
// nothing). The traffic switch at the end of the release ends the window.
import { join } from "node:path";
import { type FailingInputs, withFailureRecord } from "../failure-ops";
import type { LocalHandlers } from "../provider-factory";
import { stopOnPurpose } from "../supervision";
import { drainRouter, setRouterMaintenance } from "../router/router-client";

export interface MaintenanceInputs extends FailingInputs {
  readonly service: string;
  readonly releaseKey: string;
  readonly adminPort: number;
  readonly message: string;
  /** The pid file of the colour to stop, relative to the project; null stops nothing (a data restore). */
  readonly stopPidFile: string | null;
}

export interface MaintenanceOutputs extends MaintenanceInputs {
  readonly startedAt: string;
  readonly drained: boolean;
}

const drainTimeoutMs = 30_000;

async function begin(projectDir: string, inputs: MaintenanceInputs): Promise<MaintenanceOutputs> {
  const router = { adminPort: inputs.adminPort };
  await setRouterMaintenance(router, { enabled: true, message: inputs.message });
  const drain = await drainRouter(router, drainTimeoutMs);
  if (!drain.drained) {
    // Give users the running version back rather than leave them at the maintenance response.
    await setRouterMaintenance(router, { enabled: false });
    throw new Error(
      `${inputs.service}: requests still in flight after ${drainTimeoutMs} ms (blue ${drain.inFlight.blue}, ` +
        `green ${drain.inFlight.green}); the maintenance response is lifted and the live version serves again. ` +
        `Run the release again once they finish.`,
    );
  }
  // Stopped on purpose, so the supervisor does not start it again behind the maintenance response.
  if (inputs.stopPidFile) await stopOnPurpose(join(projectDir, inputs.stopPidFile));
  return { ...inputs, startedAt: new Date().toISOString(), drained: true };
}

export const handlers: LocalHandlers<MaintenanceInputs, MaintenanceOutputs> = withFailureRecord(
  "maintenance",
  {
    async diff(_projectDir, _id, olds, news) {
      const changes =
        olds.service !== news.service ||
        olds.releaseKey !== news.releaseKey ||
        olds.message !== news.message ||
        olds.adminPort !== news.adminPort;
      return {
        changes,
        replaces: olds.service !== news.service ? ["service"] : [],
        deleteBeforeReplace: false,
      };
    },
    async create(projectDir, inputs) {
      return { id: `${inputs.service}-maintenance`, outs: await begin(projectDir, inputs) };
    },
    async update(projectDir, _id, _olds, news) {
      return { outs: await begin(projectDir, news) };
    },
  },
);

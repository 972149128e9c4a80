// The traffic switch: registers the colour with the router and sends users to it. The router
// chooses the colour per request, so requests in flight finish where they started and none fails.
// It also ends a maintenance window (the recreate strategy's last step).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { Color } from "../../../components/platform";
import { writeJsonAtomic } from "../process-ops";
import { type FailingInputs, withFailureRecord } from "../failure-ops";
import type { LocalHandlers } from "../provider-factory";
import {
  getRouterStatus,
  setRouterMaintenance,
  setRouterUpstream,
  switchRouter,
} from "../router/router-client";

export interface SwitchInputs extends FailingInputs {
  readonly service: string;
  readonly releaseKey: string;
  readonly adminPort: number;
  readonly color: Color;
  /** The colour's own address. */
  readonly target: string;
  /** Where the last switch is noted (relative to the project): the other colour is warm since then. */
  readonly switchFile: string;
}

export interface SwitchOutputs extends SwitchInputs {
  /** The colour the router really sends users to (refresh reads it back). */
  readonly active: Color | null;
  readonly previous: Color | null;
  readonly switchedAt: string;
}

/** Notes a switch of users between colours, from which the warm window of the other one counts. */
export async function noteSwitch(
  projectDir: string,
  switchFile: string,
  change: { active: Color; previous: Color | null },
): Promise<string> {
  const switchedAt = new Date().toISOString();
  if (change.previous !== change.active) {
    await writeJsonAtomic(join(projectDir, switchFile), { ...change, switchedAt });
  }
  return switchedAt;
}

async function route(projectDir: string, inputs: SwitchInputs): Promise<SwitchOutputs> {
  const router = { adminPort: inputs.adminPort };
  // Each change the router accepts is written to its state file before it answers; a change that
  // would leave the state as it is (a rollback to a warm colour whose address the router knows, no
  // maintenance response up) is not sent. Only this release's own steps before the switch change
  // upstreams and maintenance, so what the router said a moment ago still holds.
  const before = await getRouterStatus(router);
  if (before.upstreams[inputs.color] !== inputs.target) {
    await setRouterUpstream(router, inputs.color, inputs.target);
  }
  const result = await switchRouter(router, inputs.color);
  if (before.maintenance.enabled) await setRouterMaintenance(router, { enabled: false });
  const switchedAt = await noteSwitch(projectDir, inputs.switchFile, result);
  return { ...inputs, active: result.active, previous: result.previous, switchedAt };
}

export const handlers: LocalHandlers<SwitchInputs, SwitchOutputs> = withFailureRecord("switch", {
  async diff(_projectDir, _id, olds, news) {
    const changes =
      olds.service !== news.service ||
      olds.color !== news.color ||
      olds.target !== news.target ||
      olds.releaseKey !== news.releaseKey ||
      olds.adminPort !== news.adminPort ||
      olds.active !== news.color;
    return {
      changes,
      replaces: olds.service !== news.service ? ["service"] : [],
      deleteBeforeReplace: false,
    };
  },
  async create(projectDir, inputs) {
    return { id: `${inputs.service}-switch`, outs: await route(projectDir, inputs) };
  },
  async read(_projectDir, id, props): Promise<pulumi.dynamic.ReadResult<SwitchOutputs>> {
    try {
      const status = await getRouterStatus({ adminPort: props.adminPort });
      return { id, props: { ...props, active: status.active } };
    } catch {
      return { id, props: { ...props, active: null } };
    }
  },
  async update(projectDir, _id, _olds, news) {
    return { outs: await route(projectDir, news) };
  },
  async delete(projectDir, _id, props) {
    // A switch created by an earlier version of shipgate has no switch file to remove.
    if (props.switchFile) await rm(join(projectDir, props.switchFile), { force: true });
  },
});

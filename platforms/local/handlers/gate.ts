// The pre-promotion gate: technical and business checks against the candidate colour's own address,
// probed in this process and judged by the contract. A failure fails the resource, so the traffic
// switch after it never runs and users stay on the live colour.
import { rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { runGate, StepFailure, type GatePolicy, type ResolvedHttpCheck } from "../../../contract";
import type { Color } from "../../../components/platform";
import { type FailingInputs, withFailureRecord } from "../failure-ops";
import { type SetAside, setAsideFailedBuild } from "../failed-builds";
import { slotPaths } from "../layout";
import { readRouterState } from "../router/state";
import { changedKeys, type LocalHandlers } from "../provider-factory";
import { holdColor, stopUnsupervisedLocked, withLock, writePassedGate } from "../supervision";

export interface GateInputs extends FailingInputs {
  readonly service: string;
  readonly releaseKey: string;
  readonly target: string;
  /** The candidate's build: the gate runs again whenever it changes. */
  readonly digest: string;
  readonly checks: readonly ResolvedHttpCheck[];
  readonly policy: GatePolicy;
  readonly notificationsLog: string;
  /**
   * The candidate colour's folder, relative to the project (absent in stacks from before it was
   * added): the passed gate is kept there for restarts, and a failed build is stopped there.
   */
  readonly slotDir?: string;
  /** The service's keepFailedBuilds: a build that fails its gate is kept for inspection (0 or absent: not). */
  readonly keepFailedBuilds?: number;
  /**
   * The values of the candidate's secret variables (a Pulumi secret), only so that none of them is
   * kept in plaintext in a failed build's folder or log. Never in the outputs.
   */
  readonly secrets?: Readonly<Record<string, string>>;
}

export interface GateOutputs extends Omit<GateInputs, "secrets"> {
  readonly verdict: "passed";
  readonly rounds: number;
  readonly passedAt: string;
}

/** What the router says of the colour in `slotDir`: users sent there, or held back until a gate passes. */
async function routerView(slotDir: string): Promise<{ active: boolean; held: boolean }> {
  try {
    const state = await readRouterState(join(dirname(slotDir), "router", "state.json"));
    const color = basename(slotDir);
    return { active: state.active === color, held: (state.held ?? []).some((c) => c === color) };
  } catch {
    return { active: false, held: false };
  }
}

async function check(projectDir: string, inputs: GateInputs): Promise<GateOutputs> {
  const report = await runGate({ baseUrl: inputs.target, checks: inputs.checks, policy: inputs.policy });
  const dir = inputs.slotDir === undefined ? undefined : join(projectDir, inputs.slotDir);
  if (report.verdict !== "passed") {
    // A build that failed its gate does not stay running on the idle colour, where it would look
    // like a warm version to return to: it is stopped (its build and log stay for inspection) and
    // forgotten as the colour's running spec.
    // A re-judged live colour is never stopped: it serves users.
    const stop = dir !== undefined && !(await routerView(dir)).active;
    const failed =
      `pre-promotion gate of ${inputs.service} (${inputs.releaseKey}) failed: ${report.message} ` +
      `No traffic was switched: users stay on the live version.`;
    let aside: SetAside | undefined;
    if (dir !== undefined && stop) {
      aside = await withLock(dir, async () => {
        await rm(slotPaths(dir).specFile, { force: true });
        await stopUnsupervisedLocked(slotPaths(dir).pidFile);
        // Stopped first: what is kept for inspection is never a running process.
        return setAsideFailedBuild({
          projectDir,
          slotDir: dir,
          keep: inputs.keepFailedBuilds ?? 0,
          note: {
            service: inputs.service,
            color: basename(dir) as Color,
            version: inputs.releaseKey.slice(inputs.releaseKey.lastIndexOf("@") + 1),
            digest: inputs.digest,
            stage: "gate",
            reason: failed,
          },
          secrets: Object.values(inputs.secrets ?? {}),
        });
      });
    }
    const said =
      aside === undefined
        ? ""
        : aside.kept === undefined
          ? `The failed build was stopped (its log is in ${slotPaths(dir ?? "").logFile}). ${aside.note}`
          : `The failed build was stopped. ${aside.note}`;
    throw new StepFailure(
      [failed, said.trim(), "Fix the build and release again."].filter((part) => part !== "").join(" "),
      report.trigger ?? "gate-failure",
      aside?.kept,
    );
  }
  const passedAt = new Date().toISOString();
  if (dir !== undefined) {
    await writePassedGate(dir, {
      releaseKey: inputs.releaseKey,
      digest: inputs.digest,
      checks: inputs.checks,
      policy: inputs.policy,
      passedAt,
    });
    await holdColor(dirname(dir), basename(dir) as Color, false);
  }
  const { secrets: _values, ...kept } = inputs;
  return { ...kept, verdict: "passed", rounds: report.totals.rounds, passedAt };
}

export const handlers: LocalHandlers<GateInputs, GateOutputs> = withFailureRecord("gate", {
  async diff(projectDir, _id, olds, news) {
    // A colour started again since its gate passed (a failed release in between, a healed process)
    // is held from users until a gate passes on it again: this gate runs again then.
    const held = news.slotDir !== undefined && (await routerView(join(projectDir, news.slotDir))).held;
    const changed = changedKeys(olds, news, [
      "service",
      "releaseKey",
      "digest",
      "target",
      "checks",
      "policy",
    ]);
    return {
      changes: changed.length > 0 || held,
      replaces: changed.includes("service") ? ["service"] : [],
      deleteBeforeReplace: false,
    };
  },
  async create(projectDir, inputs) {
    return { id: `${inputs.service}-gate`, outs: await check(projectDir, inputs) };
  },
  async update(projectDir, _id, _olds, news) {
    return { outs: await check(projectDir, news) };
  },
});

// The pre-promotion gate: technical and business checks against the candidate colour's own address,
// probed in this process and judged by the contract. A failure fails the resource, so the traffic
// switch after it never runs and users stay on the live colour.
import { runGate, StepFailure, type GatePolicy, type ResolvedHttpCheck } from "../../../contract";
import { type FailingInputs, withFailureRecord } from "../failure-ops";
import { changedKeys, type LocalHandlers } from "../provider-factory";

export interface GateInputs extends FailingInputs {
  readonly service: string;
  readonly releaseKey: string;
  readonly target: string;
  /** The candidate's build: the gate runs again whenever it changes. */
  readonly digest: string;
  readonly checks: readonly ResolvedHttpCheck[];
  readonly policy: GatePolicy;
  readonly notificationsLog: string;
}

export interface GateOutputs extends GateInputs {
  readonly verdict: "passed";
  readonly rounds: number;
  readonly passedAt: string;
}

async function check(inputs: GateInputs): Promise<GateOutputs> {
  const report = await runGate({ baseUrl: inputs.target, checks: inputs.checks, policy: inputs.policy });
  if (report.verdict !== "passed") {
    throw new StepFailure(
      `pre-promotion gate of ${inputs.service} (${inputs.releaseKey}) failed: ${report.message} ` +
        `No traffic was switched: users stay on the live version. Fix the build and release again.`,
      report.trigger ?? "gate-failure",
    );
  }
  return { ...inputs, verdict: "passed", rounds: report.totals.rounds, passedAt: new Date().toISOString() };
}

export const handlers: LocalHandlers<GateInputs, GateOutputs> = withFailureRecord("gate", {
  async diff(_projectDir, _id, olds, news) {
    const changed = changedKeys(olds, news, [
      "service",
      "releaseKey",
      "digest",
      "target",
      "checks",
      "policy",
    ]);
    return {
      changes: changed.length > 0,
      replaces: changed.includes("service") ? ["service"] : [],
      deleteBeforeReplace: false,
    };
  },
  async create(_projectDir, inputs) {
    return { id: `${inputs.service}-gate`, outs: await check(inputs) };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await check(news) };
  },
});

// The pre-promotion gate: technical and business checks against the candidate colour's own address.
// A failure fails the resource, so the traffic switch after it never runs and users stay on the
// live colour.
import type { GatePolicySpec, HttpCheckSpec } from "../../../components/platform";
import { describeGateFailure, runGate, type HttpCheck } from "../gate-ops";
import type { LocalHandlers } from "../provider-factory";

export interface GateInputs {
  readonly service: string;
  readonly releaseKey: string;
  readonly target: string;
  /** The candidate's build: the gate runs again whenever it changes. */
  readonly digest: string;
  readonly checks: readonly HttpCheckSpec[];
  readonly policy: GatePolicySpec;
  readonly notificationsLog: string;
}

export interface GateOutputs extends GateInputs {
  readonly verdict: "passed";
  readonly rounds: number;
  readonly passedAt: string;
}

async function check(inputs: GateInputs): Promise<GateOutputs> {
  const report = await runGate({
    baseUrl: inputs.target,
    checks: inputs.checks as unknown as HttpCheck[],
    policy: inputs.policy,
  });
  if (report.verdict !== "passed") {
    throw new Error(
      `pre-promotion gate of ${inputs.service} (${inputs.releaseKey}) failed: ${describeGateFailure(report)} ` +
        `No traffic was switched: users stay on the live version. Fix the build and release again.`,
    );
  }
  return { ...inputs, verdict: "passed", rounds: report.totals.rounds, passedAt: new Date().toISOString() };
}

export const handlers: LocalHandlers<GateInputs, GateOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    const changes =
      olds.service !== news.service ||
      olds.releaseKey !== news.releaseKey ||
      olds.digest !== news.digest ||
      olds.target !== news.target ||
      JSON.stringify(olds.checks) !== JSON.stringify(news.checks) ||
      JSON.stringify(olds.policy) !== JSON.stringify(news.policy);
    return {
      changes,
      replaces: olds.service !== news.service ? ["service"] : [],
      deleteBeforeReplace: false,
    };
  },
  async create(_projectDir, inputs) {
    return { id: `${inputs.service}-gate`, outs: await check(inputs) };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await check(news) };
  },
};

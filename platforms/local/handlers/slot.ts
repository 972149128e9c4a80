// One colour of a service: its build copied in (digest verified) and running as a detached process.
import { isDeepStrictEqual } from "node:util";
import { mkdir, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { Color, SlotSpec } from "../../../components/platform";
import { redactSecrets, StepFailure } from "../../../contract";
import { copyArtifact, digestOfFiles, listTreeFiles } from "../artifact-ops";
import { readRouterState, writeRouterState } from "../router/state";
import { RouterAdminError, setRouterFallback } from "../router/router-client";
import { setAsideFailedBuild } from "../failed-builds";
import { slotPaths } from "../layout";
import { type FailingInputs, withFailureRecord } from "../failure-ops";
import type { LocalHandlers } from "../provider-factory";
import {
  diedSince,
  isRunning,
  readProcessRecord,
  requireFreePorts,
  startDetached,
  stopByPidFile,
  waitUntilListening,
  writeJsonAtomic,
} from "../process-ops";
import {
  gateFileName,
  holdColor,
  readPassedGate,
  regate,
  stopOnPurpose,
  stopUnsupervisedLocked,
  withLock,
  writeRestartSpec,
} from "../supervision";

export interface SlotInputs extends FailingInputs {
  readonly service: string;
  readonly color: Color;
  /** The colour's folder, relative to the project. */
  readonly dir: string;
  /** The service's data folder, relative to the project; shared by both colours. */
  readonly dataDir: string;
  readonly port: number;
  readonly command: readonly string[];
  readonly spec: SlotSpec;
  /** The build to run, relative to the project. */
  readonly artifactDir: string;
  /** The values of `spec.secretEnv`'s variables; a Pulumi secret in the program and in state. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** The service's keepFailedBuilds: a build that fails to start is kept for inspection (0 or absent: not). */
  readonly keepFailedBuilds?: number;
}

/** The outputs hold no secret value: the spec's fingerprints are what later diffs compare. */
export interface SlotOutputs extends Omit<SlotInputs, "secrets"> {
  readonly pid: number;
  readonly url: string;
  readonly running: boolean;
  readonly startedAt: string;
}

const readinessTimeoutMs = 20_000;

function files(projectDir: string, inputs: SlotInputs) {
  return slotPaths(join(projectDir, inputs.dir));
}

/**
 * Tells the service's router that `color` is no longer a warm colour to fall back to, before its
 * process is stopped or replaced: users must never be sent to a build that has not passed its gate.
 * Through the router's admin API while it runs; in its state file (which it reads at start) when not.
 */
export async function withdrawFallback(slotDir: string, color: Color): Promise<void> {
  const stateFile = join(dirname(slotDir), "router", "state.json");
  let state;
  try {
    state = await readRouterState(stateFile);
  } catch {
    return; // no router yet (a first release) or none left (destroy): nothing to withdraw
  }
  if ((state.fallback ?? null) !== color) return;
  try {
    await setRouterFallback({ adminPort: state.adminPort }, null);
  } catch (error) {
    // Only a router that does not answer is bypassed; anything else is a real failure.
    if (!(error instanceof RouterAdminError) || error.status !== undefined) throw error;
    await writeRouterState(stateFile, { ...state, fallback: null });
  }
}

/**
 * The colour's secret variables with their values. Throws before anything is touched when one has
 * no value: its secret was rotated since this colour's build was released, and starting it with
 * another value (or none) would run a build nobody released.
 */
function secretEnvironment(inputs: SlotInputs): Record<string, string> {
  const variables = Object.keys(inputs.spec.secretEnv ?? {});
  const missing = variables.filter((variable) => inputs.secrets?.[variable] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `the ${inputs.color} colour of ${inputs.service} (${inputs.spec.version}) runs with a value of ${missing.join(", ")} ` +
        `that the stack's secrets no longer hold (rotated since it was released), so it is not started again; ` +
        `release the current manifest to run it with the stack's value`,
    );
  }
  return Object.fromEntries(variables.map((variable) => [variable, inputs.secrets?.[variable] as string]));
}

/**
 * Stops whatever runs in the colour (also a process an interrupted run left behind), then starts the
 * build. Secret values reach the process through its environment only, never a file of the colour
 * (the spec file holds their fingerprints), and are redacted from any error (a log tail included).
 */
export async function deploySlot(projectDir: string, inputs: SlotInputs): Promise<SlotOutputs> {
  const secrets = secretEnvironment(inputs);
  try {
    return await startSlot(projectDir, inputs, secrets);
  } catch (error) {
    if (!(error instanceof Error) || Object.keys(secrets).length === 0) throw error;
    const message = redactSecrets(error.message, Object.values(secrets));
    throw error instanceof StepFailure
      ? new StepFailure(message, error.trigger, error.kept)
      : new Error(message);
  }
}

async function startSlot(
  projectDir: string,
  inputs: SlotInputs,
  secrets: Readonly<Record<string, string>>,
): Promise<SlotOutputs> {
  const f = files(projectDir, inputs);
  // The build is checked before the colour is touched: a refused build leaves what runs there (the
  // warm previous version, a rollback target) running. copyArtifact checks the copy again.
  const source = join(projectDir, inputs.artifactDir);
  const sourceDigest = digestOfFiles(await listTreeFiles(source));
  if (sourceDigest !== inputs.spec.artifact.digest) {
    throw new Error(
      `artifact ${source} has digest ${sourceDigest}, expected ${inputs.spec.artifact.digest}: refusing to deploy it; ` +
        `the ${inputs.color} colour of ${inputs.service} was left as it was`,
    );
  }
  await withdrawFallback(f.dir, inputs.color);
  // Users never reach a colour whose process (re)starts until a gate passed on it again.
  await holdColor(dirname(f.dir), inputs.color, true);
  return withLock(f.dir, () => restartSlotLocked(projectDir, inputs, secrets));
}

async function restartSlotLocked(
  projectDir: string,
  inputs: SlotInputs,
  secrets: Readonly<Record<string, string>>,
): Promise<SlotOutputs> {
  const f = files(projectDir, inputs);
  await stopUnsupervisedLocked(f.pidFile);
  await requireFreePorts(
    [inputs.port],
    `the ${inputs.color} colour of ${inputs.service}`,
    `shipgate:services.${inputs.service}.port`,
  );
  await rm(f.specFile, { force: true });
  const passed = await readPassedGate(f.dir);
  if (passed?.digest !== inputs.spec.artifact.digest) await rm(join(f.dir, gateFileName), { force: true });
  await rm(f.appDir, { recursive: true, force: true });
  await copyArtifact(join(projectDir, inputs.artifactDir), f.appDir, inputs.spec.artifact.digest);
  const dataDir = join(projectDir, inputs.dataDir);
  await mkdir(dataDir, { recursive: true });
  const start = {
    command: inputs.command,
    cwd: f.appDir,
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "",
      ...inputs.spec.env,
      ...secrets,
      PORT: String(inputs.port),
      DATA_DIR: dataDir,
      SHIPGATE_SERVICE: inputs.service,
      SHIPGATE_COLOR: inputs.color,
    },
    logFile: f.logFile,
  };
  const record = await startDetached({ ...start, pidFile: f.pidFile });
  try {
    await waitUntilListening(record, inputs.port, readinessTimeoutMs);
  } catch (error) {
    // A build that never listens is not left running untracked: the failed update records nothing
    // of it, so nothing else would ever stop it.
    await stopByPidFile(f.pidFile);
    throw await setAside(projectDir, inputs, secrets, error instanceof Error ? error.message : String(error));
  }
  // The same build started again (a plain `pulumi up` healing a dead colour) is judged by the gate
  // it passed before users reach it; a new build waits, held, for the release's own gate.
  const judged = await regate(f.dir, inputs.port, inputs.spec.artifact.digest);
  if (judged.verdict === "failed") {
    await stopByPidFile(f.pidFile);
    throw await setAside(
      projectDir,
      inputs,
      secrets,
      `the ${inputs.color} colour of ${inputs.service} was started again with ${inputs.spec.version} but failed ` +
        `its gate: ${judged.message} It was stopped and users are not sent to it; fix the cause and run the release again.`,
    );
  }
  // Written last: observe() trusts a spec only when the colour really runs it, and the supervisor
  // restarts only what has a restart spec.
  await writeJsonAtomic(f.specFile, inputs.spec);
  // The restart spec names the secret variables but holds no value: the supervisor leaves such a
  // colour to the next `pulumi up`, which has the stack's secrets.
  const stored = Object.fromEntries(Object.entries(start.env).filter(([name]) => !(name in secrets)));
  await writeRestartSpec(f.dir, {
    ...start,
    env: stored,
    port: inputs.port,
    secretVariables: Object.keys(secrets),
  });
  if (judged.verdict === "passed") await holdColor(dirname(f.dir), inputs.color, false);
  const { secrets: _values, ...kept } = inputs;
  return {
    ...kept,
    pid: record.pid,
    url: `http://127.0.0.1:${inputs.port}`,
    running: true,
    startedAt: record.startedAt,
  };
}

/**
 * The error of a build that failed to start, once its process is stopped: its folder is removed, or
 * kept for inspection when the service keeps failed builds, and the error (and so the record) says where.
 */
async function setAside(
  projectDir: string,
  inputs: SlotInputs,
  secrets: Readonly<Record<string, string>>,
  message: string,
): Promise<StepFailure> {
  const dir = files(projectDir, inputs).dir;
  const aside = await setAsideFailedBuild({
    projectDir,
    slotDir: dir,
    keep: inputs.keepFailedBuilds ?? 0,
    note: {
      service: inputs.service,
      color: inputs.color,
      version: inputs.spec.version,
      digest: inputs.spec.artifact.digest,
      stage: "start",
      reason: message,
    },
    secrets: Object.values(secrets),
  });
  return new StepFailure(
    [message, aside.note].filter((part) => part !== "").join(" "),
    "start-failure",
    aside.kept,
  );
}

function sameDeployment(olds: SlotInputs, news: SlotInputs): boolean {
  return (
    isDeepStrictEqual(olds.spec, news.spec) &&
    isDeepStrictEqual([...olds.command], [...news.command]) &&
    olds.port === news.port &&
    olds.artifactDir === news.artifactDir &&
    olds.dataDir === news.dataDir
  );
}

export const handlers: LocalHandlers<SlotInputs, SlotOutputs> = withFailureRecord("start", {
  async diff(projectDir, _id, olds, news) {
    const replaces = (["service", "color", "dir"] as const).filter((key) => olds[key] !== news[key]);
    const changes =
      replaces.length > 0 ||
      !sameDeployment(olds, news) ||
      !olds.running ||
      (await diedSince(files(projectDir, olds).pidFile));
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(projectDir, inputs) {
    const outs = await deploySlot(projectDir, inputs);
    return { id: `${inputs.service}-${inputs.color}`, outs };
  },
  async read(projectDir, id, props): Promise<pulumi.dynamic.ReadResult<SlotOutputs>> {
    const record = await readProcessRecord(files(projectDir, props).pidFile);
    return { id, props: { ...props, running: record !== undefined && isRunning(record) } };
  },
  async update(projectDir, _id, _olds, news) {
    return { outs: await deploySlot(projectDir, news) };
  },
  async delete(projectDir, _id, props) {
    const f = files(projectDir, props);
    await withdrawFallback(f.dir, props.color);
    await stopOnPurpose(f.pidFile);
    await rm(f.dir, { recursive: true, force: true });
    // A warm colour does not depend on the router, so the router's delete may run first and find
    // this folder still there: whichever goes last removes the service's folder and services/.
    for (const folder of [dirname(f.dir), dirname(dirname(f.dir))]) {
      await rmdir(folder).catch(() => undefined);
    }
  },
});

// The one place the aws platform reaches the judge. Gates and verification bakes judge through the
// release contract's probe loop and nothing else, so the same manifest gets the same verdict here as
// on the local and kubernetes platforms. Every aws module imports the judge from this file only.
import type { ProbeTrigger } from "../../../contract";

export {
  judgeAlbMetrics,
  mostSevere,
  type AlbObservation,
  type MetricJudgement,
  runGate,
  runVerification,
  type GateReport,
  type HttpCheck,
  type ResolvedHttpCheck,
  type VerificationReport,
} from "../../../contract";

/** A rollback trigger a probe or a metric can fire. */
export type GateTrigger = ProbeTrigger;

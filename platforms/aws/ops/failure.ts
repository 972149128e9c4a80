// A failed step on AWS leaves what a failed release owes the team, as on every platform: the
// contract's failure record (JSON and Markdown objects in the records bucket) and a notice to the team
// and support on the release topic, written by the failing step before its error fails the update.
// A record or a notice that cannot be written never hides the step's own error: it is added to it.
import {
  type FailureFacts,
  type FailureStage,
  failedRecord,
  failureNotice,
  failureTrigger,
  RecordedFailure,
  type Served,
} from "../../../contract";
import type { StepHandlers } from "../provider";
import { snsClient, type AwsTarget } from "./clients";
import { publishEvent } from "./publish";
import { storeRecord } from "./record";

/** What every step of a release carries so that it can record its own failure. */
export interface AwsFailureContext {
  readonly service: string;
  readonly release: { readonly changeId: string; readonly version: string; readonly key: string };
  /** The record's fields known before the release ran (components/record-draft.ts). */
  readonly record: Readonly<Record<string, unknown>>;
  /** What served users when the release was planned; null for a first release. */
  readonly served: Served | null;
  readonly bucket: string;
  /** The key prefix of the stack's records, ending in `/`. */
  readonly recordsPrefix: string;
  readonly topicArn: string;
}

export interface AwsFailingInputs {
  readonly aws: AwsTarget;
  readonly failure?: AwsFailureContext;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Stores the failure record, then publishes the notice. Never throws: returns what to add to the error. */
export async function writeAwsFailure(
  aws: AwsTarget,
  target: { bucket: string; recordsPrefix: string; topicArn: string },
  release: { readonly changeId: string; readonly version: string },
  record: Readonly<Record<string, unknown>>,
  facts: FailureFacts,
): Promise<string> {
  const notes: string[] = [];
  let location: string | null = null;
  try {
    location = (
      await storeRecord(
        { aws, bucket: target.bucket, prefix: target.recordsPrefix },
        failedRecord(record, facts),
      )
    ).location;
    notes.push(`Record: ${location}.`);
  } catch (error) {
    notes.push(`The failure record could not be stored (${messageOf(error)}); write it by hand.`);
  }
  try {
    await publishEvent(snsClient(aws), {
      topicArn: target.topicArn,
      event: failureNotice(release, facts, location),
    });
  } catch (error) {
    // A notification never blocks: the team reads the error instead.
    notes.push(`The team could not be notified (${messageOf(error)}); tell them.`);
  }
  return notes.join(" ");
}

/** The step's handlers, with every failure of create and update recorded before it is thrown. */
export function withAwsFailureRecord<I extends AwsFailingInputs, O>(
  stage: FailureStage,
  handlers: StepHandlers<I, O>,
): StepHandlers<I, O> {
  const guarded = async <R>(inputs: I, run: () => Promise<R>): Promise<R> => {
    const startedAt = new Date().toISOString();
    try {
      return await run();
    } catch (error) {
      const context = inputs.failure;
      if (context === undefined || error instanceof RecordedFailure) throw error;
      const message = messageOf(error);
      const written = await writeAwsFailure(inputs.aws, context, context.release, context.record, {
        outcome: "failed",
        service: context.service,
        stage,
        trigger: failureTrigger(stage, error),
        error: message,
        served: context.served,
        previousColor: null,
        backup: null,
        startedAt,
        at: new Date().toISOString(),
      });
      throw new Error(`${message} ${written}`);
    }
  };
  const { update } = handlers;
  return {
    ...handlers,
    create: (projectDir, inputs) => guarded(inputs, () => handlers.create(projectDir, inputs)),
    ...(update
      ? {
          update: (projectDir, id, olds, news) =>
            guarded(news, () => update.call(handlers, projectDir, id, olds, news)),
        }
      : {}),
  };
}

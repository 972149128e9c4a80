// A notification at one stage of a release on AWS: an SNS message on the stack's topic. Subscribers
// (email, chat, an HTTPS endpoint for a webhook) are the topic's, managed outside the release. A
// failed publish never blocks a release: the outcome is kept in the resource's outputs and logged.
import type { NotificationNotice } from "../../../contract";
import type { StepHandlers } from "../provider";
import { snsClient, type AwsTarget } from "../ops/clients";
import { publishEvent } from "../ops/publish";

export interface NotificationInputs {
  readonly aws: AwsTarget;
  readonly topicArn: string;
  /** `sns:<topic name>`, for the record and the policies. */
  readonly channel: string;
  readonly releaseKey: string;
  readonly changeId: string;
  readonly version: string;
  readonly event: NotificationNotice;
}

export interface NotificationOutputs extends NotificationInputs {
  readonly sentAt: string;
  /** `published <message id>`, or why publishing failed. */
  readonly delivery: string;
}

async function send(inputs: NotificationInputs): Promise<NotificationOutputs> {
  const sentAt = new Date().toISOString();
  let delivery: string;
  try {
    const { messageId } = await publishEvent(snsClient(inputs.aws), {
      topicArn: inputs.topicArn,
      event: {
        ...inputs.event,
        audience: [...inputs.event.audience],
        release: { changeId: inputs.changeId, version: inputs.version },
        at: sentAt,
      },
    });
    delivery = `published ${messageId}`;
  } catch (error) {
    delivery = `failed: ${error instanceof Error ? error.message : String(error)}`;
    console.log(`notification ${inputs.event.stage} of ${inputs.releaseKey} was not published (${delivery})`);
  }
  return { ...inputs, sentAt, delivery };
}

export const handlers: StepHandlers<NotificationInputs, NotificationOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    const changes =
      olds.releaseKey !== news.releaseKey ||
      olds.topicArn !== news.topicArn ||
      JSON.stringify(olds.event) !== JSON.stringify(news.event);
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(_projectDir, inputs) {
    return { id: `${inputs.releaseKey}:${inputs.event.stage}`, outs: await send(inputs) };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await send(news) };
  },
};

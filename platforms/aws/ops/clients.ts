// Where the aws step modules send their calls. Credentials are never an argument: every client takes
// them from the SDK's default chain in the process that runs it (the engine's provider process, or a
// test), so none ever travels through Pulumi inputs, outputs or state.
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { RDSClient } from "@aws-sdk/client-rds";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";

/** The region and, for an emulator or a VPC endpoint, the API address every client uses. */
export interface AwsTarget {
  readonly region: string;
  /** An endpoint override (http://127.0.0.1:45000 for moto_server); AWS's own endpoints when unset. */
  readonly endpoint?: string | null;
}

function config(target: AwsTarget) {
  return {
    region: target.region,
    maxAttempts: 5,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
  };
}

export const elbClient = (target: AwsTarget) => new ElasticLoadBalancingV2Client(config(target));
export const cloudWatchClient = (target: AwsTarget) => new CloudWatchClient(config(target));
export const rdsClient = (target: AwsTarget) => new RDSClient(config(target));
export const ecsClient = (target: AwsTarget) => new ECSClient(config(target));
export const snsClient = (target: AwsTarget) => new SNSClient(config(target));
// An emulator serves buckets on its own path, not on a bucket sub-domain of its address.
export const s3Client = (target: AwsTarget) =>
  new S3Client({ ...config(target), forcePathStyle: Boolean(target.endpoint) });

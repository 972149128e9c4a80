// An aws step: a dynamic resource whose work lives in platforms/aws/handlers/<kind>.ts (compiled to
// dist/ and loaded by the provider process at call time), declared by the platform and its steps/.
import * as pulumi from "@pulumi/pulumi";
import { stepProvider } from "./provider";

/** The kinds of aws step; each has a handlers module `handlers/<kind>.ts` exporting `handlers`. */
export const awsKinds = [
  "Gate",
  "Switch",
  "Verification",
  "Backup",
  "Task",
  "Maintenance",
  "Scale",
  "Record",
  "Notification",
] as const;
export type AwsKind = (typeof awsKinds)[number];

export function awsType(kind: AwsKind): string {
  return `pulumi-nodejs:dynamic/shipgate/aws:${kind}`;
}

/** An aws step: inputs as given, plus the named outputs its handler fills in. */
export class AwsStep extends pulumi.dynamic.Resource {
  constructor(
    kind: AwsKind,
    name: string,
    inputs: Record<string, unknown>,
    outputs: readonly string[],
    opts: pulumi.CustomResourceOptions,
  ) {
    const props: Record<string, unknown> = { ...inputs };
    for (const key of outputs) props[key] = undefined;
    const module = `dist/platforms/aws/handlers/${kind.toLowerCase()}.js`;
    super(stepProvider(module), name, props, opts, "shipgate/aws", kind);
  }

  output<T>(key: string): pulumi.Output<T> {
    return (this as unknown as Record<string, pulumi.Output<T>>)[key] as pulumi.Output<T>;
  }
}

export const minutes = (n: number): number => n * 60_000;

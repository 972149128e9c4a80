// A local step: a Node.js dynamic resource whose work lives in platforms/local/handlers/<kind>.ts
// (compiled to dist/ and loaded by the provider process at call time).
import * as pulumi from "@pulumi/pulumi";
import { delegatingProvider } from "./provider-factory";

/** The kinds of local resource; each has a handlers module `handlers/<kind>.ts` exporting `handlers`. */
export const localKinds = [
  "Router",
  "Slot",
  "Backup",
  "Restore",
  "Migration",
  "Maintenance",
  "Gate",
  "Switch",
  "Verification",
  "Record",
  "Notification",
] as const;
export type LocalKind = (typeof localKinds)[number];

export function localType(kind: LocalKind): string {
  return `pulumi-nodejs:dynamic/shipgate/local:${kind}`;
}

function handlersModule(kind: LocalKind): string {
  return `dist/platforms/local/handlers/${kind.replace(/[A-Z]/g, (c, i: number) => (i ? "-" : "") + c.toLowerCase())}.js`;
}

/** A local resource: inputs as given, plus the named outputs the handler fills in. */
export class LocalResource extends pulumi.dynamic.Resource {
  constructor(
    kind: LocalKind,
    name: string,
    inputs: Record<string, unknown>,
    outputs: readonly string[],
    opts: pulumi.CustomResourceOptions,
  ) {
    const props: Record<string, unknown> = { ...inputs };
    for (const key of outputs) props[key] = undefined;
    // A handler returns its inputs among its outputs: the webhook URL, which may carry a token, and a
    // colour's secret values are kept secret there as well as in the inputs, so the state holds only
    // their ciphertext (the slot handler leaves its secrets out of its outputs besides).
    const secretOutputs = ["webhookUrl", "secrets"].filter((key) => key in inputs);
    super(
      delegatingProvider(handlersModule(kind), "handlers"),
      name,
      props,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: secretOutputs }),
      "shipgate/local",
      kind,
    );
  }

  output<T>(key: string): pulumi.Output<T> {
    return (this as unknown as Record<string, pulumi.Output<T>>)[key] as pulumi.Output<T>;
  }
}

import * as pulumi from "@pulumi/pulumi";
import type { DirectoryInputs, DirectoryOutputs, RemovalPolicy } from "./directory-ops";
import { delegatingProvider } from "./provider-factory";

const directoryProvider = delegatingProvider<DirectoryInputs, DirectoryOutputs>(
  "dist/platforms/local/directory-ops.js",
  "handlers",
);

export interface DirectoryArgs {
  /** Path relative to the project folder; changing it replaces the directory. */
  readonly path: pulumi.Input<string>;
  /** What deleting the resource does to the directory. Default `ifEmpty`: a directory with files is kept. */
  readonly removeOnDelete?: pulumi.Input<RemovalPolicy>;
}

/** A directory of the local platform, inside the project folder. Type token: `pulumi-nodejs:dynamic/shipgate/local:Directory`. */
export class Directory extends pulumi.dynamic.Resource {
  declare public readonly path: pulumi.Output<string>;
  declare public readonly removeOnDelete: pulumi.Output<RemovalPolicy>;
  /** The directory's absolute path on this machine. */
  declare public readonly absolutePath: pulumi.Output<string>;

  constructor(name: string, args: DirectoryArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      directoryProvider,
      name,
      { path: args.path, removeOnDelete: args.removeOnDelete ?? "ifEmpty", absolutePath: undefined },
      opts,
      "shipgate/local",
      "Directory",
    );
  }
}

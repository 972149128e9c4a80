import * as pulumi from "@pulumi/pulumi";
import type * as ops from "./directory-ops";
import type { DirectoryInputs, DirectoryOutputs, RemovalPolicy } from "./directory-ops";

// The provider runs in the engine's dynamic-provider process, whose working directory is the project
// folder; it loads the compiled plain module from there at call time, so nothing but this text is
// serialized into the state and the state survives moving the project folder.
const directoryProvider: pulumi.dynamic.ResourceProvider<DirectoryInputs, DirectoryOutputs> = {
  async check(_olds, news) {
    const m: typeof ops = require(`${process.cwd()}/dist/platforms/local/directory-ops.js`);
    const { inputs, failures } = m.checkDirectoryInputs(news as unknown as Record<string, unknown>);
    return { inputs, failures };
  },
  async diff(_id, olds, news) {
    const m: typeof ops = require(`${process.cwd()}/dist/platforms/local/directory-ops.js`);
    const replaces = m.directoryReplaceKeys(olds, news);
    return {
      changes: replaces.length > 0 || olds.removeOnDelete !== news.removeOnDelete,
      replaces,
      deleteBeforeReplace: false,
    };
  },
  async create(inputs) {
    const m: typeof ops = require(`${process.cwd()}/dist/platforms/local/directory-ops.js`);
    const outs = await m.createDirectory(process.cwd(), inputs);
    return { id: outs.path, outs };
  },
  async read(id, props) {
    const m: typeof ops = require(`${process.cwd()}/dist/platforms/local/directory-ops.js`);
    const outs = props ? await m.readDirectory(process.cwd(), props) : undefined;
    return outs ? { id, props: outs } : { id: "", props: {} as DirectoryOutputs };
  },
  async update(_id, _olds, news) {
    const m: typeof ops = require(`${process.cwd()}/dist/platforms/local/directory-ops.js`);
    return { outs: await m.createDirectory(process.cwd(), news) };
  },
  async delete(_id, props) {
    const m: typeof ops = require(`${process.cwd()}/dist/platforms/local/directory-ops.js`);
    await m.deleteDirectory(process.cwd(), props);
  },
};

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

import * as pulumi from "@pulumi/pulumi";
import type * as ops from "./directory-ops";
import type { DirectoryInputs, DirectoryOutputs, RemovalPolicy } from "./directory-ops";

/**
 * Loads the compiled CRUD module. The provider runs in the engine's dynamic-provider process, whose
 * working directory is the project folder; loading the module from there at call time means only
 * this small function is serialized into the state, and the state survives moving the project.
 */
function directoryOps(): typeof ops {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a runtime path, resolved in the provider process
  return require(`${process.cwd()}/dist/platforms/local/directory-ops.js`);
}

const directoryProvider: pulumi.dynamic.ResourceProvider<DirectoryInputs, DirectoryOutputs> = {
  async check(_olds, news) {
    const m = directoryOps();
    const { inputs, failures } = m.checkDirectoryInputs(news as unknown as Record<string, unknown>);
    return { inputs, failures };
  },
  async diff(_id, olds, news) {
    const m = directoryOps();
    const replaces = m.directoryReplaceKeys(olds, news);
    return {
      changes: replaces.length > 0 || olds.removeOnDelete !== news.removeOnDelete,
      replaces,
      deleteBeforeReplace: false,
    };
  },
  async create(inputs) {
    const m = directoryOps();
    const outs = await m.createDirectory(process.cwd(), inputs);
    return { id: outs.path, outs };
  },
  async read(id, props) {
    const m = directoryOps();
    const outs = props ? await m.readDirectory(process.cwd(), props) : undefined;
    return outs ? { id, props: outs } : { id: "", props: {} as DirectoryOutputs };
  },
  async update(_id, _olds, news) {
    const m = directoryOps();
    return { outs: await m.createDirectory(process.cwd(), news) };
  },
  async delete(_id, props) {
    const m = directoryOps();
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

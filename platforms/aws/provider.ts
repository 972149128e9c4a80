// The aws steps' dynamic provider: it delegates to `handlers` of a compiled module under dist/,
// loaded by the engine's dynamic-provider process (whose working directory is the project) at call
// time. Only these small functions and the module's path are serialized into the state, never an SDK
// client or a credential, and a fixed handler is picked up on the next run.
import type * as pulumi from "@pulumi/pulumi";

/** The CRUD logic of one kind of aws step, as plain async functions (tested on their own). */
export interface StepHandlers<I, O> {
  diff(projectDir: string, id: string, olds: O, news: I): Promise<pulumi.dynamic.DiffResult>;
  create(projectDir: string, inputs: I): Promise<pulumi.dynamic.CreateResult<O>>;
  read?(projectDir: string, id: string, props: O): Promise<pulumi.dynamic.ReadResult<O>>;
  update?(projectDir: string, id: string, olds: O, news: I): Promise<pulumi.dynamic.UpdateResult<O>>;
  delete?(projectDir: string, id: string, props: O): Promise<void>;
}

export function stepProvider<I, O>(modulePath: string): pulumi.dynamic.ResourceProvider<I, O> {
  const load = (): StepHandlers<I, O> => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved in the provider process
    const loaded: { handlers?: StepHandlers<I, O> } = require(`${process.cwd()}/${modulePath}`);
    if (!loaded.handlers) throw new Error(`${modulePath} exports no handlers: run \`npm run build\``);
    return loaded.handlers;
  };
  return {
    async diff(id, olds, news) {
      return load().diff(process.cwd(), id, olds, news);
    },
    async create(inputs) {
      return load().create(process.cwd(), inputs);
    },
    async read(id, props) {
      const handlers = load();
      return handlers.read && props ? handlers.read(process.cwd(), id, props) : { id, props };
    },
    async update(id, olds, news) {
      const handlers = load();
      if (!handlers.update) throw new Error(`${modulePath} cannot update a step in place`);
      return handlers.update(process.cwd(), id, olds, news);
    },
    async delete(id, props) {
      await load().delete?.(process.cwd(), id, props);
    },
  };
}

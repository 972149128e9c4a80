import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";

/**
 * The CRUD logic of one kind of local resource, as plain async functions (unit-tested on their own).
 * `projectDir` is the engine's working directory: the project folder.
 */
export interface LocalHandlers<I, O> {
  check?(projectDir: string, olds: Partial<I>, news: Partial<I>): Promise<pulumi.dynamic.CheckResult<I>>;
  diff(projectDir: string, id: string, olds: O, news: I): Promise<pulumi.dynamic.DiffResult>;
  create(projectDir: string, inputs: I): Promise<pulumi.dynamic.CreateResult<O>>;
  read?(projectDir: string, id: string, props: O): Promise<pulumi.dynamic.ReadResult<O>>;
  update?(projectDir: string, id: string, olds: O, news: I): Promise<pulumi.dynamic.UpdateResult<O>>;
  delete?(projectDir: string, id: string, props: O): Promise<void>;
}

/**
 * A dynamic provider that delegates to `exportName` of the compiled module `modulePath` (relative to
 * the project folder). The provider runs in the engine's dynamic-provider process, whose working
 * directory is the project folder, and loads the module from there at call time: only these small
 * functions and two strings are serialized into the state, which therefore survives moving the
 * project and picks up fixed logic on the next run.
 */
export function delegatingProvider<I, O>(
  modulePath: string,
  exportName: string,
): pulumi.dynamic.ResourceProvider<I, O> {
  const load = (): LocalHandlers<I, O> => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved in the provider process
    const loaded: Record<string, LocalHandlers<I, O>> = require(`${process.cwd()}/${modulePath}`);
    const handlers = loaded[exportName];
    if (!handlers) throw new Error(`${modulePath} does not export ${exportName}: run \`npm run build\``);
    return handlers;
  };
  return {
    async check(olds, news) {
      const handlers = load();
      return handlers.check ? handlers.check(process.cwd(), olds, news) : { inputs: news as I };
    },
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
      if (!handlers.update) throw new Error(`${exportName} cannot be updated in place`);
      return handlers.update(process.cwd(), id, olds, news);
    },
    async delete(id, props) {
      const handlers = load();
      if (handlers.delete) await handlers.delete(process.cwd(), id, props);
    },
  };
}

/**
 * The keys whose values differ between the stored outputs and the new inputs, compared by value:
 * key order inside objects does not count (a JSON text comparison would see a change where none is).
 */
export function changedKeys<I extends object>(
  olds: Partial<I>,
  news: I,
  keys: readonly (keyof I)[],
): (keyof I)[] {
  return keys.filter((key) => !isDeepStrictEqual(olds[key], news[key]));
}

// Shared material of the handler tests: a temporary project folder with the sample app's builds in
// it, and random high ports on 127.0.0.1 that nothing listens on yet.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { portAccepts } from "../../../../../platforms/local/process-ops";
import type { LocalHandlers } from "../../../../../platforms/local/provider-factory";
import { type BuiltSampleApp, buildSampleApps } from "../../../sample-app/processes";

export interface TestProject {
  /** The project folder the handlers get (the engine's working directory). */
  readonly dir: string;
  /** The sample app's builds, under `artifacts/<version>` of the project folder. */
  readonly builds: ReadonlyMap<string, BuiltSampleApp>;
  build(version: string): BuiltSampleApp;
  remove(): void;
}

/** A temporary project folder; with `withBuilds`, the sample app's builds are assembled into it. */
export function testProject(prefix: string, withBuilds = false): TestProject {
  const dir = mkdtempSync(join(tmpdir(), `shipgate-${prefix}-`));
  const builds = withBuilds ? buildSampleApps(join(dir, "artifacts")) : new Map<string, BuiltSampleApp>();
  return {
    dir,
    builds,
    build(version) {
      const found = builds.get(version);
      if (!found) throw new Error(`no sample-app build ${version}`);
      return found;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * `count` consecutive ports on which nothing accepts connections, from 30000-32699: below Linux's
 * ephemeral range (32768 and up), where an outgoing connection's local port could take one.
 */
export async function freePorts(count = 1): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 30_000 + Math.floor(Math.random() * (2_700 - count));
    const taken = await Promise.all(Array.from({ length: count }, (_, i) => portAccepts(base + i, 200)));
    if (!taken.some(Boolean)) return base;
  }
  throw new Error("no free ports in 30000-32699");
}

/** GET a JSON document from 127.0.0.1. */
export async function getJson(port: number, path: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return response.json();
}

export interface Crud<I, O> {
  create(projectDir: string, inputs: I): Promise<{ id: string; outs: O }>;
  read(projectDir: string, id: string, props: O): Promise<{ id: string; props: O }>;
  update(projectDir: string, id: string, olds: O, news: I): Promise<{ outs: O }>;
  delete(projectDir: string, id: string, props: O): Promise<void>;
}

/** A handler's CRUD functions as the tests call them: each one required, and every result complete. */
export function crud<I, O>(handlers: LocalHandlers<I, O>): Crud<I, O> {
  const need = <F>(f: F | undefined, what: string): F => {
    if (!f) throw new Error(`the handler has no ${what}`);
    return f;
  };
  return {
    async create(projectDir, inputs) {
      const { id, outs } = await handlers.create(projectDir, inputs);
      if (outs === undefined) throw new Error("create returned no outputs");
      return { id, outs };
    },
    async read(projectDir, id, props) {
      const result = await need(handlers.read, "read")(projectDir, id, props);
      if (result.id === undefined || result.props === undefined) throw new Error("read returned no state");
      return { id: result.id, props: result.props };
    },
    async update(projectDir, id, olds, news) {
      const { outs } = await need(handlers.update, "update")(projectDir, id, olds, news);
      if (outs === undefined) throw new Error("update returned no outputs");
      return { outs };
    },
    delete: (projectDir, id, props) => need(handlers.delete, "delete")(projectDir, id, props),
  };
}

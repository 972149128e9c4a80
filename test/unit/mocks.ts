// Pulumi mocks that record every resource registration, for unit tests of components and the program.
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly parent?: string;
  readonly dependsOn?: string[];
}

export interface RecordingMocks {
  readonly registrations: Registration[];
  /** Waits for the registrations queued so far to reach the mocks. */
  settle(): Promise<void>;
}

/** Installs recording mocks for `project`/`stack`, with the given stack config. */
export async function installMocks(
  config: Record<string, string> = {},
  { project = "shipgate", stack = "local", preview = false } = {},
): Promise<RecordingMocks> {
  const registrations: Registration[] = [];
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs } };
      },
      call(args) {
        return args.inputs;
      },
    },
    project,
    stack,
    preview,
  );
  return {
    registrations,
    settle: () => new Promise((resolve) => setTimeout(resolve, 50)),
  };
}

/** Resolves an Output's value under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

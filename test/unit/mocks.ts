// Pulumi mocks that record every resource registration, for unit tests of components and the program.
import { registrationsSettled } from "./rpcs";
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** The parent's name ("" for none), from the registration request. */
  readonly parent?: string;
  /** The names of the resources the engine is told this one depends on, sorted. */
  readonly dependsOn?: string[];
}

export interface RecordingMocks {
  readonly registrations: Registration[];
  /** Waits for the registrations queued so far to reach the mocks. */
  settle(): Promise<void>;
}

/** The part of a RegisterResourceRequest the recorder reads (the SDK does not export the type). */
interface RegisterRequest {
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
}

type RegisterCall = (request: RegisterRequest, callback: unknown) => unknown;

/** The name part of a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function nameOfUrn(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/**
 * Installs recording mocks for `project`/`stack`, with the given stack config. Each registration
 * carries its parent and its dependencies as the SDK sends them to the engine: the mocks' own
 * `newResource` does not see them, so the monitor's `registerResource` is wrapped to read them first.
 */
export async function installMocks(
  config: Record<string, string> = {},
  {
    project = "shipgate",
    stack = "local",
    preview = false,
    outputs = (): Record<string, unknown> => ({}),
  }: {
    project?: string;
    stack?: string;
    preview?: boolean;
    /** Outputs a provider would add to a resource's state (by default none: the state is the inputs). */
    outputs?: (registration: Registration) => Record<string, unknown>;
  } = {},
): Promise<RecordingMocks> {
  const registrations: Registration[] = [];
  const links = new Map<string, { parent: string; dependsOn: string[] }>();
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const link = links.get(args.name);
        const registration: Registration = {
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          ...(link ? { parent: link.parent, dependsOn: link.dependsOn } : {}),
        };
        registrations.push(registration);
        return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs(registration) } };
      },
      call(args) {
        return args.inputs;
      },
    },
    project,
    stack,
    preview,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: RegisterCall } | undefined;
  if (monitor) {
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) => {
      const parent = request.getParent();
      links.set(request.getName(), {
        parent: parent ? nameOfUrn(parent) : "",
        dependsOn: request.getDependenciesList().map(nameOfUrn).sort(),
      });
      return register(request, callback);
    };
  }
  return {
    registrations,
    settle: registrationsSettled,
  };
}

/** Resolves an Output's value under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

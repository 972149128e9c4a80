// Recording mocks for the kubernetes platform's tests: every registration with its inputs and the
// names of the resources it depends on, provider outputs for Jobs (their completion), and a way to
// stop at one resource as the engine does when the provider fails it (a Job that does not complete):
// its registration never completes, so nothing that depends on it is ever declared.
import { registrationsSettled } from "../../rpcs";
import * as pulumi from "@pulumi/pulumi";

export interface K8sRegistration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly dependsOn: string[];
}

interface RegisterRequest {
  getName(): string;
  getDependenciesList(): string[];
}

export const jobCompletedAt = "2026-11-23T10:05:00Z";

export async function installK8sMocks(stack: string, failing?: (name: string) => boolean) {
  const fail = failing ?? (() => false);
  const registrations: K8sRegistration[] = [];
  const dependencies = new Map<string, string[]>();
  pulumi.runtime.setAllConfig({});
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registrations.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          dependsOn: dependencies.get(args.name) ?? [],
        });
        if (fail(args.name)) return new Promise<never>(() => undefined);
        const outputs =
          args.type === "kubernetes:batch/v1:Job"
            ? { status: { succeeded: 1, completionTime: jobCompletedAt } }
            : {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs } };
      },
      call(args) {
        return args.inputs;
      },
    },
    "shipgate",
    stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (request: RegisterRequest, callback: unknown) => unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    dependencies.set(
      request.getName(),
      request
        .getDependenciesList()
        .map((urn) => urn.slice(urn.lastIndexOf("::") + 2))
        .sort(),
    );
    return register(request, callback);
  };
  return {
    registrations,
    /** The Kubernetes objects registered (not the components), as `type name`. */
    objects: () =>
      registrations
        .filter((r) => r.type.startsWith("kubernetes:") || r.type === "pulumi:providers:kubernetes")
        .map((r) => `${r.type} ${r.name}`),
    byName(name: string): K8sRegistration {
      const found = registrations.find((r) => r.name === name);
      if (!found) throw new Error(`no registration named ${name}`);
      return found;
    },
    /**
     * Everything the program declared has registered. With a failed resource the runtime never
     * finishes (its dependents wait forever, as the engine's would stop), so then the wait is for the
     * registrations to stop coming: counted in turns of the event loop, not in time.
     */
    settle: async () => {
      if (!failing) return registrationsSettled();
      let last = -1;
      for (let quiet = 0; quiet < 50;) {
        await new Promise((resolve) => setImmediate(resolve));
        quiet = registrations.length === last ? quiet + 1 : 0;
        last = registrations.length;
      }
    },
  };
}

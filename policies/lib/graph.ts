// The resource graph a stack policy sees: what a resource waits for, directly or transitively.
import type { PolicyResource } from "@pulumi/policy";

/** Direct dependencies: `dependsOn` and the resources its inputs come from. */
export function directDependencies(resource: PolicyResource): PolicyResource[] {
  const all = [...resource.dependencies, ...Object.values(resource.propertyDependencies).flat()];
  return all.filter((dependency, index) => all.findIndex((other) => other.urn === dependency.urn) === index);
}

/** Every resource that `resource` waits for before it changes, transitively, without itself. */
export function transitiveDependencies(resource: PolicyResource): PolicyResource[] {
  const seen = new Map<string, PolicyResource>();
  const queue = directDependencies(resource);
  while (queue.length > 0) {
    const next = queue.shift() as PolicyResource;
    if (seen.has(next.urn) || next.urn === resource.urn) continue;
    seen.set(next.urn, next);
    queue.push(...directDependencies(next));
  }
  return [...seen.values()];
}

/** True when `later` waits, directly or transitively, for `earlier`. */
export function dependsOn(later: PolicyResource, earlier: PolicyResource): boolean {
  return transitiveDependencies(later).some((dependency) => dependency.urn === earlier.urn);
}

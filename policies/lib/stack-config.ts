// The stack's own config (`shipgate:*`), which the engine hands to the policy pack. Policies read it
// only where the plan does not carry a setting as a resource input yet (see docs/policies.md).
import * as pulumi from "@pulumi/pulumi";

/** `shipgate:services`, as the stack's config holds it (unvalidated: the program validates it). */
export function stackServices(): Record<string, Record<string, unknown>> {
  const services = new pulumi.Config("shipgate").getObject<unknown>("services");
  return typeof services === "object" && services !== null
    ? (services as Record<string, Record<string, unknown>>)
    : {};
}

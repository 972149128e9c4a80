// What the policy pack's bundle gets when the pack or @pulumi/policy imports `@pulumi/pulumi`: only
// the parts they use, taken from the SDK's own modules. The SDK's index also loads the automation API,
// closure serialization and the TypeScript compiler (about 760 modules), which a policy pack never
// calls; loading them cost most of a second of every preview and `up` while the engine waited for the
// pack. test/unit/policies/bundle.test.ts checks that every name @pulumi/policy takes from the index is
// here, so an upgrade that needs more fails a test instead of a preview.
export * as asset from "@pulumi/pulumi/asset";
export { Output } from "@pulumi/pulumi/output";
export { getStack } from "@pulumi/pulumi/metadata";

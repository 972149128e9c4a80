// The policy pack's entry: it only constructs the pack. Policies live one per module in rules/ and
// are exported there, so tests import them without starting the pack's gRPC server. The engine tells
// the pack which stack it checks (PULUMI_NODEJS_STACK), and pack.ts picks the default levels for it.
import * as pulumi from "@pulumi/pulumi";
import { PolicyPack } from "@pulumi/policy";
import { policiesForStack } from "./pack";

new PolicyPack("shipgate", {
  policies: policiesForStack(pulumi.getStack()),
});

// The policy pack's entry: it only constructs the pack. Policies live one per module in rules/ and
// are exported there, so tests import them without starting the pack's gRPC server. The engine tells
// the pack which stack it checks (PULUMI_NODEJS_STACK), and pack.ts picks the default levels for it.
import * as pulumi from "@pulumi/pulumi";
import { PolicyPack } from "@pulumi/policy";
import { z } from "zod";
import { policiesForStack } from "./pack";

// zod compiles a fast path for each schema the first time it parses with it (code generated with
// `new Function`), which pays off over many parses. The pack parses each schema a handful of times
// per preview, each first parse on the path of a resource's check: without the compiled path the
// first parse costs about half as much, and later ones about the same.
z.config({ jitless: true });

new PolicyPack("shipgate", {
  policies: policiesForStack(pulumi.getStack()),
});

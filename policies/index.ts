// The policy pack's entry: it only constructs the pack. Policies live one per module in rules/ and
// are exported there, so tests import them without starting the pack's gRPC server.
import { PolicyPack } from "@pulumi/policy";
import { localFilesInNamedFolders } from "./rules/local-files-in-named-folders";

new PolicyPack("shipgate", {
  policies: [localFilesInNamedFolders],
});

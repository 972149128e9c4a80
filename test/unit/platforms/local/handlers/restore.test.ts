// The Restore handler's diff: a restore never updates in place; another backup, service or folder
// is a new restore.
import { describe, expect, it } from "vitest";
import {
  type RestoreInputs,
  type RestoreOutputs,
  handlers,
} from "../../../../../platforms/local/handlers/restore";

const inputs: RestoreInputs = {
  service: "web",
  dataDir: "data/web",
  backupRoot: "backups/web",
  backupId: "CHG-1-1.0.0",
};
const olds: RestoreOutputs = {
  ...inputs,
  restoredDigest: `sha256:${"a".repeat(64)}`,
  previousDataDir: "data/web.pre-restore-20261122T100000000Z",
  restoredAt: "2026-11-22T10:00:00.000Z",
};

describe("Restore diff", () => {
  it("restores nothing again for the same backup and folders, whatever the failure context says", async () => {
    expect(await handlers.diff("", "id", olds, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(await handlers.diff("", "id", olds, { ...inputs, webhookUrl: "http://127.0.0.1:9/hook" })).toEqual(
      {
        changes: false,
        replaces: [],
        deleteBeforeReplace: false,
      },
    );
  });

  it("is a new restore (replace) for another backup, service, data folder or backup folder", async () => {
    expect(await handlers.diff("", "id", olds, { ...inputs, backupId: "CHG-2-2.0.0" })).toEqual({
      changes: true,
      replaces: ["backupId"],
      deleteBeforeReplace: false,
    });
    expect(
      await handlers.diff("", "id", olds, { ...inputs, service: "api", dataDir: "d", backupRoot: "b" }),
    ).toEqual({
      changes: true,
      replaces: ["service", "dataDir", "backupRoot"],
      deleteBeforeReplace: false,
    });
  });
});

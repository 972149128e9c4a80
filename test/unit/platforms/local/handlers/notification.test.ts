// The Notification handler: its diff, the webhook it uses, and create writing the log line in a
// temporary project folder (no webhook configured, so nothing leaves the machine).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type NotificationInputs,
  type NotificationOutputs,
  handlers,
  webhookFor,
} from "../../../../../platforms/local/handlers/notification";
import { type TestProject, testProject, crud } from "./helpers";

const ops = crud(handlers);

let project: TestProject;
const savedWebhook = process.env["SHIPGATE_WEBHOOK_URL"];
beforeAll(() => {
  project = testProject("notification-handler");
  delete process.env["SHIPGATE_WEBHOOK_URL"];
});
afterEach(() => {
  delete process.env["SHIPGATE_WEBHOOK_URL"];
});
afterAll(() => {
  if (savedWebhook !== undefined) process.env["SHIPGATE_WEBHOOK_URL"] = savedWebhook;
  project.remove();
});

const inputs: NotificationInputs = {
  releaseKey: "CHG-101@2.0.0",
  changeId: "CHG-101",
  version: "2.0.0",
  service: "sample-app",
  event: {
    stage: "starting",
    message: "Release CHG-101@2.0.0 is starting.",
    severity: "info",
    audience: ["users", "team"],
  },
  logFile: "logs/notifications.log",
  webhookUrl: null,
};
const olds: NotificationOutputs = { ...inputs, sentAt: "2026-11-22T10:00:00.000Z", webhook: null };

describe("Notification diff", () => {
  it("sends nothing again for the same release, event and channel", async () => {
    expect(await handlers.diff("", "id", olds, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("sends again (in place) for another release, event, log file or webhook", async () => {
    for (const news of [
      { ...inputs, releaseKey: "CHG-102@3.0.0" },
      { ...inputs, event: { ...inputs.event, message: "Another message." } },
      { ...inputs, logFile: "other.log" },
      { ...inputs, webhookUrl: "https://hooks.example.com/release" },
    ]) {
      expect(await handlers.diff("", "id", olds, news)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });
});

describe("webhookFor", () => {
  it("takes SHIPGATE_WEBHOOK_URL first, then the stack's URL, else none", () => {
    expect(webhookFor({ webhookUrl: null })).toBeUndefined();
    expect(webhookFor({ webhookUrl: "https://a.example.com/" })).toBe("https://a.example.com/");
    process.env["SHIPGATE_WEBHOOK_URL"] = "https://b.example.com/?token=x";
    expect(webhookFor({ webhookUrl: "https://a.example.com/" })).toBe("https://b.example.com/?token=x");
  });
});

describe("Notification create", () => {
  it("appends one JSON line with the event to the stack's log, creating its folder", async () => {
    const created = await ops.create(project.dir, inputs);
    expect(created.id).toBe("CHG-101@2.0.0:starting");
    expect(created.outs).toEqual({ ...inputs, sentAt: created.outs.sentAt, webhook: null });
    await ops.update(project.dir, created.id, created.outs, {
      ...inputs,
      event: { ...inputs.event, stage: "completed" },
    });
    const lines = readFileSync(join(project.dir, "logs/notifications.log"), "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      type: "notification",
      stage: "starting",
      release: { changeId: "CHG-101", version: "2.0.0" },
      service: "sample-app",
      message: "Release CHG-101@2.0.0 is starting.",
      severity: "info",
      audience: ["users", "team"],
      at: created.outs.sentAt,
    });
    expect((JSON.parse(lines[1] ?? "") as { stage: string }).stage).toBe("completed");
  });
});

// A release that was switched back stays switched back: the program refuses to promote the same
// release (key and manifest digest) again, registering nothing, until shipgate:retry names the
// record of the switch back.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { planColors } from "../../components/colors";
import { buildRecordDraft } from "../../components/record-draft";
import { completeRecord } from "../../platforms/local/handlers/record";
import { writeRecord } from "../../platforms/local/record-ops";
import { sampleBuild, sampleManifest } from "./components/fixtures";
import { installMocks } from "./mocks";

const root = join(__dirname, "..", "..");
const workDir = `.shipgate/unit-retry-${randomBytes(4).toString("hex")}`;
const v2 = sampleManifest("v2");
let recordId: string;

async function runProgram(extra: Record<string, string> = {}) {
  vi.resetModules();
  const mocks = await installMocks(
    {
      "shipgate:workDir": workDir,
      "shipgate:manifest": "releases/sample-app/v2.yaml",
      "shipgate:services": JSON.stringify({
        "sample-app": { port: 32300, artifacts: ".shipgate/artifacts/sample-app" },
      }),
      ...extra,
    },
    { stack: "dev-unit" },
  );
  const outcome = await import("../../index").then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  await mocks.settle();
  return { outcome, registrations: mocks.registrations };
}

beforeAll(async () => {
  const build = sampleBuild(v2);
  const plan = planColors(
    { active: "blue", slots: { blue: sampleBuild(sampleManifest("v1")) } },
    build,
    "blue-green",
  );
  const draft = buildRecordDraft({
    manifest: v2.manifest,
    digest: v2.digest,
    stack: "dev-unit",
    service: "sample-app",
    plan,
    build,
  });
  const stored = await writeRecord({
    dir: join(root, workDir, "records"),
    record: completeRecord(draft, {
      outcome: "rolled-back",
      rollback: { trigger: "errors", reason: "check version failed 3 times", at: "2026-11-22T10:00:05.000Z" },
      activeColor: "blue",
      previousColor: "green",
      backup: null,
      gates: [],
      performance: [],
      system: "sample-app failed post-promotion verification (errors).",
      issuesFound: 1,
      timeline: [{ stage: "sample-app: rolled back (errors)", at: "2026-11-22T10:00:05.000Z" }],
      date: "2026-11-22T10:00:00.000Z",
    }),
  });
  recordId = stored.jsonPath.slice(stored.jsonPath.lastIndexOf("/") + 1, -".json".length);
});

afterAll(() => rmSync(join(root, workDir), { recursive: true, force: true }));

describe("a release that was switched back", () => {
  it("is not promoted again: the program refuses before registering anything, and says how to retry", async () => {
    const { outcome, registrations } = await runProgram();
    expect(outcome).toBe(
      `Release CHG-101@2.0.0 was switched back at 2026-11-22T10:00:00.000Z (record ${recordId}, outcome rolled-back), ` +
        "so shipgate does not promote the same manifest again. Fix the build and release a changed manifest, or, to try " +
        `this one again on purpose: \`npm run pulumi -- config set shipgate:retry ${recordId} --stack dev-unit\`.`,
    );
    expect(registrations).toEqual([]);
  });

  it("is refused for a retry that names another record, and released for a retry that names this one", async () => {
    expect((await runProgram({ "shipgate:retry": "CHG-101-2.0.0-20201010T000000000Z" })).outcome).toContain(
      "was switched back",
    );
    const retried = await runProgram({ "shipgate:retry": recordId });
    expect(retried.outcome).toBeUndefined();
    expect(retried.registrations.map((r) => r.name)).toContain("sample-app-switch-route");
  });
});

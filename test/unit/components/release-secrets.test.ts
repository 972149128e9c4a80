// A release whose manifest names a stack secret, on the real LocalPlatform under Pulumi mocks: the
// secret's value reaches the colour's Slot resource only as a Pulumi secret (the mocks see the secret
// wrapper the engine would encrypt), the spec carries its fingerprint, and no other input of any
// resource holds the value. A kept colour whose secret was rotated gets no value for it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Release as ReleaseComponent, StackSecrets } from "../../../components/release";
import type { LocalPlatform as Platform } from "../../../platforms/local";
import type { Platform as PlatformInterface } from "../../../components/platform";
import { SecretValues, secretFingerprint } from "../../../contract";
import { type RecordingMocks, installMocks } from "../mocks";
import {
  type LoadedManifest,
  registered,
  sampleBuild,
  sampleManifest,
  serviceSettings,
  withConfigChanges,
} from "./fixtures";

/** How the mocks (and the engine) see a secret input: the value inside the secret signature. */
const secretSig = "4dabf18193072939515e22adb298388d";
const wrapped = (value: unknown) => ({ [secretSig]: "1b47061264138c4ac30d75fd1eb44270", value });

const plaintext = "unit-plain-secret-value";
const rotatedValue = "unit-rotated-secret-value";
const variable = "API_TOKEN";

let mocks: RecordingMocks;
let Release: typeof ReleaseComponent;
let LocalPlatform: typeof Platform;
let projectDir: string;
const workDir = ".shipgate/unit";
const service = `${workDir}/services/sample-app`;
const fingerprint = (value: string) =>
  secretFingerprint({ stack: "unit", service: "sample-app", variable }, value);

beforeAll(async () => {
  mocks = await installMocks({}, { stack: "unit" });
  ({ Release } = await import("../../../components/release"));
  ({ LocalPlatform } = await import("../../../platforms/local"));
  projectDir = mkdtempSync(join(tmpdir(), "shipgate-release-secrets-"));
});

afterAll(() => rmSync(projectDir, { recursive: true, force: true }));

beforeEach(() => {
  mocks.registrations.length = 0;
  rmSync(join(projectDir, workDir), { recursive: true, force: true });
});

/** `base` with one plain config change and one that names the stack secret `apiToken`. */
function withSecret(base: LoadedManifest): LoadedManifest {
  return {
    ...base,
    manifest: withConfigChanges(
      base.manifest,
      [{ key: variable, secret: "apiToken" }],
      [{ key: "GREETING", value: "hello" }],
    ),
  };
}

/** Blue runs v1 with `value` for the secret, and serves users: what observe() will read. */
function blueRunsV1With(value: string) {
  const blue = {
    ...sampleBuild(withSecret(sampleManifest("v1"))),
    env: { GREETING: "hello" },
    secretEnv: { [variable]: fingerprint(value) },
  };
  mkdirSync(join(projectDir, service, "router"), { recursive: true });
  writeFileSync(join(projectDir, service, "router", "state.json"), JSON.stringify({ active: "blue" }));
  mkdirSync(join(projectDir, service, "blue"), { recursive: true });
  writeFileSync(join(projectDir, service, "blue", "spec.json"), JSON.stringify(blue));
  return blue;
}

const services = serviceSettings(31100);

async function release(
  loaded: LoadedManifest,
  secrets = new SecretValues({ apiToken: plaintext }),
  platform: PlatformInterface = new LocalPlatform({ projectDir, workDir, services }),
): Promise<void> {
  new Release("release", {
    platform,
    manifest: loaded.manifest,
    digest: loaded.digest,
    manifestPath: loaded.path,
    stack: "unit",
    services,
    secrets,
  });
  await mocks.settle();
}

/** Every registration's inputs as JSON, with the secret-wrapped `secrets` inputs (Slot, Gate) left out. */
function inputsOutsideSecrets(): string {
  return JSON.stringify(
    mocks.registrations.map((r) => {
      const { secrets, ...rest } = r.inputs;
      if (secrets !== undefined) expect((secrets as Record<string, unknown>)[secretSig]).toBeDefined();
      return rest;
    }),
  );
}

describe("a release that gives a service a stack secret, on the local platform", () => {
  it("passes the value to the colour's Slot as a secret input only; the spec holds its fingerprint", async () => {
    const v1 = withSecret(sampleManifest("v1"));
    await release(v1);
    const slot = registered(mocks.registrations, "sample-app-blue").inputs;
    expect(slot["secrets"]).toEqual(wrapped({ [variable]: plaintext }));
    expect(slot["spec"]).toEqual({
      ...sampleBuild(v1),
      env: { GREETING: "hello" },
      secretEnv: { [variable]: fingerprint(plaintext) },
    });
    expect(fingerprint(plaintext)).toMatch(/^scrypt:[A-Za-z0-9_-]{43}$/);
    // The gate holds it as a secret too, only to redact it from a failed build kept for inspection.
    expect(registered(mocks.registrations, "sample-app-gate-checks").inputs["secrets"]).toEqual(
      wrapped({ [variable]: plaintext }),
    );
    // Nowhere else: not the anchor's evidence (the manifest names the secret, never its value), the
    // record, the notifications, the gate's other inputs or the verification.
    expect(inputsOutsideSecrets()).not.toContain(plaintext);
    expect(inputsOutsideSecrets()).toContain('"secret":"apiToken"');
  });

  it("marks the values secret on the Slot even when a platform is handed them as a plain output", async () => {
    const platform = new LocalPlatform({ projectDir, workDir, services });
    const spec = { ...sampleBuild(sampleManifest("v1")), secretEnv: { [variable]: fingerprint(plaintext) } };
    const parent = new pulumi.ComponentResource("test:index:Parent", "parent");
    platform.slot(
      "plain-handed",
      {
        service: "sample-app",
        color: "green",
        spec,
        secrets: pulumi.output<Record<string, string>>({ [variable]: plaintext }),
      },
      { parent },
    );
    await mocks.settle();
    expect(registered(mocks.registrations, "plain-handed").inputs["secrets"]).toEqual(
      wrapped({ [variable]: plaintext }),
    );
  });

  it("hands the platform the values as a secret output", async () => {
    const seen: boolean[] = [];
    const local = new LocalPlatform({ projectDir, workDir, services });
    const spy = Object.assign(Object.create(local) as PlatformInterface, {
      slot(...args: Parameters<PlatformInterface["slot"]>) {
        const secrets = args[1].secrets;
        if (secrets) void pulumi.isSecret(secrets).then((secret) => seen.push(secret));
        else seen.push(false);
        return local.slot(...args);
      },
    });
    await release(withSecret(sampleManifest("v1")), undefined, spy);
    expect(seen).toEqual([true]);
  });

  it("re-declares a kept colour with its value while the secret is unchanged, and without it once rotated", async () => {
    const v2 = withSecret(sampleManifest("v2"));
    const blue = blueRunsV1With(plaintext);

    await release(v2);
    expect(registered(mocks.registrations, "sample-app-blue").inputs["secrets"]).toEqual(
      wrapped({ [variable]: plaintext }),
    );
    expect(registered(mocks.registrations, "sample-app-blue").inputs["spec"]).toEqual(blue);

    mocks.registrations.length = 0;
    await release(v2, new SecretValues({ apiToken: rotatedValue }));
    expect(registered(mocks.registrations, "sample-app-blue").inputs["secrets"]).toEqual(wrapped({}));
    expect(registered(mocks.registrations, "sample-app-green").inputs["secrets"]).toEqual(
      wrapped({ [variable]: rotatedValue }),
    );
    expect(inputsOutsideSecrets()).not.toContain(plaintext);
    expect(inputsOutsideSecrets()).not.toContain(rotatedValue);
  });

  it("sees a rotated secret as another build: the live colour with the old value is not reused", async () => {
    const v1 = withSecret(sampleManifest("v1"));
    const blue = blueRunsV1With(plaintext);
    await release(v1, new SecretValues({ apiToken: rotatedValue }));
    expect(registered(mocks.registrations, "sample-app-green").inputs["spec"]).toEqual({
      ...blue,
      secretEnv: { [variable]: fingerprint(rotatedValue) },
    });
  });

  it("refuses a manifest that names a secret the stack does not have, naming the config change", async () => {
    const stackSecrets: StackSecrets = { stack: "unit", values: new SecretValues({ other: "x" }) };
    const { desiredBuild } = await import("../../../components/release");
    const component = withSecret(sampleManifest("v1")).manifest.components[0];
    if (!component) throw new Error("no component");
    expect(() => desiredBuild(component, services["sample-app"] as never, stackSecrets)).toThrow(
      'components.sample-app.configChanges[1].secret: names the stack secret "apiToken", which stack "unit" does not have. ' +
        "Nothing was changed; set it with `npm run pulumi -- config set --secret shipgate:secrets.apiToken <value> --stack unit`",
    );
  });
});

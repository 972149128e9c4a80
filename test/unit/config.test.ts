import { describe, expect, it } from "vitest";
import { inspect } from "node:util";
import { parseStackConfig, rawStackConfig, releaseIntent, requireEncryptedSecrets } from "../../config";
import { kubernetesConfigSchema } from "../../platforms/kubernetes/config";

describe("parseStackConfig", () => {
  it("defaults to the local platform and a working folder per stack", () => {
    const { secrets, ...rest } = parseStackConfig({}, "dev");
    expect(secrets.names()).toEqual([]);
    expect(rest).toEqual({
      platform: "local",
      workDir: ".shipgate/dev",
      services: {},
      notifications: {},
    });
  });

  it("keeps valid values", () => {
    const { secrets: _none, ...rest } = parseStackConfig({ platform: "aws", workDir: "var/work" }, "prod");
    expect(rest).toEqual({
      platform: "aws",
      workDir: "var/work",
      services: {},
      notifications: {},
    });
  });

  it("reports every invalid key at once, naming it and what was expected", () => {
    expect(() => parseStackConfig({ platform: "mainframe", workDir: "../elsewhere" }, "dev")).toThrow(
      [
        'Invalid stack config for stack "dev":',
        '  - shipgate:platform: Invalid option: expected one of "local"|"kubernetes"|"aws"',
        "  - shipgate:workDir: expected a path relative to the project folder, without `..`",
        "Fix it with `npm run pulumi -- config set <key> <value> --stack dev` or in stacks/Pulumi.dev.yaml.",
      ].join("\n"),
    );
  });

  it("requires the kubernetes settings when the platform is kubernetes", () => {
    const registry = { kubernetes: kubernetesConfigSchema };
    expect(() => parseStackConfig({ platform: "kubernetes" }, "staging", registry)).toThrow(
      "  - shipgate:kubernetes: expected the kubernetes platform's settings when shipgate:platform is kubernetes " +
        "(docs/kubernetes.md lists them)",
    );
    expect(() =>
      parseStackConfig({ platform: "kubernetes", kubernetes: { namespace: 7 } }, "staging", registry),
    ).toThrow("  - shipgate:kubernetes.namespace:");
    // A platform's settings key is unknown unless its adapter registered a schema for it.
    expect(() => parseStackConfig({ kubernetes: {} }, "dev")).toThrow(
      "  - shipgate:kubernetes: unknown key; shipgate reads only shipgate:platform,",
    );
  });

  it("applies a service's defaults in one place and names a bad nested key", () => {
    const config = parseStackConfig({ services: { web: { port: 9000 } } }, "dev");
    expect(config.services["web"]).toEqual({
      port: 9000,
      command: ["node", "server.mjs"],
      healthPath: "/health",
      stateful: true,
      maxLatencyMs: 1000,
      gate: {
        consecutiveSuccesses: 3,
        failureThreshold: 3,
        intervalMs: 500,
        timeoutMs: 30_000,
        requestTimeoutMs: 5_000,
      },
      verification: {
        bakeTimeMs: 10_000,
        intervalMs: 250,
        maxErrorRate: 0.01,
        maxP95LatencyMs: 1000,
        requestTimeoutMs: 5_000,
      },
      smoke: [],
      warmWindowMinutes: 60,
      keepBackups: 5,
      keepFailedBuilds: 0,
    });
    expect(() => parseStackConfig({ services: { web: { port: 80 } } }, "dev")).toThrow(
      "  - shipgate:services.web.port: expected a port from 1024 to 65532",
    );
  });

  it("keeps no failed build unless a service asks for a bounded number of them", () => {
    const kept = (value: unknown) =>
      parseStackConfig({ services: { web: { port: 9000, keepFailedBuilds: value } } }, "dev").services["web"]
        ?.keepFailedBuilds;
    expect(
      parseStackConfig({ services: { web: { port: 9000 } } }, "dev").services["web"]?.keepFailedBuilds,
    ).toBe(0);
    expect(kept(0)).toBe(0);
    expect(kept(3)).toBe(3);
    expect(kept(20)).toBe(20);
    const expected = "expected 0 (keep none) to 20 failed builds to keep";
    expect(() => kept(21)).toThrow(`  - shipgate:services.web.keepFailedBuilds: ${expected}`);
    expect(() => kept(-1)).toThrow(`  - shipgate:services.web.keepFailedBuilds: ${expected}`);
    expect(() => kept(1.5)).toThrow(
      "  - shipgate:services.web.keepFailedBuilds: expected a whole number of failed builds to keep",
    );
    expect(() => kept(true)).toThrow(
      "  - shipgate:services.web.keepFailedBuilds: expected a count of failed builds to keep (0 keeps none)",
    );
    expect(() => kept("3")).toThrow(
      "  - shipgate:services.web.keepFailedBuilds: expected a count of failed builds to keep (0 keeps none)",
    );
  });

  it("refuses an unknown top-level key, naming it, the closest known key and how to remove it", () => {
    expect(() => parseStackConfig({ manifst: "releases/a.yaml", colour: "blue" }, "prod")).toThrow(
      / {2}- shipgate:manifst: unknown key \(did you mean shipgate:manifest\?\); shipgate reads only shipgate:platform, .*Remove it with `npm run pulumi -- config rm shipgate:manifst`\n {2}- shipgate:colour: unknown key; /,
    );
  });

  it("refuses retire together with a manifest: the stack must say which one it means", () => {
    expect(() => parseStackConfig({ manifest: "releases/a.yaml", retire: true }, "prod")).toThrow(
      "  - shipgate:retire: expected either a manifest to release or retire: true to take the services down, not both",
    );
  });
});

describe("rawStackConfig", () => {
  it("reads every key of the shipgate: namespace and only that namespace, structured ones as JSON", () => {
    expect(
      rawStackConfig({
        "shipgate:manifest": "releases/a.yaml",
        "shipgate:retire": "false",
        "shipgate:services": '{"web":{"port":9000}}',
        "shipgate:manifst": "typo",
        "aws:region": "eu-west-1",
      }),
    ).toEqual({
      manifest: "releases/a.yaml",
      retire: false,
      services: { web: { port: 9000 } },
      manifst: "typo",
    });
  });

  it("leaves a structured value that is not JSON as text, for the schema to name the expected shape", () => {
    expect(rawStackConfig({ "shipgate:retire": "yes" })).toEqual({ retire: "yes" });
    expect(() => parseStackConfig({ retire: "yes" }, "prod")).toThrow(
      "  - shipgate:retire: Invalid input: expected boolean, received string",
    );
  });
});

describe("releaseIntent", () => {
  it("releases the manifest the stack names", () => {
    const config = parseStackConfig({ manifest: "releases/a.yaml" }, "prod");
    expect(releaseIntent(config, "prod")).toEqual({ kind: "release", manifest: "releases/a.yaml" });
  });

  it("retires only when asked to, and otherwise refuses a stack without a manifest, saying both ways out", () => {
    expect(releaseIntent(parseStackConfig({ retire: true }, "prod"), "prod")).toEqual({ kind: "retire" });
    for (const raw of [{}, { retire: false }]) {
      expect(() => releaseIntent(parseStackConfig(raw, "prod"), "prod")).toThrow(
        [
          'Stack "prod" names no release manifest (shipgate:manifest is not set), so shipgate refuses to run: ' +
            "an update without a release would stop and remove the services that run now.",
          "  - to release: `npm run pulumi -- config set shipgate:manifest releases/<service>/<version>.yaml --stack prod`",
          "  - to take the services down on purpose: `npm run pulumi -- config set shipgate:retire true --stack prod` " +
            "and run `up` (data, backups and records stay), or `npm run pulumi -- destroy --stack prod`.",
        ].join("\n"),
      );
    }
  });

  it("refuses an empty manifest path, naming shipgate:manifest", () => {
    expect(() => parseStackConfig({ manifest: "" }, "prod")).toThrow(
      "  - shipgate:manifest: expected a non-empty path",
    );
  });
});

describe("stack secrets (shipgate:secrets)", () => {
  const plaintext = "pa55-w0rd-in-plain";

  it("gathers flat keys (config set --secret shipgate:secrets.<name>) and the --path object in one map", () => {
    const raw = rawStackConfig({
      "shipgate:secrets.apiToken": "t-1",
      "shipgate:secrets": JSON.stringify({ dbPassword: "p-2" }),
      "shipgate:secrets.other": "o-3",
    });
    const { secrets } = parseStackConfig(raw, "dev");
    expect(secrets.names()).toEqual(["apiToken", "dbPassword", "other"]);
    expect([secrets.value("apiToken"), secrets.value("dbPassword"), secrets.value("other")]).toEqual([
      "t-1",
      "p-2",
      "o-3",
    ]);
  });

  it("never shows a value in JSON, inspect or string conversion", () => {
    const config = parseStackConfig(rawStackConfig({ "shipgate:secrets.apiToken": plaintext }), "dev");
    const shown = [JSON.stringify(config), inspect(config, { depth: 10 }), String(config.secrets)].join("\n");
    expect(shown).not.toContain(plaintext);
    expect(JSON.stringify(config.secrets)).toBe('{"apiToken":"[secret]"}');
  });

  it("refuses a bad secret name or an empty value, naming the key and without echoing the value", () => {
    let message = "";
    try {
      parseStackConfig(
        rawStackConfig({ "shipgate:secrets.9lives": plaintext, "shipgate:secrets.empty": "" }),
        "dev",
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(
      "  - shipgate:secrets.9lives: expected a secret name: a letter, then letters, digits, _ or -, at most 64 characters",
    );
    expect(message).toContain("  - shipgate:secrets.empty: expected a non-empty secret value");
    expect(message).not.toContain(plaintext);
  });

  it("refuses a secret stored in plaintext (set without --secret), naming the key and the command", () => {
    const all = {
      "shipgate:secrets.apiToken": "x",
      "shipgate:secrets.ok": "y",
      "shipgate:platform": "local",
    };
    expect(() => requireEncryptedSecrets(all, (key) => key === "shipgate:secrets.ok", "dev")).toThrow(
      "  - shipgate:secrets.apiToken: stored in plaintext in the stack's config; a secret must be set with --secret: " +
        "`npm run pulumi -- config set --secret shipgate:secrets.apiToken <value> --stack dev`",
    );
    expect(() => requireEncryptedSecrets({ "shipgate:secrets": "{}" }, () => false, "dev")).toThrow(
      "shipgate:secrets: stored in plaintext",
    );
    expect(() =>
      requireEncryptedSecrets(all, (key) => key.startsWith("shipgate:secrets"), "dev"),
    ).not.toThrow();
  });
});

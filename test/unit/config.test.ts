import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../config";
import { kubernetesConfigSchema } from "../../platforms/kubernetes/config";

describe("parseStackConfig", () => {
  it("defaults to the local platform and a working folder per stack", () => {
    expect(parseStackConfig({}, "dev")).toEqual({
      platform: "local",
      workDir: ".shipgate/dev",
      services: {},
      notifications: {},
    });
  });

  it("keeps valid values", () => {
    expect(parseStackConfig({ platform: "aws", workDir: "var/work" }, "prod")).toEqual({
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
      '  - shipgate: Unrecognized key: "kubernetes"',
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
    });
    expect(() => parseStackConfig({ services: { web: { port: 80 } } }, "dev")).toThrow(
      "  - shipgate:services.web.port: expected a port from 1024 to 65532",
    );
  });
});

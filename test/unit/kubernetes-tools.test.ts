// The kubernetes tests' programs: which versions the set-up builds, and what their cache key covers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeNetwork } from "../../scripts/lib/cluster-node.mjs";
import { clusterPorts } from "../../scripts/lib/cluster.mjs";
import { root } from "../../scripts/lib/engine.mjs";
import {
  providerPluginDir,
  providerVersion,
  toolKey,
  toolSpecs,
} from "../../scripts/lib/kubernetes-tools.mjs";

const byName = (name: string) => {
  const spec = toolSpecs().find((s) => s.name === name);
  if (!spec) throw new Error(`no tool ${name}`);
  return spec;
};

describe("the kubernetes tools the set-up builds", () => {
  it("builds the provider plugin at the version @pulumi/kubernetes is pinned to", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies["@pulumi/kubernetes"]).toBe(providerVersion);
    expect(byName("provider").version).toBe(`v${providerVersion}`);
    expect(byName("provider").binaries[0]?.ldflags).toBe(
      `-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${providerVersion}`,
    );
    expect(providerPluginDir).toBe(
      join(root, ".tools", "pulumi-home", "plugins", `resource-kubernetes-v${providerVersion}`),
    );
  });

  it("reads each version from its module's go.mod, and stamps Kubernetes' own into its binaries", () => {
    expect(toolSpecs().map((s) => [s.name, s.version])).toEqual([
      ["etcd", "v3.6.16"],
      ["kubernetes", "v1.34.4"],
      ["node", "v1.34.4"],
      ["images", "v1"],
      ["kwok", "v0.8.0"],
      ["provider", "v4.25.0"],
    ]);
    const kubernetes = byName("kubernetes");
    expect(kubernetes.binaries.map((b) => b.file)).toEqual([
      "kube-apiserver",
      "kube-controller-manager",
      "kube-scheduler",
      "kubectl",
    ]);
    expect(kubernetes.binaries[0]?.ldflags).toContain("-X k8s.io/component-base/version.gitVersion=v1.34.4");
    expect(kubernetes.binaries[0]?.ldflags).toContain("-X k8s.io/component-base/version.gitMinor=34");
  });

  it("builds the real node's kubelet and kube-proxy as the same Kubernetes, and a static pause", () => {
    const node = byName("node");
    expect(node.module).toBe("node");
    expect(node.binaries.map((b) => [b.file, b.pkg])).toEqual([
      ["kubelet", "k8s.io/kubernetes/cmd/kubelet"],
      ["kube-proxy", "k8s.io/kubernetes/cmd/kube-proxy"],
    ]);
    for (const b of node.binaries) expect(b.ldflags).toBe(byName("kubernetes").binaries[0]?.ldflags);
    const images = byName("images");
    expect(images.sources).toEqual(["oci/main.go", "pause/main.go"]);
    expect(images.binaries.map((b) => [b.file, b.env])).toEqual([
      ["oci", undefined],
      ["pause", { CGO_ENABLED: "0" }],
    ]);
  });

  it("gives the real node names and addresses of its own for each port offset, none of them routable", () => {
    expect(nodeNetwork(0)).toEqual({
      netns: "shipgate-0",
      hostLink: "sg0h",
      nodeLink: "sg0n",
      hostAddress: "169.254.0.1",
      nodeLinkAddress: "169.254.0.2",
      nodeIP: "10.245.0.2",
    });
    expect(nodeNetwork(400)).toMatchObject({
      netns: "shipgate-400",
      hostAddress: "169.254.4.1",
      nodeIP: "10.245.4.2",
    });
    // Link names stay within the kernel's 15 characters at the largest offset.
    expect(nodeNetwork(20_000).hostLink.length).toBeLessThanOrEqual(15);
  });

  it("keys each build by its version and what builds it, so a change of flags builds anew", () => {
    const etcd = byName("etcd");
    expect(toolKey(etcd)).toMatch(/^etcd-v3\.6\.16-[0-9a-f]{12}$/);
    expect(toolKey(etcd)).toBe(toolKey(byName("etcd")));
    const changed = { ...etcd, binaries: etcd.binaries.map((b) => ({ ...b, ldflags: "-X main.other=1" })) };
    expect(toolKey(changed)).not.toBe(toolKey(etcd));
  });

  it("moves every cluster port by SHIPGATE_TEST_PORT_OFFSET and refuses an offset that is not a number", () => {
    expect(clusterPorts({})).toEqual({
      etcdClient: 31379,
      etcdPeer: 31380,
      apiserver: 31443,
      controllerManager: 31257,
      scheduler: 31259,
      kwok: 31300,
    });
    expect(clusterPorts({ SHIPGATE_TEST_PORT_OFFSET: "1000" }).apiserver).toBe(32443);
    expect(() => clusterPorts({ SHIPGATE_TEST_PORT_OFFSET: "ten" })).toThrow(
      'SHIPGATE_TEST_PORT_OFFSET must be a whole number from 0 to 20000, got "ten"',
    );
  });
});

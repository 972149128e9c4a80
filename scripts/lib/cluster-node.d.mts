// Types for cluster-node.mjs, so the end-to-end tests can reach into the real node's namespace.
export interface NodeNetwork {
  netns: string;
  hostLink: string;
  nodeLink: string;
  hostAddress: string;
  nodeLinkAddress: string;
  nodeIP: string;
}
export const realNodeName: string;
export const realNodeTaint: { key: string; value: string; effect: string };
export const podSubnet: string;
export function nodeNetwork(offset: number): NodeNetwork;

// Types for kubernetes-tools.mjs.
export interface ToolBinary {
  file: string;
  pkg: string;
  ldflags: string;
  env?: Record<string, string>;
}
export interface ToolSpec {
  name: "etcd" | "kubernetes" | "node" | "images" | "kwok" | "provider";
  version: string;
  module: string;
  sources?: string[];
  binaries: ToolBinary[];
}
export const clusterSourceDir: string;
export const kubernetesToolsDir: string;
export const providerVersion: string;
export const providerPluginDir: string;
export const firstBuildNote: string;
export function toolSpecs(): ToolSpec[];
export function toolKey(spec: ToolSpec): string;
export function toolDir(name: string): string;
export function binary(name: string, file: string): string;
export function missingTools(): ToolSpec[];
export function ensureKubernetesTools(log: (message: string) => void): Promise<void>;

// Types for cluster.mjs, so the end-to-end tests can start, read and stop the local cluster.
export interface ClusterPorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}
export interface ComponentStatus {
  name: string;
  pid: number | null;
  healthy: boolean;
  url: string;
}
export interface ApiAnswer {
  status: number;
  // The API server's JSON answer; callers narrow it to the object they asked for.
  body: unknown;
  text: string;
}
export const clusterDir: string;
export const kubeconfigPath: string;
export const contextName: string;
export const nodeName: string;
export function clusterPorts(env?: NodeJS.ProcessEnv): ClusterPorts;
export function apiRequest(
  method: string,
  path: string,
  body?: unknown,
  options?: { token?: string },
): Promise<ApiAnswer>;
export function status(): Promise<ComponentStatus[]>;
export function up(options?: { log?: (message: string) => void }): Promise<string[]>;
export function down(options?: { log?: (message: string) => void; purge?: boolean }): Promise<string[]>;
export function portOffset(env?: NodeJS.ProcessEnv): number;

export interface BundleRecord {
  bundle: string;
  sources: Record<string, string>;
  settings: Record<string, string>;
}
export type BundleState = { current: true } | { current: false; reason: string };
export declare const bundleSettings: readonly string[];
export declare function bundleFile(root: string): string;
export declare function bundleRecordFile(root: string): string;
export declare function bundleRecord(
  root: string,
  bundle: Uint8Array,
  sources: Record<string, string>,
): BundleRecord;
export declare function bundleState(root: string): BundleState;
export declare function currentBundle(
  root: string,
): { current: true; content: Buffer; hash: string } | { current: false; reason: string };
export declare function sha256(content: string | Uint8Array): string;

export interface CodeCacheKey {
  source: string;
  node: string;
  v8: string;
  tag: number;
  arch: string;
}
export type CodeCacheRead = { data: Buffer; reason?: undefined } | { data?: undefined; reason: string };
export declare function codeCacheFile(file: string): string;
export declare function cacheKey(source: Uint8Array, hash?: string): CodeCacheKey;
export declare function readCodeCache(cacheFile: string, key: CodeCacheKey): CodeCacheRead;
export declare function writeCodeCache(cacheFile: string, key: CodeCacheKey, data: Uint8Array): boolean;
export declare function runWithCodeCache(
  file: string,
  parent?: NodeModule,
  read?: { content: Uint8Array; hash: string },
): { exports: unknown; cache: string; saveCache: () => boolean };

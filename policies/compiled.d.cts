export declare const packSources: readonly string[];
export declare function compiledEntry(root: string): string;
export declare function compiledIsCurrent(root: string): boolean;

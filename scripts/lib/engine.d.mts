// Types for engine.mjs, so TypeScript tests and tools can use it.
export interface EngineChoice {
  source: "built" | "path";
  version: string;
  binDir: string;
  key?: string;
  go?: string;
}
export const root: string;
export const toolsDir: string;
export const engineSourceDir: string;
export const stateDir: string;
export const pulumiHome: string;
export const engineChoiceFile: string;
export const developmentPassphrase: string;
export function sdkVersion(): string;
export function goModuleVersion(): string;
export function engineBuildKey(): string;
export function versionParts(version: string): [number, number, number] | undefined;
export function versionFits(found: string, required: string): boolean;
export function chosenEngine(): EngineChoice | undefined;
export function requireEngine(): EngineChoice;
export function engineEnv(engine: EngineChoice, base?: NodeJS.ProcessEnv): Record<string, string>;

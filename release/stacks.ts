/**
 * Development stacks: where unapproved manifests may be previewed and released (a developer's machine,
 * throwaway test stacks). The policy pack's release gates only advise there, and the program skips its
 * own approval check there. Every other stack gets both, so forgetting a setting never opens a gate.
 */
export const DEVELOPMENT_STACKS: readonly string[] = ["local"];

/** Stacks named with this prefix are development stacks too (throwaway stacks of tests and developers). */
export const DEVELOPMENT_STACK_PREFIX = "dev-";

export function isDevelopmentStack(stack: string): boolean {
  return DEVELOPMENT_STACKS.includes(stack) || stack.startsWith(DEVELOPMENT_STACK_PREFIX);
}

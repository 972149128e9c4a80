// Reading YAML for the release model: one strict document, its problems as field-path issues.
import { parseDocument } from "yaml";
import type { Checked } from "./issues";

/**
 * The data of a single YAML 1.2 document (core schema: no timestamps or other implicit types, no merge
 * keys), rejecting duplicate keys, which would leave what was signed ambiguous.
 */
export function parseYamlData(text: string): Checked<unknown> {
  const document = parseDocument(text, {
    version: "1.2",
    schema: "core",
    uniqueKeys: true,
    prettyErrors: true,
  });
  if (document.errors.length > 0) {
    return {
      ok: false,
      issues: document.errors.map((error) => ({
        path: "",
        message: `YAML: ${error.message.split("\n")[0]}`,
      })),
    };
  }
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (error) {
    // An alias to no anchor, or aliases that expand too far (a "billion laughs" document).
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, issues: [{ path: "", message: `YAML: ${message}` }] };
  }
}

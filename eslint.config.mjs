import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "dist/",
      ".tools/",
      ".pulumi-state/",
      ".shipgate/",
      "coverage/",
      ".bench/",
      "**/*.js",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ["**/*.ts"],
    ignores: [],
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["scripts/**/*.mjs", "*.mjs"],
    languageOptions: { globals: globals.node, sourceType: "module" },
  },
  {
    files: ["scripts/**/*.cjs", "policies/*.cjs"],
    languageOptions: { globals: globals.node, sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  // The layers (docs/architecture.md): each folder imports only the layers below it. An import is
  // resolved against the file's own depth, so `../config` inside platforms/kubernetes/steps/ is that
  // platform's config, while the same text one folder up would be the program's.
  ...layer("release", "the release model imports nothing of the program", [
    "contract",
    "components",
    "platforms",
    "config",
    "index",
    "policies",
    "cli",
  ]),
  ...layer("contract", "the contract imports only the release model", [
    "components",
    "platforms",
    "config",
    "index",
    "policies",
    "cli",
  ]),
  ...layer(
    "components",
    "components import the contract and the release model, never config.ts or a platform",
    ["platforms", "config", "index", "policies", "cli"],
  ),
  ...["local", "kubernetes", "aws"].flatMap((name) =>
    layer(
      `platforms/${name}`,
      "a platform imports components/platform and the contract, never another platform or the program",
      [
        "config",
        "index",
        "policies",
        "cli",
        ...["local", "kubernetes", "aws"]
          .filter((other) => other !== name)
          .map((other) => `platforms/${other}`),
      ],
    ),
  ),
  ...layer(
    "",
    "config.ts reads the stack's settings and knows no platform",
    ["platforms", "index", "policies", "cli"],
    ["config.ts"],
  ),
  ...layer("policies", "the policy pack imports the release model and the contract, nothing of the program", [
    "components",
    "platforms",
    "config",
    "index",
    "cli",
  ]),
  ...layer("cli", "the CLI imports the release model and the contract", [
    "components",
    "platforms",
    "config",
    "index",
    "policies",
  ]),
  {
    // index.ts composes: a platform's public entry (its folder), never a module inside it.
    files: ["index.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^\\./platforms/[^/]+/.+",
              message: "index.ts imports a platform's entry, not its internals",
            },
          ],
        },
      ],
    },
  },
  {
    // The policy pack gets its settings from its own config, never from the stack's.
    files: ["policies/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "NewExpression[callee.property.name='Config']",
          message: "the policy pack reads no pulumi.Config",
        },
      ],
    },
  },
  prettier,
);

/**
 * Rules for the files of one layer, the folder `folder` (top-level files when it is ""): no import
 * that reaches one of `forbidden`, top-level paths such as `config` or `platforms/kubernetes`.
 * One rule per depth below the folder, since a relative path means another file at each depth.
 */
function layer(folder, why, forbidden, files) {
  const base = folder === "" ? 0 : folder.split("/").length;
  const top = folder.split("/")[0];
  const escape = (names) => names.map((name) => name.replace(/[.]/g, "\\.")).join("|");
  const climbing = (levels) => (levels === 0 ? "\\./" : `(\\.\\./){${levels}}`);
  // A forbidden path inside the layer's own top folder (a sibling platform) is also reached by
  // climbing only to that folder: from platforms/local/x.ts, `../kubernetes` is platforms/kubernetes.
  const siblings = forbidden
    .filter((name) => top && name.startsWith(`${top}/`))
    .map((name) => name.slice(top.length + 1));
  const depths = files ? [0] : [0, 1, 2, 3, 4];
  return depths.map((extra) => {
    const depth = base + extra;
    const patterns = [{ regex: `^${climbing(depth)}(${escape(forbidden)})(\\.ts)?(/|$)`, message: why }];
    if (siblings.length > 0) {
      patterns.push({ regex: `^${climbing(depth - 1)}(${escape(siblings)})(/|$)`, message: why });
    }
    return {
      files: files ?? [`${folder}/${"*/".repeat(extra)}*.ts`],
      rules: { "no-restricted-imports": ["error", { patterns }] },
    };
  });
}

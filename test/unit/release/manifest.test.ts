import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  type Approval,
  DEPLOYMENT_TYPES,
  addApprovalToManifestText,
  addTrustedKeyToText,
  checkManifest,
  createManifestTemplate,
  parseManifest,
  parseTrustedKeys,
  renderManifestYaml,
} from "../../../release";
import {
  deleteAt,
  exampleData,
  exampleText,
  getAt,
  makeApprover,
  memberPaths,
  pathText,
  setAt,
  present,
} from "./fixtures";

const APPROVAL: Approval = {
  approverId: "erin",
  role: "technical",
  signature: `${"A".repeat(86)}==`,
  signedAt: "2026-12-04T07:00:00.000Z",
  expiresAt: "2026-12-05T07:00:00.000Z",
};

describe("parseManifest", () => {
  it("reports YAML syntax errors with their position", () => {
    const check = parseManifest("apiVersion: shipgate.dev/v1\nwindow: [unclosed\n");
    expect(check.ok).toBe(false);
    expect(check.issues).toHaveLength(1);
    expect(present(check.issues[0]).path).toBe("");
    expect(present(check.issues[0]).message).toMatch(/^YAML: .* at line \d+, column \d+/);
  });

  it("refuses duplicate keys, which would make the signed content ambiguous", () => {
    const check = parseManifest(`${exampleText("hot-fix")}\nversion: "9.9.9"\n`);
    expect(check.ok).toBe(false);
    expect(check.issues.map((issue) => issue.message)).toEqual([
      expect.stringMatching(/^YAML: Map keys must be unique at line \d+/) as unknown,
    ]);
  });

  it.each([
    ["an alias to no anchor", "a: *missing\n", "YAML: Unresolved alias"],
    [
      "aliases that expand too far",
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [${"*a, ".repeat(10)}*a]\nc: [${"*b, ".repeat(10)}*b]\n`,
      "YAML: Excessive alias count",
    ],
  ])("answers %s with an issue", (_what, text, message) => {
    const check = parseManifest(text);
    expect(check.ok).toBe(false);
    expect(check.issues).toHaveLength(1);
    expect(present(check.issues[0]).message.startsWith(message)).toBe(true);
  });

  it("refuses more than one document", () => {
    const check = parseManifest(`${exampleText("hot-fix")}\n---\n${exampleText("hot-fix")}`);
    expect(check.ok).toBe(false);
    expect(present(check.issues[0]).message).toMatch(/^YAML: Source contains multiple documents/);
  });

  it("reads YAML 1.2: a bare timestamp stays a string, yes stays a string", () => {
    const text = exampleText("hot-fix").replace("summary: Customers", "summary: yes Customers");
    const check = parseManifest(text);
    expect(check.ok && check.manifest.window.start).toBe("2026-12-04T09:30:00Z");
    const boolean = parseManifest(text.replace("teamBriefed: true", "teamBriefed: yes"));
    expect(boolean.issues).toEqual([
      { path: "communication.teamBriefed", message: "Invalid input: expected boolean, received string" },
    ]);
  });

  it("says a version written as a YAML number must be quoted", () => {
    const check = parseManifest(exampleText("hot-fix").replace('version: "2.4.1"', "version: 2.4"));
    expect(check.issues).toEqual([
      { path: "version", message: "Invalid input: expected string, received number" },
    ]);
  });
});

describe("generated invalid manifests (property)", () => {
  const wrongValues = fc.oneof(
    fc.constant(null),
    fc.integer({ min: -5, max: 5 }),
    fc.boolean(),
    fc.constant([]),
    fc.constant({}),
    fc.string({ maxLength: 4 }),
  );

  it("every one is rejected, with an issue at the field that was broken", () => {
    const base = exampleData("standard-full");
    const paths = memberPaths(base).filter((path) => path[0] !== "approvals");
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ kind: fc.constant("delete" as const), at: fc.constantFrom(...paths) }),
          fc.record({
            kind: fc.constant("retype" as const),
            at: fc.constantFrom(...paths),
            value: wrongValues,
          }),
          fc.record({
            kind: fc.constant("unknown" as const),
            at: fc.constantFrom([], ...paths.filter((path) => typeof base[path[0] as string] === "object")),
            key: fc.constantFrom("extra", "colour", "notes", "Version"),
          }),
        ),
        (edit) => {
          const data = structuredClone(base);
          let expectedPath: string;
          if (edit.kind === "delete") {
            const optional = ["incident", "description", "digest", "version", "database", "rollbackPlan"];
            fc.pre(!optional.includes(String(edit.at[edit.at.length - 1])));
            deleteAt(data, edit.at);
            expectedPath = pathText(edit.at);
          } else if (edit.kind === "retype") {
            // A value of another JSON type than the one written: never acceptable to the schema.
            const kind = (value: unknown): string =>
              Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
            fc.pre(kind(edit.value) !== kind(getAt(data, edit.at)));
            // A config change's value may be a string, number or boolean.
            fc.pre(
              !(
                edit.at.includes("configChanges") &&
                edit.at[edit.at.length - 1] === "value" &&
                kind(edit.value) !== "object"
              ),
            );
            setAt(data, edit.at, edit.value);
            expectedPath = pathText(edit.at);
          } else {
            let target: unknown = data;
            for (const segment of edit.at) target = (target as Record<string | number, unknown>)[segment];
            fc.pre(typeof target === "object" && target !== null && !Array.isArray(target));
            (target as Record<string, unknown>)[edit.key] = "x";
            expectedPath = pathText([...edit.at, edit.key]);
          }
          const check = checkManifest(data);
          expect(check.ok).toBe(false);
          // Named: the broken field, the field that contains it (an artifact without version or digest),
          // or a field inside it (an object emptied of its required members).
          const related = (outer: string, inner: string): boolean =>
            inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
          expect(
            check.issues.some(
              (issue) => related(issue.path, expectedPath) || related(expectedPath, issue.path),
            ),
          ).toBe(true);
          for (const issue of check.issues) expect(issue.message.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("anything at all, as data or as text, is answered with issues and never a crash", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue()), (value) => {
        const check = checkManifest(value);
        expect(check.ok).toBe(false);
        expect(check.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const check = parseManifest(text);
        expect(check.ok).toBe(false);
        expect(check.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe("addApprovalToManifestText", () => {
  it("appends the approval and keeps comments, layout and digest", () => {
    const text = exampleText("hot-fix");
    const before = parseManifest(text);
    const { text: updated, replaced } = addApprovalToManifestText(text, APPROVAL);
    expect(replaced).toBe(0);
    expect(updated.startsWith(text.replace(/approvals: \[\]\n$/, ""))).toBe(true);
    const after = parseManifest(updated);
    expect(after.ok && after.manifest.approvals).toEqual([APPROVAL]);
    expect(after.ok && after.digest).toBe(before.ok && before.digest);
  });

  it("replaces an earlier approval by the same approver and role, and only that one", () => {
    const other: Approval = { ...APPROVAL, role: "business" };
    const once = addApprovalToManifestText(exampleText("hot-fix"), APPROVAL).text;
    const twice = addApprovalToManifestText(once, other).text;
    const renewed: Approval = { ...APPROVAL, expiresAt: "2026-12-06T07:00:00.000Z" };
    const result = addApprovalToManifestText(twice, renewed);
    expect(result.replaced).toBe(1);
    expect((parse(result.text) as { approvals: Approval[] }).approvals).toEqual([other, renewed]);
  });

  it("adds an approvals list to a manifest without one", () => {
    const text = exampleText("hot-fix").replace("approvals: []\n", "");
    const updated = addApprovalToManifestText(text, APPROVAL).text;
    expect((parse(updated) as { approvals: Approval[] }).approvals).toEqual([APPROVAL]);
  });
});

describe("templates", () => {
  it.each(DEPLOYMENT_TYPES)("the %s template validates as rendered", (type) => {
    const manifest = createManifestTemplate(type, {
      changeId: "CHG-1",
      version: "1.0.0",
      author: "alice",
      start: new Date("2026-12-01T10:00:00Z"),
    });
    const check = parseManifest(renderManifestYaml(manifest, " header"));
    expect(check.issues).toEqual([]);
    expect(check.ok && check.manifest).toEqual(manifest);
  });
});

describe("addTrustedKeyToText", () => {
  it("creates a file, adds a second approver and rotates a key", () => {
    const first = makeApprover("erin");
    const second = makeApprover("bea");
    const rotated = makeApprover("erin");
    let text = addTrustedKeyToText("", "erin", first.publicKey, ["technical"]);
    text = addTrustedKeyToText(`# who may approve\n${text}`, "bea", second.publicKey, ["business"]);
    text = addTrustedKeyToText(text, "erin", rotated.publicKey, ["change-board"]);
    expect(text.startsWith("# who may approve\n")).toBe(true);
    expect(parseTrustedKeys(text)).toEqual({
      ok: true,
      value: {
        approvers: {
          erin: { roles: ["technical", "change-board"], publicKeys: [first.publicKey, rotated.publicKey] },
          bea: { roles: ["business"], publicKeys: [second.publicKey] },
        },
      },
    });
    expect(stringify(parse(text))).toContain("erin:");
  });

  it("refuses to edit a file that is not a valid trusted-keys file", () => {
    expect(() =>
      addTrustedKeyToText("approvers: [1]\n", "erin", makeApprover("erin").publicKey, ["technical"]),
    ).toThrow(
      "expected a valid trusted-keys file: approvers: Invalid input: expected record, received array",
    );
  });
});

import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Document, parse, visit, Scalar } from "yaml";
import {
  CanonicalJsonError,
  DEPLOYMENT_TYPES,
  canonicalJson,
  manifestDigest,
  parseManifest,
  sha256Digest,
} from "../../../release";
import { exampleData, exampleText, present } from "./fixtures";

describe("canonicalJson", () => {
  it("sorts members, keeps array order and leaves no whitespace", () => {
    expect(canonicalJson({ b: [3, 1, { z: true, a: null }], a: "x y" })).toBe(
      '{"a":"x y","b":[3,1,{"a":null,"z":true}]}',
    );
  });

  it("sorts keys by UTF-16 code units, as RFC 8785 does", () => {
    // U+20AC (€) is one unit 0x20AC; U+1F600 is the surrogate pair D83D DE00; "\r" is 0x000D.
    expect(canonicalJson({ "€": 1, "😀": 2, "\r": 3, "1": 4, é: 5 })).toBe(
      '{"\\r":3,"1":4,"é":5,"€":1,"😀":2}',
    );
  });

  it("writes numbers and strings as ECMAScript JSON does", () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1, 100, 5e-324, '\u0007\u2028"\\/'])).toBe(
      '[1e+21,1e-7,0,0.1,100,5e-324,"\\u0007\u2028\\"\\\\/"]',
    );
  });

  it("leaves out members whose value is undefined", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it.each([
    [{ a: Number.NaN }, "a: NaN is not a JSON number"],
    [{ a: [1, Infinity] }, "a[1]: Infinity is not a JSON number"],
    [{ a: [undefined] }, "a[0]: undefined is not JSON"],
    [{ a: new Date(0) }, "a: a object is not JSON"],
    [{ a: "\ud800x" }, "a: string contains a lone UTF-16 surrogate"],
    [{ a: 1n }, "a: a bigint is not JSON"],
  ])("refuses %o", (value, message) => {
    expect(() => canonicalJson(value)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(value)).toThrow(message);
  });
});

describe("manifestDigest", () => {
  it("is SHA-256 over the canonical JSON without approvals", () => {
    const expected = `sha256:${createHash("sha256").update('{"a":1,"b":"ü"}', "utf8").digest("hex")}`;
    expect(manifestDigest({ b: "ü", a: 1, approvals: [{ anything: true }] })).toBe(expected);
    expect(sha256Digest('{"a":1,"b":"ü"}')).toBe(expected);
  });

  it("does not change when approvals are added or removed", () => {
    const data = exampleData("hot-fix");
    const before = manifestDigest(data);
    delete data.approvals;
    expect(manifestDigest(data)).toBe(before);
  });

  it("is the documented value for the hot-fix example", () => {
    // Recomputed here independently of canonicalJson: JSON.stringify with sorted keys gives the same text
    // for this document (no lone surrogates, no undefined), which is what the docs tell other tools.
    const sortKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(sortKeys)
        : typeof value === "object" && value !== null
          ? Object.fromEntries(
              Object.keys(value)
                .sort()
                .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
            )
          : value;
    const { approvals: _approvals, ...rest } = parse(exampleText("hot-fix")) as Record<string, unknown>;
    const text = JSON.stringify(sortKeys(rest));
    const check = parseManifest(exampleText("hot-fix"));
    expect(check.ok && check.digest).toBe(`sha256:${createHash("sha256").update(text).digest("hex")}`);
  });
});

/** Rebuilds a value with every object's keys in an order fast-check chooses. */
function shuffledKeys(value: unknown, pick: (count: number) => number): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffledKeys(item, pick));
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value);
    const order: string[] = [];
    while (keys.length > 0) order.push(present(keys.splice(pick(keys.length), 1)[0]));
    return Object.fromEntries(
      order.map((key) => [key, shuffledKeys((value as Record<string, unknown>)[key], pick)]),
    );
  }
  return value;
}

const scalarStyles = [Scalar.PLAIN, Scalar.QUOTE_DOUBLE, Scalar.QUOTE_SINGLE, Scalar.BLOCK_LITERAL] as const;

/** The same data written another way: flow or block collections, other quoting, comments everywhere. */
function restyled(text: string, choices: readonly number[]): string {
  const document = new Document(parse(text));
  let next = 0;
  const choose = (count: number): number => (choices[next++ % choices.length] ?? 0) % count;
  visit(document, {
    Map(_key, node) {
      node.flow = choose(2) === 1;
      if (!node.flow) node.commentBefore = ` comment ${next}`;
    },
    Seq(_key, node) {
      node.flow = choose(2) === 1;
    },
    Scalar(_key, node) {
      if (typeof node.value === "string" && !node.value.includes("\n")) {
        const style = scalarStyles[choose(scalarStyles.length)];
        // A block literal cannot live inside a flow collection; plain is left to the library to allow.
        node.type = style === Scalar.BLOCK_LITERAL ? Scalar.QUOTE_DOUBLE : style;
      }
      if (choose(3) === 0) node.comment = " trailing";
    },
  });
  return document.toString({ lineWidth: 0, indent: 2 + ((choices[0] ?? 0) % 3) });
}

describe("digest properties", () => {
  it("is stable under key reordering at every depth", () => {
    fc.assert(
      fc.property(fc.constantFrom(...DEPLOYMENT_TYPES), fc.infiniteStream(fc.nat()), (type, stream) => {
        const data = exampleData(type);
        const iterator = stream[Symbol.iterator]();
        const pick = (count: number): number => (iterator.next().value as number) % count;
        expect(manifestDigest(shuffledKeys(data, pick) as object)).toBe(manifestDigest(data));
      }),
      { numRuns: 60 },
    );
  });

  it("is stable under YAML restyling: flow or block, quoting, comments, indentation", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DEPLOYMENT_TYPES),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        (type, choices) => {
          const original = parseManifest(exampleText(type));
          const rewritten = restyled(exampleText(type), choices);
          const check = parseManifest(rewritten);
          expect(check.issues).toEqual([]);
          expect(check.ok && check.digest).toBe(original.ok && original.digest);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("restyling really changes the text the property above digests", () => {
    const text = restyled(exampleText("hot-fix"), [1, 2, 0, 1]);
    expect(text).not.toBe(exampleText("hot-fix"));
    expect(text).toContain("# comment");
    expect(text).toMatch(/[{[]\S/);
    expect(text).toMatch(/: ["']/);
  });
});

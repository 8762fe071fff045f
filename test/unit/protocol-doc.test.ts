/**
 * docs/protocol.md is meant to be enough to write a client from: every type it names, in a
 * type rendering or in its prose, must be defined in it, once. Read from the document's text,
 * not from the generator that writes it (test/support/doc-types.ts), so a hand-written name in
 * the template that no schema defines fails here.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { definedTypes, undefinedTypes, usedTypes } from "../support/doc-types.ts";

const DOC = readFileSync(resolve(import.meta.dirname, "../../docs/protocol.md"), "utf8");

describe("docs/protocol.md", () => {
  it("defines every type it names", () => {
    const missing = undefinedTypes(DOC).map(({ name, first }) => `${name} (first used on line ${first.line}: ${first.text.trim().slice(0, 120)})`);
    expect(missing, "types named in docs/protocol.md but never defined there").toEqual([]);
  });

  it("defines each type once", () => {
    const twice = [...definedTypes(DOC)].filter(([, places]) => places.length > 1).map(([name, places]) => `${name} (lines ${places.map((p) => p.line).join(", ")})`);
    expect(twice).toEqual([]);
  });

  it("names the types a client needs most, so the check above has something to hold", () => {
    const used = usedTypes(DOC);
    for (const name of ["WireMember", "WireMemberExtra", "UserId", "ClientTypeCounts", "ChannelMode", "PushId", "ClientId", "JsonValue", "DisconnectResult", "BanStatus", "HttpClientBatch", "HttpClientResponse", "ClientSettings"]) {
      expect(used.has(name), `${name} is used`).toBe(true);
    }
    expect(DOC).not.toMatch(/__schema\d/);
  });
});

describe("the type-name check itself", () => {
  const doc = [
    "A member arrives as a `WireMember`; see `{ id: UserId; ok: boolean }` and `Authorization: Bearer KEY`.",
    "",
    "```ts",
    'type WireMember = [UserId, Extra?]; // "Quoted" is no name',
    "/** `Commented` is prose. */",
    "type UserId = string;",
    "```",
    "",
    "```json",
    '{ "NotTs": 1 }',
    "```",
  ].join("\n");

  it("finds a name used only in a ts block, in a prose code span or in a table's rendering, and not one in a comment, a string or another code block", () => {
    expect([...usedTypes(doc).keys()].sort()).toEqual(["Extra", "UserId", "WireMember"]);
  });

  it("reports a name whose definition was deleted", () => {
    expect(undefinedTypes(doc).map(({ name }) => name)).toEqual(["Extra"]);
    const withoutUserId = doc.replace("type UserId = string;", "");
    expect(undefinedTypes(withoutUserId).map(({ name }) => name).sort()).toEqual(["Extra", "UserId"]);
  });
});

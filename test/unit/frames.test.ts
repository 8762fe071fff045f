/**
 * The frame decoder, with each expected answer written out by hand (not derived from the
 * schemas), so a validation bug in the room cannot hide behind an oracle that shares it.
 */
import { describe, expect, it } from "vitest";
import { decodeFrame } from "../../party/channel/frames.ts";

const LIMITS = { maxMessageBytes: 200, maxUserDataBytes: 40 };
const decode = (frame: string | Uint8Array) => decodeFrame(frame, LIMITS);

describe("decodeFrame accepts", () => {
  it.each<[string, string, unknown]>([
    ["a ping", '{"type":"ping"}', { type: "ping" }],
    ["a ping with an unknown extra field (dropped)", '{"type":"ping","extra":1}', { type: "ping" }],
    ["a sync", '{"type":"sync"}', { type: "sync" }],
    ["a leave", '{"type":"leave"}', { type: "leave" }],
    ["herenow with defaults filled in", '{"type":"herenow","id":"1"}', { type: "herenow", id: "1", includeUsers: false, distinct: false, limit: 1000 }],
    ["herenow with both flags", '{"type":"herenow","id":"x","includeUsers":true,"distinct":true}', { type: "herenow", id: "x", includeUsers: true, distinct: true, limit: 1000 }],
    ["herenow for a page", '{"type":"herenow","id":"p","includeUsers":true,"limit":20,"cursor":"u-9"}', { type: "herenow", id: "p", includeUsers: true, distinct: false, limit: 20, cursor: "u-9" }],
    ["a window", '{"type":"window","limit":25}', { type: "window", limit: 25 }],
    ["an update with null", '{"type":"update","data":null}', { type: "update", data: null }],
    ["an update with an object", '{"type":"update","data":{"age":18}}', { type: "update", data: { age: 18 } }],
    ["an update with exactly 40 bytes of data", `{"type":"update","data":"${"x".repeat(38)}"}`, { type: "update", data: "x".repeat(38) }],
  ])("%s", (_what, frame, message) => {
    expect(decode(frame)).toEqual({ ok: true, message });
  });

  it("keeps a __proto__ key in update data as plain data", () => {
    const decoded = decode('{"type":"update","data":{"__proto__":{"admin":true}}}');
    expect(decoded.ok).toBe(true);
    const data = (decoded as { message: { data: Record<string, unknown> } }).message.data;
    expect(Object.keys(data)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
  });
});

describe("decodeFrame refuses", () => {
  it.each<[string, string | Uint8Array, string, boolean]>([
    ["a binary frame", new Uint8Array([123, 125]), "binary_not_supported", false],
    ["a frame of 201 bytes", `{"type":"ping","x":"${"a".repeat(179)}"}`, "too_large", false],
    ["a frame of 201 bytes in three-byte characters", `{"type":"ping","x":"${"€".repeat(59)}aa"}`, "too_large", false],
    ["text that is not JSON", "hello", "bad_message", false],
    ["truncated JSON", '{"type":"ping"', "bad_message", false],
    ["JSON nested 33 levels", `{"type":"ping","x":${"[".repeat(32)}${"]".repeat(32)}}`, "bad_message", false],
    ["a bare number", "42", "unknown_message", false],
    ["null", "null", "unknown_message", false],
    ["an array", '["ping"]', "unknown_message", false],
    ["an object without type", '{"id":"1"}', "unknown_message", false],
    ["an unknown type", '{"type":"shout"}', "unknown_message", false],
    ["a type in the wrong case", '{"type":"PING"}', "unknown_message", false],
    ["a type that is not a string", '{"type":["ping"]}', "unknown_message", false],
    ["herenow without an id", '{"type":"herenow"}', "bad_message", false],
    ["herenow with an empty id", '{"type":"herenow","id":""}', "bad_message", false],
    ["herenow with an id of 65 characters", `{"type":"herenow","id":"${"i".repeat(65)}"}`, "bad_message", false],
    ["herenow with includeUsers as a string", '{"type":"herenow","id":"1","includeUsers":"true"}', "bad_message", false],
    ["an update without data", '{"type":"update"}', "bad_message", false],
    ["an update with 41 bytes of data", `{"type":"update","data":"${"x".repeat(39)}"}`, "too_large", true],
    ["an update with data nested 33 levels", `{"type":"update","data":${"[".repeat(32)}${"]".repeat(32)}}`, "bad_message", false],
  ])("%s, with %s", (_what, frame, code, parsed) => {
    const decoded = decode(frame);
    expect(decoded).toMatchObject({ ok: false, code, parsed });
    expect((decoded as { message: string }).message.length).toBeGreaterThan(5);
  });

  it("names the problem field of a known type", () => {
    const decoded = decode('{"type":"herenow","id":7}');
    expect(decoded).toMatchObject({ ok: false, code: "bad_message" });
    expect((decoded as { message: string }).message).toContain("id");
  });

  it("lists the known types for an unknown one", () => {
    expect(decode('{"type":"nope"}')).toEqual({
      ok: false,
      code: "unknown_message",
      message: "unknown message type; expected one of ping, update, leave, herenow, sync, ack, push, window, watch",
      parsed: false,
    });
  });
});

/**
 * The wire protocol: every message, query and response of the presence service, defined
 * once with zod. The room, the client, the HTTP helper, the tests and docs/protocol.md all
 * use these schemas. No `partykit` import here, so browsers and Deno can load it alone.
 */
export * from "./basics.ts";
export * from "./members.ts";
export * from "./http.ts";
export * from "./history.ts";
export * from "./users.ts";
export * from "./internal.ts";
export * from "./messages.ts";
export * from "./channel-index.ts";
export * from "./calls.ts";
export * from "./http-clients.ts";

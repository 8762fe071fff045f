/**
 * The installable package, as a user gets it: `npm pack`, the tarball installed into a
 * scratch project (the global setup does both), then each entry imported from plain Node
 * and from Deno, a client from the package joining the real dev server, and a TypeScript
 * consumer type-checked against the published declarations.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, inject, it } from "vitest";
import { freshChannel } from "../support/clients.ts";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const dir = inject("packedDir");
const host = inject("host");

/** Runs a script file in the scratch project; returns its stdout (throws with stderr on failure). */
async function runIn(command: string, args: string[], timeout = 60_000): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd: dir, timeout, env: { ...process.env, PRESENCE_HOST: host, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout ?? ""}\n${stderr ?? ""}`);
  }
}

/** A script that imports every entry, joins a channel with the packed client and checks it through the packed server helper. */
function smokeScript(channel: string, webSocket: "ws" | "global"): string {
  return `
import { PresenceClient, MemberList } from "partykit-presence/client";
import { createPresenceApi, PresenceHttpError } from "partykit-presence/server";
import { usePresence, useUsers } from "partykit-presence/react";
import { usePresence as useVuePresence, useUsers as useVueUsers } from "partykit-presence/vue";
import { createPresenceDevice } from "partykit-presence/device";
import GoEasyDefault, { GoEasy } from "partykit-presence/goeasy";
${webSocket === "ws" ? 'import WebSocket from "ws";' : ""}
const host = ${webSocket === "ws" ? "process.env.PRESENCE_HOST" : 'Deno.env.get("PRESENCE_HOST")'};
for (const [name, value] of Object.entries({ PresenceClient, MemberList, createPresenceApi, PresenceHttpError, usePresence, useUsers, useVuePresence, useVueUsers, createPresenceDevice, GoEasy })) {
  if (typeof value !== "function") throw new Error(name + " is not exported");
}
if (GoEasyDefault !== GoEasy) throw new Error("GoEasy is not the default export of partykit-presence/goeasy");
const client = new PresenceClient({ host, channel: ${JSON.stringify(channel)}, userId: "packed", userData: { from: "tarball" }, clientType: "script"${webSocket === "ws" ? ", WebSocket" : ""} });
await client.ready();
// A device beside it: an HTTP client kept by heartbeats, no socket.
const device = createPresenceDevice({ host, channel: ${JSON.stringify(channel)}, clientId: "packed-device", userId: "packed-device", ttlMs: 30000 });
await device.start();
const answer = await createPresenceApi({ host }).hereNow({ channels: [${JSON.stringify(channel)}], includeUsers: true });
await device.stop();
client.close();
console.log(JSON.stringify(answer.content.channels[${JSON.stringify(channel)}]));
`;
}

describe("the packed package", () => {
  it("holds the built entries and their declarations, and no sources or tests", () => {
    const installed = join(dir, "node_modules/partykit-presence");
    const files = readdirSync(installed, { recursive: true }).map(String).sort();
    expect(files).toEqual(expect.arrayContaining(["README.md", "package.json", "dist/client.js", "dist/server.js", "dist/react.js", "dist/vue.js", "dist/device.js", "dist/goeasy.js", "dist/types/client/index.d.ts", "dist/types/client/vue.d.ts", "dist/types/client/device.d.ts", "dist/types/client/goeasy.d.ts"]));
    expect(files.filter((file) => /^(party|test|bench|scripts|client)\//.test(file))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    expect(Object.keys(manifest.exports)).toEqual(["./client", "./server", "./react", "./vue", "./device", "./goeasy", "./package.json"]);
    expect(manifest.peerDependenciesMeta.react.optional).toBe(true);
    expect(manifest.peerDependenciesMeta.vue.optional).toBe(true);
  });

  it("imports every entry from Node and joins a real channel with the packed client", async () => {
    const channel = freshChannel("packed-node");
    // ws is not a dependency of the package: the consumer brings it (the setup installed it), as on Node 20.
    writeFileSync(join(dir, "node-smoke.mjs"), smokeScript(channel, "ws"));
    const out = await runIn(process.execPath, ["node-smoke.mjs"]);
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({
      channel,
      clientAmount: 2,
      userAmount: 2,
      clientTypes: { script: 1, device: 1 },
      users: [
        { id: "packed", data: { from: "tarball" }, clientType: "script" },
        { id: "packed-device", data: null, clientType: "device" },
      ],
    });
  }, 90_000);

  it("imports every entry from Deno and joins a real channel with the packed client", async () => {
    const channel = freshChannel("packed-deno");
    writeFileSync(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual", lock: false }));
    writeFileSync(join(dir, "deno-smoke.ts"), smokeScript(channel, "global"));
    const out = await runIn("npx", ["--yes", "deno@2.9.6", "run", "--no-prompt", "--allow-net", "--allow-env", "--allow-read", "deno-smoke.ts"], 120_000);
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toMatchObject({ channel, clientAmount: 2, userAmount: 2, users: [{ id: "packed", data: { from: "tarball" } }, { id: "packed-device", clientType: "device" }] });
  }, 150_000);

  it("type-checks a strict TypeScript consumer against the published declarations", async () => {
    writeFileSync(
      join(dir, "consumer.ts"),
      `
import { PresenceClient, type Member, type PresenceEvent } from "partykit-presence/client";
import { createPresenceApi, type HereNowResult } from "partykit-presence/server";
import { usePresence, useUsers, type PresenceView, type UsersView } from "partykit-presence/react";
import { usePresence as useVuePresence, useUsers as useVueUsers, type Refs, type WatchedUser } from "partykit-presence/vue";
import { effectScope, ref } from "vue";
import { createPresenceDevice, type HeldPush, type PresenceDevice } from "partykit-presence/device";
import { GoEasy, type GoEasyPresenceEvent } from "partykit-presence/goeasy";
const goEasy = new GoEasy({ host: "localhost:1999", appkey: "k", userId: "u", userData: "18 years old" });
goEasy.subscribePresence({ channel: "c", onPresence: (event: GoEasyPresenceEvent) => event.member.id + event.amount, onFailed: (error) => error.code + error.content });
goEasy.hereNow({ channels: ["c"], includeUsers: true }, (response) => response.code);
const device: PresenceDevice = createPresenceDevice({ host: "localhost:1999", channel: "c", clientId: "d1", userId: "u", onPush: (push: HeldPush) => push.data });
const client = new PresenceClient({ host: "localhost:1999", channel: "c", userId: "u", userData: { a: 1 } });
const types: Record<string, number> = client.members[0]?.clientTypes ?? {};
const onJoin = (event: PresenceEvent) => event.member.id.toUpperCase();
client.on("join", onJoin);
const list: Member[] = client.online;
const api = createPresenceApi({ host: "localhost:1999" });
const answer: Promise<HereNowResult> = api.hereNow({ channels: ["c"], includeUsers: true });
const hook: (options: { host: string; channel: string }) => PresenceView = usePresence;
const beat = api.heartbeat("c", "d1", { userId: "u", ttlMs: 30_000 }).then((state) => state.expiresAt + state.pushes.length);
const friendsHook: (options: { host: string; channel: string; userIds: string[] }) => UsersView = useUsers;
const channel = ref("c");
const scope = effectScope();
const vueView: Refs<PresenceView> | undefined = scope.run(() => useVuePresence(() => ({ host: "localhost:1999", channel: channel.value })));
const friends = scope.run(() => useVueUsers({ host: "localhost:1999", channel: "c", userIds: ["a", "b"] }));
const seen: Array<number | null> = (friends?.users.value ?? []).map((user: WatchedUser) => (user.online ? null : user.lastSeen) ?? Object.keys(user.clientTypes).length);
const status: "connecting" | "open" | "closed" | undefined = vueView?.status.value;
scope.stop();
export { types, list, answer, hook, device, beat, friendsHook, seen, status, goEasy };
`,
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", lib: ["ES2022", "DOM"], skipLibCheck: false, types: [] },
        files: ["consumer.ts"],
      }),
    );
    await runIn(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);
  }, 90_000);
});

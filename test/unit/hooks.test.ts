/**
 * The React and Vue hooks' shared part (HookClient) and the Vue composables, over a fake
 * client (test/support/fake-client.ts) put in place of `PresenceClient`: what reconnects, what
 * is an update or a new watch list, what closes, and that the view (or the refs) follow the
 * client's events. Vue runs for real: in an effect scope, and mounted with a tiny renderer.
 * The React hooks are this HookClient behind useState/useEffect; they run in Chromium in
 * test/browser/browser.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createRenderer, defineComponent, effectScope, h, nextTick, ref } from "vue";
import type { UserStatus } from "../../party/protocol/index.ts";
import { FakeClient, member } from "../support/fake-client.ts";

vi.mock("../../client/index.ts", async () => ({ PresenceClient: (await import("../support/fake-client.ts")).FakeClient }));

const { HookClient, clientTypesOf } = await import("../../client/hook-client.ts");
const vue = await import("../../client/vue.ts");
type UsersView = import("../../client/hook-client.ts").UsersView;

const BASE = { host: "127.0.0.1:1999", channel: "room", userId: "ann" };
const made = () => FakeClient.made;
const last = () => made().at(-1)!;

const friend = (id: string, online: boolean, channels: Array<Record<string, number>> = []): UserStatus => ({
  id,
  online,
  since: 10,
  lastSeen: online ? 10 : 20,
  channels: channels.map((clientTypes, i) => ({ channel: `c${i}`, clientAmount: Object.values(clientTypes).reduce((a, b) => a + b, 0), clientTypes })),
});

beforeEach(() => {
  FakeClient.made = [];
});

describe("HookClient (what usePresence and useUsers do, in React and in Vue)", () => {
  let views: UsersView[];
  let hook: InstanceType<typeof HookClient>;
  beforeEach(() => {
    views = [];
    hook = new HookClient((view) => views.push(view));
  });
  afterEach(() => hook.close());

  it("connects with the client's options (not enabled or userIds) and reports the view on every event", () => {
    hook.update({ ...BASE, enabled: true, userIds: [] });
    expect(made()).toHaveLength(1);
    expect(last().options).toEqual(BASE);
    expect(views.at(-1)).toMatchObject({ status: "connecting", members: [], client: last() });

    last().emit("status", "open");
    expect(views.at(-1)?.status).toBe("open");
    last().setMembers([member("ann"), member("bob", "offline")], { clientAmount: 1, userAmount: 1 });
    expect(views.at(-1)).toMatchObject({ members: [member("ann"), member("bob", "offline")], online: [member("ann")], counts: { clientAmount: 1, userAmount: 1 } });
    last().emit("error", { code: "invalid", message: "no" });
    expect(views.at(-1)?.error).toEqual({ code: "invalid", message: "no" });
  });

  it.each([
    ["channel", { channel: "other" }],
    ["userId", { userId: "bob" }],
    ["host", { host: "127.0.0.1:2000" }],
    ["clientType", { clientType: "app" }],
    ["party", { party: "p2" }],
    ["id", { id: "conn-2" }],
  ])("closes the client and connects anew when %s changes", (_what, change) => {
    hook.update(BASE);
    const first = last();
    hook.update({ ...BASE, ...change });
    expect(first.closed).toBe(true);
    expect(made()).toHaveLength(2);
    expect(last().options).toMatchObject(change);
    expect(last().closed).toBe(false);
  });

  it("reports nothing from a client it closed", () => {
    hook.update(BASE);
    const first = last();
    hook.update({ ...BASE, channel: "other" });
    const seen = views.length;
    first.setMembers([member("ghost")], { clientAmount: 1, userAmount: 1 });
    expect(views).toHaveLength(seen);
    expect(views.at(-1)?.client).toBe(last());
  });

  it("sends a change of userData as an update on the same client, once per change, and none to an observer", () => {
    hook.update({ ...BASE, userData: { v: 1 } });
    hook.update({ ...BASE, userData: { v: 1 } });
    expect(last().updates).toEqual([]);
    hook.update({ ...BASE, userData: { v: 2 } });
    hook.update({ ...BASE, userData: { v: 2 } });
    expect(made()).toHaveLength(1);
    expect(last().updates).toEqual([{ v: 2 }]);

    const observer = new HookClient(() => undefined);
    observer.update({ host: BASE.host, channel: "room", userData: { v: 1 } });
    observer.update({ host: BASE.host, channel: "room", userData: { v: 2 } });
    expect(last().updates).toEqual([]);
    observer.close();
  });

  it("watches the users asked for on the same client, anew when the list changes, and drops a user taken off the list at once", () => {
    hook.update({ ...BASE, userIds: ["bob", "cat"] });
    expect(last().watches).toEqual([["bob", "cat"]]);
    last().setWatched([friend("bob", true, [{ web: 1 }, { web: 1, app: 2 }]), friend("cat", false)]);
    expect(views.at(-1)?.users).toEqual([
      { ...friend("bob", true, [{ web: 1 }, { web: 1, app: 2 }]), clientTypes: { web: 2, app: 2 } },
      { ...friend("cat", false), clientTypes: {} },
    ]);
    hook.update({ ...BASE, userIds: ["bob", "cat"] });
    expect(last().watches).toHaveLength(1);
    hook.update({ ...BASE, userIds: ["bob"] });
    expect(made()).toHaveLength(1);
    expect(last().watches).toEqual([["bob", "cat"], ["bob"]]);
    expect(views.at(-1)?.users.map((user) => user.id)).toEqual(["bob"]);
  });

  it("watches again on the new client after a reconnect", () => {
    hook.update({ ...BASE, userIds: ["bob"] });
    hook.update({ ...BASE, channel: "other", userIds: ["bob"] });
    expect(made().map((client) => client.watches)).toEqual([[["bob"]], [["bob"]]]);
  });

  it("holds the connection back while enabled is false, closed, and connects when it turns true", () => {
    hook.update({ ...BASE, enabled: false });
    expect(made()).toHaveLength(0);
    expect(views.at(-1)).toMatchObject({ status: "closed", client: null });
    hook.update(BASE);
    expect(made()).toHaveLength(1);
    hook.update({ ...BASE, enabled: false });
    expect(last().closed).toBe(true);
    expect(views.at(-1)).toMatchObject({ status: "closed", client: null });
  });

  it("closes on close, and connects again on the next update (React's strict mode runs effects twice)", () => {
    hook.update(BASE);
    hook.close();
    expect(last().closed).toBe(true);
    hook.update(BASE);
    expect(made()).toHaveLength(2);
    expect(last().closed).toBe(false);
  });

  it("sums a user's client types over its channels", () => {
    expect(clientTypesOf(friend("bob", true, [{ web: 1 }, { app: 1, web: 2 }]))).toEqual({ web: 3, app: 1 });
    expect(clientTypesOf({ id: "x", online: false, lastSeen: null })).toEqual({});
  });
});

describe("usePresence and useUsers from partykit-presence/vue", () => {
  it("connects in an effect scope, keeps its refs in step with the client's events, and closes when the scope is disposed", () => {
    const scope = effectScope();
    const refs = scope.run(() => vue.usePresence({ ...BASE, clientType: "web" }))!;
    expect(made()).toHaveLength(1);
    expect(refs.status.value).toBe("connecting");
    expect(refs.client.value).toBe(last());

    last().emit("status", "open");
    last().setMembers([member("ann"), member("bob", "offline")], { clientAmount: 1, userAmount: 1 });
    last().emit("error", { code: "invalid", message: "no" });
    expect(refs.status.value).toBe("open");
    expect(refs.members.value.map((m) => m.id)).toEqual(["ann", "bob"]);
    expect(refs.online.value.map((m) => m.id)).toEqual(["ann"]);
    expect(refs.counts.value).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(refs.error.value).toEqual({ code: "invalid", message: "no" });
    expect("users" in refs).toBe(false);

    scope.stop();
    expect(last().closed).toBe(true);
  });

  it("reconnects when options given as a ref change identity, and updates userData on the same client", async () => {
    const options = ref({ ...BASE, userData: { v: 1 } as Record<string, number> });
    const scope = effectScope();
    const refs = scope.run(() => vue.usePresence(options))!;
    const first = last();

    options.value.userData.v = 2;
    await nextTick();
    expect(made()).toHaveLength(1);
    expect(first.updates).toEqual([{ v: 2 }]);

    options.value = { ...options.value, channel: "other" };
    await nextTick();
    expect(first.closed).toBe(true);
    expect(made()).toHaveLength(2);
    expect(last().options.channel).toBe("other");
    expect(refs.client.value).toBe(last());
    scope.stop();
    expect(last().closed).toBe(true);
  });

  it("reconnects when a getter's sources change", async () => {
    const channel = ref("one");
    const scope = effectScope();
    scope.run(() => vue.usePresence(() => ({ ...BASE, channel: channel.value })));
    channel.value = "two";
    await nextTick();
    expect(made().map((client) => [client.options.channel, client.closed])).toEqual([
      ["one", true],
      ["two", false],
    ]);
    scope.stop();
  });

  it("useUsers: watches the list, follows its changes on the same client, and fills the users ref with client types", async () => {
    const userIds = ref(["bob", "cat"]);
    const scope = effectScope();
    const refs = scope.run(() => vue.useUsers(() => ({ ...BASE, userIds: userIds.value })))!;
    expect(last().watches).toEqual([["bob", "cat"]]);
    last().setWatched([friend("bob", true, [{ app: 1 }]), friend("cat", false)]);
    expect(refs.users.value.map((user) => [user.id, user.online, user.clientTypes, user.lastSeen])).toEqual([
      ["bob", true, { app: 1 }, 10],
      ["cat", false, {}, 20],
    ]);

    userIds.value = ["cat"];
    await nextTick();
    expect(made()).toHaveLength(1);
    expect(last().watches).toEqual([["bob", "cat"], ["cat"]]);
    expect(refs.users.value.map((user) => user.id)).toEqual(["cat"]);
    scope.stop();
    expect(last().closed).toBe(true);
  });

  it("in a component: connects on mount, not while set up (so never in server rendering), and closes on unmount", async () => {
    const shown: string[] = [];
    let madeInSetup = -1;
    const Friends = defineComponent({
      setup() {
        const { users, status } = vue.useUsers({ ...BASE, userIds: ["bob"] });
        madeInSetup = made().length;
        return () => {
          shown.push(`${status.value}:${users.value.map((user) => `${user.id}=${user.online}`).join(",")}`);
          return h("ul");
        };
      },
    });
    const root = mountWithTinyRenderer(Friends);
    expect(madeInSetup).toBe(0);
    expect(made()).toHaveLength(1);

    last().emit("status", "open");
    last().setWatched([friend("bob", true)]);
    await nextTick();
    expect(shown.at(-1)).toBe("open:bob=true");

    root.unmount();
    expect(last().closed).toBe(true);
  });
});

/** A renderer that keeps nodes as plain objects: enough to mount a component in Node. */
function mountWithTinyRenderer(component: ReturnType<typeof defineComponent>) {
  type Node = { children: Node[]; parent: Node | null; text?: string };
  const node = (text?: string): Node => ({ children: [], parent: null, text });
  const { createApp } = createRenderer<Node, Node>({
    createElement: () => node(),
    createText: (text) => node(text),
    createComment: (text) => node(text),
    setText: (target, text) => void (target.text = text),
    setElementText: (target, text) => void (target.children = [node(text)]),
    insert: (child, parent, anchor) => {
      child.parent = parent;
      const at = anchor ? parent.children.indexOf(anchor) : -1;
      parent.children.splice(at < 0 ? parent.children.length : at, 0, child);
    },
    remove: (child) => {
      if (child.parent) child.parent.children.splice(child.parent.children.indexOf(child), 1);
      child.parent = null;
    },
    parentNode: (child) => child.parent,
    nextSibling: (child) => (child.parent ? (child.parent.children[child.parent.children.indexOf(child) + 1] ?? null) : null),
    patchProp: () => undefined,
  });
  const app = createApp(component);
  app.mount(node());
  return app;
}

/**
 * A friends list in Vue: each friend online or offline, on which devices, and "last seen N
 * ago", live over the page's own presence socket (the seed polls a cloud function for this).
 * `?me=ann&friends=bob,cat,dan&channel=lobby` picks who you are, your friends and the channel
 * you join; in an app they come from your login and your database.
 */
import { computed, createApp, defineComponent, h, onUnmounted, ref } from "vue";
import { useUsers, type WatchedUser } from "partykit-presence/vue";

/** The presence service's host, put in by the bundler (see examples/kit.mjs). */
declare const process: { env: { PRESENCE_HOST: string } };

const query = new URLSearchParams(location.search);
const me = query.get("me") ?? "ann";
const friendIds = (query.get("friends") ?? "bob,cat,dan").split(",").filter(Boolean);
const channel = query.get("channel") ?? "lobby";

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "now", "12 seconds ago", "3 minutes ago", "2 days ago". */
function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return relative.format(-seconds, "second");
  if (seconds < 3600) return relative.format(-Math.floor(seconds / 60), "minute");
  if (seconds < 86_400) return relative.format(-Math.floor(seconds / 3600), "hour");
  return relative.format(-Math.floor(seconds / 86_400), "day");
}

/** What a friend's row says after the name. */
function stateOf(friend: WatchedUser, now: number): string {
  if (friend.online) return `online on ${Object.keys(friend.clientTypes).sort().join(", ") || "a device"}`;
  return friend.lastSeen === null ? "never seen" : `last seen ${ago(now - friend.lastSeen)}`;
}

const Friends = defineComponent(() => {
  // Joining makes me online to my friends; the same socket watches them.
  const { users, status } = useUsers({ host: process.env.PRESENCE_HOST, channel, userId: me, clientType: "web", userIds: friendIds });
  const now = ref(Date.now());
  const timer = setInterval(() => (now.value = Date.now()), 1000);
  onUnmounted(() => clearInterval(timer));
  const rows = computed(() => friendIds.map((id) => ({ id, friend: users.value.find((user) => user.id === id) })));

  return () =>
    h("main", { id: "friends", "data-status": status.value }, [
      h("h1", "Friends"),
      h("p", { class: "me" }, `You are ${me} (${status.value})`),
      h(
        "ul",
        rows.value.map(({ id, friend }) =>
          h("li", { key: id, class: friend?.online ? "online" : "offline", "data-id": id }, [
            h("span", { class: "dot" }),
            h("span", { class: "name" }, id),
            h("span", { class: "state" }, friend ? stateOf(friend, now.value) : "…"),
          ]),
        ),
      ),
    ]);
});

createApp(Friends).mount("#app");

/**
 * `partykit-presence/vue`: `usePresence(options)` and `useUsers(options)`, the React hooks'
 * twins as Vue 3 composables returning refs. Options may be a plain object, a ref or a getter;
 * a change of identity reconnects, of `userData` updates, of `userIds` watches anew. The client
 * connects on mount (at once outside a component) and closes when the scope is disposed.
 * Vue is an optional peer dependency; nothing else is added to the client.
 */
import { getCurrentInstance, type MaybeRefOrGetter, onMounted, onScopeDispose, type ShallowRef, shallowRef, toValue, watch } from "vue";
import { EMPTY_VIEW, HookClient, type PresenceView, type UsePresenceOptions, type UseUsersOptions, type UsersView } from "./hook-client.ts";

export type { PresenceView, UsePresenceOptions, UseUsersOptions, UsersView, WatchedUser } from "./hook-client.ts";

/** A view as read-only refs, one per field, each replaced on every change. */
export type Refs<View> = { readonly [K in keyof View]: Readonly<ShallowRef<View[K]>> };

/**
 * Joins a channel while the component is mounted (or the effect scope lives). Returns refs
 * `{members, online, counts, status, error, client}`.
 */
export function usePresence(options: MaybeRefOrGetter<UsePresenceOptions>): Refs<PresenceView> {
  const { users: _users, ...refs } = useHookClient(options);
  return refs;
}

/**
 * `usePresence` and a live watch list: `users` holds the status, client types and lastSeen of
 * up to 1,000 users across all channels, in the order asked.
 */
export function useUsers(options: MaybeRefOrGetter<UseUsersOptions>): Refs<UsersView> {
  return useHookClient(options);
}

function useHookClient(options: MaybeRefOrGetter<UsePresenceOptions & { userIds?: readonly string[] }>): Refs<UsersView> {
  const refs = {
    members: shallowRef(EMPTY_VIEW.members),
    online: shallowRef(EMPTY_VIEW.online),
    counts: shallowRef(EMPTY_VIEW.counts),
    status: shallowRef(EMPTY_VIEW.status),
    error: shallowRef(EMPTY_VIEW.error),
    // A shallow ref: a deep one would proxy the client, whose private fields a proxy cannot reach.
    client: shallowRef(EMPTY_VIEW.client),
    users: shallowRef(EMPTY_VIEW.users),
  };
  const hook = new HookClient((view) => {
    refs.members.value = view.members;
    refs.online.value = view.online;
    refs.counts.value = view.counts;
    refs.status.value = view.status;
    refs.error.value = view.error;
    refs.client.value = view.client;
    refs.users.value = view.users;
  });
  // Deep: a change anywhere in the options (userData, userIds) reaches the hook client, which does only what changed.
  const start = () => watch(() => toValue(options), (next) => hook.update(next), { deep: true, immediate: true });
  // In a component, connect on mount: never during server rendering.
  if (getCurrentInstance()) onMounted(start);
  else start();
  onScopeDispose(() => hook.close());
  return refs;
}

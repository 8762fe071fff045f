/**
 * `partykit-presence/react`: `usePresence(options)`, a hook over `PresenceClient` that
 * returns the live member list, the counts and the connection status, and `useUsers(options)`,
 * the same with a live watch list (a friends list). React is an optional peer dependency;
 * nothing else is added to the client.
 */
import { useEffect, useState } from "react";
import { EMPTY_VIEW, HookClient, type PresenceView, type UsePresenceOptions, type UseUsersOptions, type UsersView } from "./hook-client.ts";

export type { PresenceView, UsePresenceOptions, UseUsersOptions, UsersView, WatchedUser } from "./hook-client.ts";

/**
 * Joins a channel while the component is mounted. A change of host, channel, party, userId,
 * clientType or id reconnects; a change of `userData` is sent as an update on the same socket.
 */
export function usePresence(options: UsePresenceOptions): PresenceView {
  const { users: _users, ...view } = useHookClient(options);
  return view;
}

/**
 * `usePresence` and a live watch list: `users` holds the status, client types and lastSeen of
 * up to 1,000 users across all channels, in the order asked. A change of `userIds` is sent on
 * the same socket.
 */
export function useUsers(options: UseUsersOptions): UsersView {
  return useHookClient(options);
}

function useHookClient(options: UsePresenceOptions & { userIds?: readonly string[] }): UsersView {
  const [view, setView] = useState<UsersView>(EMPTY_VIEW);
  const [hook] = useState(() => new HookClient(setView));
  // After every render: the hook client compares the options and does only what changed.
  useEffect(() => hook.update(options));
  useEffect(() => () => hook.close(), [hook]);
  return view;
}

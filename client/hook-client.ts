/**
 * What the React and Vue hooks share (`react.ts`, `vue.ts`): one `PresenceClient` kept in step
 * with options that may change, and the view it reports. A change of identity closes the
 * client and connects anew; a change of `userData` is an update on the same socket; a change
 * of `userIds` is a new watch list. No framework here, so both hooks mean the same thing, and
 * no list logic: members, counts and watched users are the client core's, read through the client.
 */
import type { Counts, Member, UserStatus } from "../party/protocol/index.ts";
import { type ConnectionStatus, PresenceClient, type PresenceClientOptions } from "./index.ts";

/** Options of `usePresence`: those of `PresenceClient`; `enabled: false` holds the connection back. */
export type UsePresenceOptions = PresenceClientOptions & { enabled?: boolean };

/** Options of `useUsers`: those of `usePresence`, and the users to watch (up to 1,000; `[]` watches none). */
export type UseUsersOptions = UsePresenceOptions & { userIds: readonly string[] };

/** A watched user's status, with its client types summed over the channels it is online in. */
export type WatchedUser = UserStatus & {
  /** Its live clients by type across channels (`{web: 1, app: 1}`); `{}` when offline. */
  clientTypes: Record<string, number>;
};

/** The channel as this client sees it. */
export type PresenceView = {
  /** Members online and offline. */
  members: Member[];
  /** The online members. */
  online: Member[];
  counts: Counts;
  status: ConnectionStatus;
  /** The last error the room sent (a refused message, or the room refusing this client). */
  error: { code: string; message: string } | null;
  /** The client itself (null before it connects), for hereNow, leave and events. */
  client: PresenceClient | null;
};

/** What `useUsers` returns: the channel's view and the watched users, in the order asked (those the room has answered). */
export type UsersView = PresenceView & { users: WatchedUser[] };

/** The view before a client exists. */
export const EMPTY_VIEW: UsersView = {
  members: [],
  online: [],
  counts: { clientAmount: 0, userAmount: 0 },
  status: "connecting",
  error: null,
  client: null,
  users: [],
};

/** The options that name the connection: a change of any of them needs a new socket. */
export function identityOf(options: PresenceClientOptions): string {
  return JSON.stringify([options.host, options.channel, options.party, options.userId, options.clientType, options.id, options.protocol]);
}

/** A user's client types summed over its channels. */
export function clientTypesOf(status: UserStatus): Record<string, number> {
  const types: Record<string, number> = {};
  for (const { clientTypes } of status.channels ?? []) {
    for (const [type, count] of Object.entries(clientTypes)) types[type] = (types[type] ?? 0) + count;
  }
  return types;
}

/** One client kept in step with the latest options; `onView` hears every change of what it sees. */
export class HookClient {
  #onView: (view: UsersView) => void;
  #client: PresenceClient | null = null;
  /** The identity connected (null: held back by `enabled: false`; undefined: not started or closed). */
  #identity: string | null | undefined = undefined;
  #sentData: string | undefined;
  #watching: string | undefined;
  #status: ConnectionStatus = "connecting";
  #error: PresenceView["error"] = null;
  #stops: Array<() => void> = [];

  constructor(onView: (view: UsersView) => void) {
    this.#onView = onView;
  }

  /** Applies the latest options: reconnects, sends an update, watches anew, or does nothing. */
  update(options: UsePresenceOptions & { userIds?: readonly string[] }): void {
    const identity = (options.enabled ?? true) ? identityOf(options) : null;
    if (identity !== this.#identity) {
      this.#disconnect();
      if (identity === null) {
        this.#identity = null;
        this.#onView({ ...EMPTY_VIEW, status: "closed" });
        return;
      }
      this.#connect(options);
      this.#identity = identity;
    }
    const client = this.#client;
    if (!client) return;
    const dataText = options.userData === undefined ? undefined : JSON.stringify(options.userData);
    if (client.userId !== null && dataText !== undefined && dataText !== this.#sentData) {
      this.#sentData = dataText;
      client.setUserData(options.userData!);
    }
    const watching = options.userIds === undefined ? undefined : JSON.stringify(options.userIds);
    if (watching !== this.#watching && options.userIds !== undefined) {
      this.#watching = watching;
      client.watchUsers(options.userIds);
      // Users dropped from the list go at once; the room answers for the new ones.
      this.#render();
    }
  }

  /** Closes the client (members see it offline after grace); a later `update` connects again. */
  close(): void {
    this.#disconnect();
    this.#identity = undefined;
  }

  #connect(options: UsePresenceOptions & { userIds?: readonly string[] }) {
    const { enabled: _enabled, userIds: _userIds, ...clientOptions } = options;
    const client = new PresenceClient(clientOptions);
    this.#client = client;
    this.#status = "connecting";
    this.#error = null;
    this.#sentData = options.userData === undefined ? undefined : JSON.stringify(options.userData);
    this.#watching = undefined;
    this.#stops = [
      client.on("members", () => this.#render()),
      client.on("users", () => this.#render()),
      client.on("status", (status) => {
        this.#status = status;
        this.#render();
      }),
      client.on("error", (error) => {
        this.#error = error;
        this.#render();
      }),
    ];
    this.#render();
  }

  /** Stops listening first, so nothing is reported after a close. */
  #disconnect() {
    for (const stop of this.#stops.splice(0)) stop();
    this.#client?.close();
    this.#client = null;
  }

  #render() {
    const client = this.#client;
    if (!client) return;
    this.#onView({
      members: client.members,
      online: client.online,
      counts: client.counts,
      status: this.#status,
      error: this.#error,
      client,
      users: client.watched.map((status) => ({ ...status, clientTypes: clientTypesOf(status) })),
    });
  }
}

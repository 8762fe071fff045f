/**
 * `partykit-presence/react`: `usePresence(options)`, a hook over `PresenceClient` that
 * returns the live member list, the counts and the connection status. React is an optional
 * peer dependency; nothing else is added to the client.
 */
import { useEffect, useRef, useState } from "react";
import type { Counts, JsonValue, Member } from "../party/protocol/index.ts";
import { type ConnectionStatus, PresenceClient, type PresenceClientOptions } from "./index.ts";

/** What the hook returns: the channel as this client sees it, re-rendered on every change. */
export type PresenceView = {
  /** Members online and offline. */
  members: Member[];
  /** The online members. */
  online: Member[];
  counts: Counts;
  status: ConnectionStatus;
  /** The last error the room sent (a refused message, or the room refusing this client). */
  error: { code: string; message: string } | null;
  /** The client itself (null before the first render's effect), for hereNow, leave and events. */
  client: PresenceClient | null;
};

/** Options of `usePresence`: those of `PresenceClient`; `enabled: false` holds the connection back. */
export type UsePresenceOptions = PresenceClientOptions & { enabled?: boolean };

const EMPTY: PresenceView = {
  members: [],
  online: [],
  counts: { clientAmount: 0, userAmount: 0 },
  status: "connecting",
  error: null,
  client: null,
};

/**
 * Joins a channel while the component is mounted. A change of host, channel, party, userId,
 * clientType or id reconnects; a change of `userData` is sent as an update on the same socket.
 */
export function usePresence(options: UsePresenceOptions): PresenceView {
  const [view, setView] = useState<PresenceView>(EMPTY);
  const latest = useRef(options);
  latest.current = options;
  const identity = [options.host, options.channel, options.party, options.userId, options.clientType, options.id, options.protocol].join("\u0000");
  const enabled = options.enabled ?? true;

  useEffect(() => {
    if (!enabled) {
      setView({ ...EMPTY, status: "closed" });
      return;
    }
    const { enabled: _ignored, ...clientOptions } = latest.current;
    const client = new PresenceClient(clientOptions);
    let status: ConnectionStatus = "connecting";
    let error: PresenceView["error"] = null;
    const render = () =>
      setView({ members: client.members, online: client.online, counts: client.counts, status, error, client });
    const stops = [
      client.on("members", render),
      client.on("status", (next) => {
        status = next;
        render();
      }),
      client.on("error", (next) => {
        error = next;
        render();
      }),
    ];
    render();
    return () => {
      for (const stop of stops) stop();
      client.close();
    };
  }, [identity, enabled]);

  const dataText = options.userData === undefined ? undefined : JSON.stringify(options.userData);
  const sentData = useRef(dataText);
  useEffect(() => {
    const client = view.client;
    if (!client || client.userId === null || dataText === undefined || dataText === sentData.current) return;
    sentData.current = dataText;
    client.setUserData(JSON.parse(dataText) as JsonValue);
  }, [view.client, dataText]);

  return view;
}

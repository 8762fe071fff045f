/**
 * The host port on PartyKit (`partykit` 0.0.115): a `Party.Room` as the core sees it. The
 * engine's quirks end here: inside `onAlarm`, `room.id` and `room.context.parties` throw, and
 * a room an alarm woke has no way to the other parties until a request or message arrives; so
 * the name is kept in storage (like partyserver's `__ps_name`) and the parties are captured
 * in every callback that allows it.
 */
import type * as Party from "partykit/server";
import { partiesOver, type Parties } from "../../server/calls.ts";
import type { Host, HostSocket, HostStorage } from "../../server/host.ts";

/** Where the room's name is kept, for the alarms that cannot read it. */
const NAME_KEY = "__name";

/** A PartyKit room behind the host port. */
export class PartyKitHost<State> implements Host<State> {
  readonly #room: Party.Room;
  #parties: Party.Context["parties"] | null = null;
  #name: string | null = null;
  readonly storage: HostStorage;
  readonly parties: Parties;

  constructor(room: Party.Room) {
    this.#room = room;
    this.storage = room.storage as unknown as HostStorage;
    this.parties = partiesOver(
      (party, name, init) => {
        this.capture();
        const stub = this.#parties?.[party]?.get(name);
        return stub ? (stub.fetch(init as unknown as Party.Request) as unknown as Promise<Response>) : null;
      },
      () => {
        this.capture();
        return this.#parties !== null;
      },
    );
  }

  /** The room's name (empty only in a room an alarm woke before it ever knew it, which no path here makes). */
  get name(): string {
    return this.#name ?? "";
  }

  /** Learns the room's name before the room starts: from PartyKit where it allows it, else from storage. */
  async load(): Promise<void> {
    const stored = await this.#room.storage.get<string>(NAME_KEY);
    const id = roomId(this.#room);
    this.#name = id ?? stored ?? null;
    if (id !== null && stored !== id) await this.#room.storage.put(NAME_KEY, id);
    this.capture();
  }

  /**
   * Takes the parties (and the name) where PartyKit allows it; a no-op once taken. Returns true
   * when the parties became reachable just now, so work that waited for them can go.
   */
  capture(): boolean {
    if (this.#name === null) {
      const id = roomId(this.#room);
      if (id !== null) {
        this.#name = id;
        this.#room.storage.put(NAME_KEY, id).catch((error) => console.error("presence: storing the room's name failed", error));
      }
    }
    if (this.#parties) return false;
    try {
      this.#parties = this.#room.context.parties;
      return true;
    } catch {
      // In an alarm, or in a room an alarm woke: not yet.
      return false;
    }
  }

  sockets(connectionId?: string): Iterable<HostSocket<State>> {
    return this.#room.getConnections<State>(connectionId) as Iterable<HostSocket<State>>;
  }

  /** PartyKit answers no ping by itself: every ping reaches the room as a message. */
  now(): number {
    return Date.now();
  }

  pingedAt(): null {
    return null;
  }
}

function roomId(room: Party.Room): string | null {
  try {
    return room.id;
  } catch {
    // Inside an alarm, room.id throws (partykit 0.0.115).
    return null;
  }
}

/**
 * A room's way to the other parties. PartyKit gives it (`room.context.parties`) only outside
 * `onAlarm`, and not at all to a room an alarm woke until a request or message arrives; so
 * rooms capture it whenever they can, and work that needs it waits (in an outbox) until then.
 * Used by the channel room (reports to the directory) and the directory (changes to watchers).
 */
import type * as Party from "partykit/server";
import { INTERNAL_HEADER } from "./parties.ts";

/** The other parties, once captured. */
export class PartyLink {
  readonly #room: Party.Room;
  #parties: Party.Context["parties"] | null = null;

  constructor(room: Party.Room) {
    this.#room = room;
  }

  /** Takes the parties now if PartyKit allows it here; a no-op once taken. */
  capture(): void {
    if (this.#parties) return;
    try {
      this.#parties = this.#room.context.parties;
    } catch {
      // In an alarm, or woken by one: not yet.
    }
  }

  /** Whether requests can be sent now. */
  get ready(): boolean {
    this.capture();
    return this.#parties !== null;
  }

  /** POSTs a JSON body to a room of another party as an internal request; null when the parties are not reachable yet. */
  post(party: string, room: string, body: unknown): Promise<Response> | null {
    this.capture();
    const stub = this.#parties?.[party]?.get(room);
    if (!stub) return null;
    return stub.fetch({ method: "POST", headers: { [INTERNAL_HEADER]: "1", "content-type": "application/json" }, body: JSON.stringify(body) });
  }
}

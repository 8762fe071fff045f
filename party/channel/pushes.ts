/**
 * A channel room's part in pushes: delivering to its clients of a user (for whoever runs the
 * push), and running a push itself when the directory is off (the edge names the channel) or
 * a member pushes to another (PRESENCE_CLIENT_PUSH). Push ids are remembered in the room's
 * storage, so a repeat within 10 minutes answers as the first time.
 */
import type { HostStorage } from "../server/host.ts";
import type { HeldPush, Push, PushDelivery, PushResult, ServerMessage } from "../protocol/index.ts";
import { mergeDeliveries, type PushLog, storagePushLog } from "../server/pushes.ts";
import type { PresenceState } from "./presence.ts";
import { PushDesk } from "./push-desk.ts";

/** What the room's pushes need from it. */
export type PushRoom = {
  storage: HostStorage;
  state: PresenceState;
  channel: () => string;
  send: (connectionId: string, message: ServerMessage) => void;
};

/** Pushes through one channel room. */
export class ChannelPushes {
  readonly #room: PushRoom;
  readonly #desk: PushDesk;
  readonly #log: PushLog;

  constructor(room: PushRoom) {
    this.#room = room;
    this.#desk = new PushDesk(room.send, room.channel);
    this.#log = storagePushLog(room.storage);
  }

  /** The push ids remembered in storage, so they are forgotten in time after a restart. */
  load(): Promise<void> {
    return this.#log.load();
  }

  /** When a remembered push id next expires, or null. */
  nextExpiry(): number | null {
    return this.#log.nextExpiry();
  }

  /** Forgets expired push ids. */
  sweep(now: number): Promise<void> {
    return this.#log.sweep(now);
  }

  /** Delivers a push to the user's live clients here (of its clientType, when it names one). */
  deliver(push: Push, now = Date.now()): Promise<PushDelivery> {
    const targets = this.#room.state
      .clientsOf(push.userId)
      .filter((client) => client.live && (push.clientType === undefined || client.clientType === push.clientType));
    return this.#desk.deliver(push, targets, now);
  }

  /** Runs a push through this room only (once per id), from the app server (`from` null) or a member. */
  run(push: Push, now = Date.now()): Promise<PushResult> {
    return this.#log.run(push.id, now, async () => mergeDeliveries(push.id, [{ channel: this.#room.channel(), delivery: await this.deliver(push, now) }]));
  }

  /** A client answered a push. */
  ack(connectionId: string, id: string, ok: boolean, error?: string): void {
    this.#desk.ack(connectionId, id, ok, error);
  }

  /** A member's socket connected: it gets the pushes for its user still waiting. */
  connected(connectionId: string, userId: string, clientType: string | undefined): void {
    this.#desk.connected(connectionId, userId, clientType);
  }

  /** The pushes waiting for a client's answer, as an HTTP client's heartbeat returns them. */
  waiting(connectionId: string): HeldPush[] {
    const channel = this.#room.channel();
    return this.#desk.waiting(connectionId).map((push) => ({ id: push.id, data: push.data, channel, from: push.from }));
  }

  /** A socket ended: its deliveries count it closed unless it comes back before their deadline. */
  forget(connectionId: string): void {
    this.#desk.forget(connectionId);
  }
}

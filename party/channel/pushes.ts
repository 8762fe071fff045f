/**
 * A channel's part in pushes: delivering to its clients of a user for whoever runs the push
 * (a `deliver` call from the user's directory part), and running a push itself when the
 * directory is off (a `push` call from the edge) or a member pushes to another member
 * (PRESENCE_CLIENT_PUSH). Each push id runs once: its answer is remembered for 10 minutes in
 * the room's storage (`x:ID`), so a repeat answers as the first did. Pure: calls that wait are
 * answered with `answer` effects, a member with a `pushed` frame, the log with `write` effects.
 */
import type { Push, PushDelivery, PushResult } from "../protocol/index.ts";
import { type LoggedPush, mergeDeliveries, PUSH_ID_TTL_MS } from "../server/pushes.ts";
import type { Channel } from "./channel.ts";
import { PushDesk } from "./push-desk.ts";

/** Where remembered push ids are kept. */
export const PUSH_LOG_PREFIX = "x:";

/** Who waits for a push here: a call to answer (with the delivery, or the whole result), or a member's socket. */
type Waiter = { ticket: number; wants: "delivery" | "result" } | { connectionId: string; instance: string };

/** Pushes through one channel room. */
export class ChannelPushes {
  readonly #channel: Channel;
  readonly #desk: PushDesk;
  readonly #waiters = new Map<string, Waiter[]>();
  /** Pushes this room ran, remembered until they expire. */
  readonly #log = new Map<string, LoggedPush>();

  constructor(channel: Channel) {
    this.#channel = channel;
    this.#desk = new PushDesk(channel.name, channel.sockets);
  }

  /** The push ids remembered in storage (the caller read them), so a repeat after a restart answers as the first. */
  restore(logged: ReadonlyMap<string, LoggedPush>): void {
    this.#log.clear();
    for (const [id, entry] of logged) this.#log.set(id, entry);
  }

  /** A coordinator asks this room to deliver: answered with the delivery (`ticket`) once the clients answered or at the deadline. */
  deliver(push: Push, ticket: number, now: number): void {
    this.#wait(push.id, { ticket, wants: "delivery" });
    this.#start(push, now);
  }

  /**
   * Runs a push through this room only, from the app server (a call: `ticket`) or a member (its
   * socket): a push id seen within 10 minutes is answered as before, one still running is
   * answered with it.
   */
  run(push: Push, waiter: { ticket: number } | { connectionId: string; instance: string }, now: number): void {
    const logged = this.#log.get(push.id);
    if (logged && logged.expiresAt > now) return this.#tell("ticket" in waiter ? { ...waiter, wants: "result" } : waiter, logged.result);
    this.#wait(push.id, "ticket" in waiter ? { ...waiter, wants: "result" } : waiter);
    this.#start(push, now);
  }

  /** A client answered a push. */
  ack(connectionId: string, id: string, ok: boolean, error?: string): void {
    this.#desk.ack(connectionId, id, ok, error);
  }

  /** A member's client connected: it gets the pushes for its user still waiting. */
  connected(connectionId: string, userId: string, clientType: string | undefined, now: number): void {
    this.#desk.connected(connectionId, userId, clientType, now);
  }

  /** The pushes waiting for a client's answer, as an HTTP client's heartbeat returns them. */
  waiting(connectionId: string): Array<{ id: string; data: Push["data"]; channel: string; from: string | null }> {
    return this.#desk.waiting(connectionId).map((push) => ({ id: push.id, data: push.data, channel: this.#channel.name, from: push.from }));
  }

  /** A socket ended: its deliveries count it closed unless it comes back before their deadline. */
  forget(connectionId: string): void {
    this.#desk.forget(connectionId);
  }

  /** Deadlines and remembered ids that ran out by `now`. */
  expire(now: number): void {
    this.#desk.expire(now);
    const expired = [...this.#log].filter(([, entry]) => entry.expiresAt <= now).map(([id]) => id);
    for (const id of expired) this.#log.delete(id);
    this.#channel.out.write([], expired.map((id) => PUSH_LOG_PREFIX + id));
  }

  /** When a delivery's deadline or a remembered id's expiry comes next, or null. */
  nextDeadline(): number | null {
    let next = this.#desk.nextDeadline() ?? Infinity;
    for (const { expiresAt } of this.#log.values()) next = Math.min(next, expiresAt);
    return Number.isFinite(next) ? next : null;
  }

  /** Answers everyone waiting for the deliveries that finished (after an ack, a close, a deadline). */
  answerSettled(now: number): void {
    for (const { id, delivery } of this.#desk.takeSettled()) {
      this.#count(delivery);
      const waiters = this.#waiters.get(id) ?? [];
      this.#waiters.delete(id);
      let result: PushResult | null = null;
      for (const waiter of waiters) {
        if ("ticket" in waiter && waiter.wants === "delivery") {
          this.#channel.out.answer(waiter.ticket, delivery satisfies PushDelivery);
          continue;
        }
        if (result === null) {
          result = mergeDeliveries(id, [{ channel: this.#channel.name, delivery }]);
          const entry: LoggedPush = { result, expiresAt: now + PUSH_ID_TTL_MS };
          this.#log.set(id, entry);
          this.#channel.out.write([[PUSH_LOG_PREFIX + id, entry]]);
        }
        this.#tell(waiter, result);
      }
    }
  }

  /** A finished delivery in the room's counters: one push delivered, and each client's answer. */
  #count(delivery: PushDelivery): void {
    const { stats } = this.#channel;
    stats.count("pushes", "delivered");
    stats.count("pushes", "acked", delivery.acked.length);
    for (const miss of delivery.unacked) stats.count("pushes", miss.reason);
  }

  #tell(waiter: Waiter, result: PushResult): void {
    if ("ticket" in waiter) this.#channel.out.answer(waiter.ticket, result);
    else this.#channel.out.send(waiter.connectionId, { type: "pushed", result }, waiter.instance);
  }

  #wait(id: string, waiter: Waiter): void {
    const list = this.#waiters.get(id);
    if (list) list.push(waiter);
    else this.#waiters.set(id, [waiter]);
  }

  /** Sends the push to the user's live clients here (of its clientType, when it names one), unless it is on its way already. */
  #start(push: Push, now: number): void {
    if (this.#desk.running(push.id)) return;
    const targets = this.#channel.members
      .clientsOf(push.userId)
      .filter((client) => client.live && (push.clientType === undefined || client.clientType === push.clientType));
    this.#desk.deliver(push, targets, now);
    // Its deadline is new: a tick moves the room's alarm to it (a push nobody answers is settled then).
    if (this.#desk.running(push.id)) this.#channel.out.tick();
  }
}

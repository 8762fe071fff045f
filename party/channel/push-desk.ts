/**
 * A channel's deliveries in flight: each push sent to the user's live clients here, waiting
 * for their acks until its deadline. A client of the user that (re)connects meanwhile gets it
 * too unless it already answered, so a reconnect mid-push loses nothing (at least once; the
 * client drops a repeated id). Closes mid-push are remembered, so the answer can say `closed`
 * rather than `timeout`. Pure: frames go into the outbox, deadlines are met by `expire(now)` on
 * the room's tick, and each finished delivery is handed to `settled`, which the owner reads.
 */
import type { Push, PushDelivery, PushMiss, PushTarget, ServerMessage } from "../protocol/index.ts";

type Answer = { ok: true } | { ok: false; error: string };
type Target = { clientType: string | undefined; answer: Answer | null; live: boolean };
type Delivery = { push: Push; targets: Map<string, Target> };

/** A finished delivery: its push id and what it came to. */
export type Settled = { id: string; delivery: PushDelivery };

/** Where push frames go: a frame that asks for an answer (SocketBook.ask credits the socket's rate for it). */
export type PushSender = { ask(connectionId: string, message: ServerMessage, now: number): void };

/** The deliveries a channel is running. */
export class PushDesk {
  readonly #channel: string;
  readonly #sender: PushSender;
  readonly #deliveries = new Map<string, Delivery>();
  /** Deliveries finished since the owner last took them. */
  #settled: Settled[] = [];

  constructor(channel: string, sender: PushSender) {
    this.#channel = channel;
    this.#sender = sender;
  }

  /** Whether a push with this id is being delivered here. */
  running(id: string): boolean {
    return this.#deliveries.has(id);
  }

  /** Sends a push to these clients; it settles once each answered, or at its deadline (at once with none). */
  deliver(push: Push, targets: Array<{ connectionId: string; clientType: string | undefined }>, now: number): void {
    if (this.#deliveries.has(push.id)) return;
    const delivery: Delivery = { push, targets: new Map(targets.map((t) => [t.connectionId, { clientType: t.clientType, answer: null, live: true }])) };
    this.#deliveries.set(push.id, delivery);
    for (const connectionId of delivery.targets.keys()) this.#sender.ask(connectionId, this.#frame(push), now);
    if (targets.length === 0) this.#finish(push.id);
  }

  /** A client answered a push. An answer to a push it was not sent (or an old one) is ignored. */
  ack(connectionId: string, id: string, ok: boolean, error?: string): void {
    const delivery = this.#deliveries.get(id);
    const target = delivery?.targets.get(connectionId);
    if (!delivery || !target || target.answer) return;
    target.answer = ok ? { ok: true } : { ok: false, error: error ?? "the client's handler failed" };
    if ([...delivery.targets.values()].every((t) => t.answer)) this.#finish(id);
  }

  /** A client of `userId` connected (or came back): it gets every push for its user still waiting for it. */
  connected(connectionId: string, userId: string, clientType: string | undefined, now: number): void {
    for (const delivery of this.#deliveries.values()) {
      if (delivery.push.userId !== userId) continue;
      if (delivery.push.clientType !== undefined && delivery.push.clientType !== clientType) continue;
      const target = delivery.targets.get(connectionId);
      if (target?.answer) continue;
      if (target) target.live = true;
      else delivery.targets.set(connectionId, { clientType, answer: null, live: true });
      this.#sender.ask(connectionId, this.#frame(delivery.push), now);
    }
  }

  /** The pushes a client has not answered yet (an HTTP client collects them with its heartbeat). */
  waiting(connectionId: string): Push[] {
    const pushes: Push[] = [];
    for (const delivery of this.#deliveries.values()) {
      const target = delivery.targets.get(connectionId);
      if (target && !target.answer) pushes.push(delivery.push);
    }
    return pushes;
  }

  /** A client's socket ended (it may still come back before a deadline). */
  forget(connectionId: string): void {
    for (const delivery of this.#deliveries.values()) {
      const target = delivery.targets.get(connectionId);
      if (target) target.live = false;
    }
  }

  /** Settles the deliveries whose deadline has passed by `now`. */
  expire(now: number): void {
    for (const [id, delivery] of [...this.#deliveries]) if (delivery.push.deadline <= now) this.#finish(id);
  }

  /** The earliest deadline of a delivery in flight, or null. */
  nextDeadline(): number | null {
    let next = Infinity;
    for (const { push } of this.#deliveries.values()) next = Math.min(next, push.deadline);
    return Number.isFinite(next) ? next : null;
  }

  /** The deliveries that finished since the last call. */
  takeSettled(): Settled[] {
    const settled = this.#settled;
    this.#settled = [];
    return settled;
  }

  #frame(push: Push): ServerMessage {
    return { type: "push", id: push.id, data: push.data, channel: this.#channel, from: push.from };
  }

  #finish(id: string): void {
    const delivery = this.#deliveries.get(id);
    if (!delivery) return;
    this.#deliveries.delete(id);
    const channel = this.#channel;
    const acked: PushTarget[] = [];
    const unacked: PushMiss[] = [];
    for (const [connectionId, target] of delivery.targets) {
      const who: PushTarget = target.clientType === undefined ? { channel, connectionId } : { channel, connectionId, clientType: target.clientType };
      if (target.answer?.ok) acked.push(who);
      else if (target.answer) unacked.push({ ...who, reason: "rejected", error: target.answer.error });
      else unacked.push({ ...who, reason: target.live ? "timeout" : "closed" });
    }
    this.#settled.push({ id, delivery: { acked, unacked } });
  }
}

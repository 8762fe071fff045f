/**
 * A channel room's pushes in flight: each sent to the user's live clients here, waiting for
 * their acks until its deadline. A client of the user that (re)connects meanwhile gets it too
 * unless it already answered, so a reconnect mid-push loses nothing (at least once; the
 * client drops a repeated id). Closes mid-push are remembered, so the answer can say
 * `closed` rather than `timeout`.
 */
import type { Push, PushDelivery, PushMiss, PushTarget, ServerMessage } from "../protocol/index.ts";

type Answer = { ok: true } | { ok: false; error: string };
type Target = { clientType: string | undefined; answer: Answer | null; live: boolean };
type Delivery = {
  push: Push;
  targets: Map<string, Target>;
  done: (reply: PushDelivery) => void;
  timer: ReturnType<typeof setTimeout>;
  reply: Promise<PushDelivery>;
};

/** Sends a frame to the socket(s) of a connection id. */
export type PushSender = (connectionId: string, message: ServerMessage) => void;

/** The pushes a room is delivering. */
export class PushDesk {
  readonly #deliveries = new Map<string, Delivery>();
  readonly #send: PushSender;
  readonly #channel: () => string;

  constructor(send: PushSender, channel: () => string) {
    this.#send = send;
    this.#channel = channel;
  }

  /**
   * Sends a push to these clients and answers once each acked or answered negatively, or at
   * the deadline. The same push id while it runs gets the same answer.
   */
  deliver(push: Push, targets: Array<{ connectionId: string; clientType: string | undefined }>, now: number): Promise<PushDelivery> {
    const running = this.#deliveries.get(push.id);
    if (running) return running.reply;
    let done!: (reply: PushDelivery) => void;
    const reply = new Promise<PushDelivery>((resolve) => (done = resolve));
    const delivery: Delivery = {
      push,
      targets: new Map(targets.map((t) => [t.connectionId, { clientType: t.clientType, answer: null, live: true }])),
      done,
      timer: setTimeout(() => this.#finish(push.id), Math.max(0, push.deadline - now)),
      reply,
    };
    this.#deliveries.set(push.id, delivery);
    for (const connectionId of delivery.targets.keys()) this.#send(connectionId, this.#frame(push));
    if (targets.length === 0) this.#finish(push.id);
    return reply;
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
  connected(connectionId: string, userId: string, clientType: string | undefined): void {
    for (const delivery of this.#deliveries.values()) {
      if (delivery.push.userId !== userId) continue;
      if (delivery.push.clientType !== undefined && delivery.push.clientType !== clientType) continue;
      const target = delivery.targets.get(connectionId);
      if (target?.answer) continue;
      if (target) target.live = true;
      else delivery.targets.set(connectionId, { clientType, answer: null, live: true });
      this.#send(connectionId, this.#frame(delivery.push));
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

  #frame(push: Push): ServerMessage {
    return { type: "push", id: push.id, data: push.data, channel: this.#channel(), from: push.from };
  }

  #finish(id: string): void {
    const delivery = this.#deliveries.get(id);
    if (!delivery) return;
    this.#deliveries.delete(id);
    clearTimeout(delivery.timer);
    const channel = this.#channel();
    const acked: PushTarget[] = [];
    const unacked: PushMiss[] = [];
    for (const [connectionId, target] of delivery.targets) {
      const who: PushTarget = target.clientType === undefined ? { channel, connectionId } : { channel, connectionId, clientType: target.clientType };
      if (target.answer?.ok) acked.push(who);
      else if (target.answer) unacked.push({ ...who, reason: "rejected", error: target.answer.error });
      else unacked.push({ ...who, reason: target.live ? "timeout" : "closed" });
    }
    delivery.done({ acked, unacked });
  }
}

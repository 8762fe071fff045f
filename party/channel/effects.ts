/**
 * What the channel core asks of the engine, as data: frames to sockets, closes, a socket's
 * state to keep, storage rows, calls to other parties, webhook batches, and answers to calls
 * that waited. The core returns them from every input; the service applies them over the host
 * port, in order (see service.ts). Nothing here touches an engine.
 */
import type { CallArgs, CallName, PartyName } from "../protocol/index.ts";
import type { WebhookBatch } from "../server/webhook-outbox.ts";
import type { SocketState } from "./sockets.ts";

/** A call to another party's room, and what it carries. */
export type PartyCall = { [P in PartyName]: { [K in CallName<P>]: { party: P; room: string; name: K; args: CallArgs<P, K> } }[CallName<P>] }[PartyName];

/** One thing for the engine to do. */
export type Effect =
  /** A frame to the socket(s) of a connection id (only the one of `instance`, when given). */
  | { kind: "send"; to: string; instance?: string; text: string }
  /** A frame to every socket, but those whose instance is in `except`. */
  | { kind: "broadcast"; text: string; except?: ReadonlySet<string> }
  /** Closes the socket(s) of a connection id (only the one of `instance`, when given). */
  | { kind: "close"; to: string; instance?: string; code: number; reason: string }
  /** The state a socket keeps across hibernation: the one of `instance`, or a socket of `to` with none yet. */
  | { kind: "remember"; to: string; instance: string; state: SocketState }
  /** Storage rows to put and keys to delete; everything after it waits until storage has them. */
  | { kind: "write"; put: ReadonlyArray<readonly [string, unknown]>; delete: readonly string[] }
  /** Waits until every write so far is durable (storage.sync) before going on. */
  | { kind: "sync" }
  /** A call to another party; its reply (or failure) comes back to the core as `replied(ticket, …)`. */
  | { kind: "call"; ticket: number; call: PartyCall }
  /** One webhook batch to deliver; the attempt comes back as `webhookSettled(n, …)`. */
  | { kind: "webhook"; batch: WebhookBatch }
  /** A call this room took and could not answer at once (a push's delivery) is answered now. */
  | { kind: "answer"; ticket: number; value: unknown }
  /** Something changed: run a tick within the tick's length (one per burst). */
  | { kind: "tick" };

/** Where the core's parts put their effects during one input; `take` hands them over in order. */
export class Outbox {
  #effects: Effect[] = [];
  #tickets = 0;

  /** A frame to a connection id's socket(s). */
  send(to: string, message: object, instance?: string): void {
    this.sendText(to, JSON.stringify(message), instance);
  }

  /** A frame already serialised. */
  sendText(to: string, text: string, instance?: string): void {
    this.#effects.push(instance === undefined ? { kind: "send", to, text } : { kind: "send", to, instance, text });
  }

  /** A frame to every socket (but `except`'s instances). */
  broadcast(text: string, except?: ReadonlySet<string>): void {
    this.#effects.push(except === undefined || except.size === 0 ? { kind: "broadcast", text } : { kind: "broadcast", text, except });
  }

  close(to: string, code: number, reason: string, instance?: string): void {
    const trimmed = reason.slice(0, 120);
    this.#effects.push(instance === undefined ? { kind: "close", to, code, reason: trimmed } : { kind: "close", to, instance, code, reason: trimmed });
  }

  remember(to: string, state: SocketState): void {
    this.#effects.push({ kind: "remember", to, instance: state.instance, state });
  }

  /**
   * Rows to write (nothing when both lists are empty). Writes with nothing between them become
   * one, key by key (the later write wins): a tick's members, history and meta row go to storage
   * in one put, which is also all or nothing.
   */
  write(put: ReadonlyArray<readonly [string, unknown]>, deleted: readonly string[] = []): void {
    if (put.length === 0 && deleted.length === 0) return;
    const last = this.#effects.at(-1);
    if (last?.kind === "write") this.#effects[this.#effects.length - 1] = mergeWrites(last, put, deleted);
    else this.#effects.push({ kind: "write", put, delete: deleted });
  }

  sync(): void {
    this.#effects.push({ kind: "sync" });
  }

  /** A call to another party; returns its ticket. */
  call(call: PartyCall): number {
    const ticket = ++this.#tickets;
    this.#effects.push({ kind: "call", ticket, call });
    return ticket;
  }

  webhook(batch: WebhookBatch): void {
    this.#effects.push({ kind: "webhook", batch });
  }

  answer(ticket: number, value: unknown): void {
    this.#effects.push({ kind: "answer", ticket, value });
  }

  /** Something changed that the next tick must publish. */
  tick(): void {
    this.#effects.push({ kind: "tick" });
  }

  /** A ticket for a call this room took and will answer later. */
  ticket(): number {
    return ++this.#tickets;
  }

  /** The effects so far, in order; the outbox is empty after. */
  take(): Effect[] {
    const effects = this.#effects;
    this.#effects = [];
    return effects;
  }
}

type WriteEffect = Extract<Effect, { kind: "write" }>;

/** One write that leaves storage as `first` then these rows and deletions would (a write puts its rows, then deletes). */
function mergeWrites(first: WriteEffect, put: ReadonlyArray<readonly [string, unknown]>, deleted: readonly string[]): WriteEffect {
  /** Each key's last word: its row, or null for a deletion. */
  const rows = new Map<string, { value: unknown } | null>();
  for (const [key, value] of first.put) rows.set(key, { value });
  for (const key of first.delete) rows.set(key, null);
  for (const [key, value] of put) rows.set(key, { value });
  for (const key of deleted) rows.set(key, null);
  const merged: WriteEffect = { kind: "write", put: [], delete: [] };
  for (const [key, row] of rows) {
    if (row) (merged.put as Array<readonly [string, unknown]>).push([key, row.value]);
    else (merged.delete as string[]).push(key);
  }
  return merged;
}

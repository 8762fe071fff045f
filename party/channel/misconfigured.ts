/**
 * A channel room whose settings are invalid: it serves nothing and says why. The edge already
 * answers 500 before any connect or request reaches it; this covers what bypasses the edge.
 */
import type * as Party from "partykit/server";
import { fail } from "../shared/envelope.ts";
import { CloseCode } from "../shared/protocol.ts";

/** The misconfigured state of a channel room. */
export class Misconfigured {
  readonly #message: string;

  constructor(message: string) {
    this.#message = message;
    console.error(message);
  }

  async start(): Promise<void> {}

  connect(socket: Party.Connection): void {
    socket.close(CloseCode.internalError, "room misconfigured: see the server log");
  }

  message(): void {}

  gone(): void {}

  async request(): Promise<Response> {
    return fail(500, "misconfigured", this.#message);
  }

  async alarm(): Promise<void> {}
}

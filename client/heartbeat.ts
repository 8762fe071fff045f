/**
 * A `PresenceClient`'s heartbeat: a ping every interval the room announced, and a reconnect
 * when nothing at all has been heard for the room's timeout (a half-open connection).
 */
import type { ClientSettings } from "../party/protocol/index.ts";

/** What the heartbeat does on each beat. */
export type Beat = {
  /** Whether the socket is open now (no ping otherwise). */
  open: () => boolean;
  ping: () => void;
  /** Nothing heard for the timeout: start over. */
  silent: () => void;
};

/** Pings on an interval and notices silence. */
export class Heartbeat {
  readonly #beat: Beat;
  #timer: ReturnType<typeof setInterval> | null = null;
  #lastHeard = Date.now();

  constructor(beat: Beat) {
    this.#beat = beat;
  }

  /** Something arrived from the room. */
  heard(): void {
    this.#lastHeard = Date.now();
  }

  /** (Re)starts beating at the room's settings. */
  start(settings: ClientSettings): void {
    this.stop();
    this.#timer = setInterval(() => {
      if (!this.#beat.open()) return;
      if (Date.now() - this.#lastHeard > settings.heartbeatTimeoutMs) this.#beat.silent();
      else this.#beat.ping();
    }, settings.heartbeatIntervalMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}

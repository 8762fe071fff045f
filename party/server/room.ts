/**
 * Every room of every party has one shape (`RoomService`, in host.ts), and one way to come
 * into being: its settings are read once, and a room whose settings are invalid becomes the
 * one misconfigured state, whatever its party. The edge reads settings with the same helper.
 */
import { type Config, readConfig } from "./config.ts";
import { fail, HttpError } from "./envelope.ts";
import type { HostSocket, RoomService } from "./host.ts";
import { CloseCode } from "../protocol/index.ts";

/** The settings of an environment; when they are invalid, throws the 500 `misconfigured` refusal that names each bad variable. */
export function configOr500(env: Readonly<Record<string, unknown>>): Config {
  const settings = readConfig(env);
  if (!settings.ok) throw new HttpError(500, "misconfigured", settings.message);
  return settings.config;
}

/** The party's service for these settings, or the misconfigured state when they are invalid. */
export function roomFor<State>(env: Readonly<Record<string, unknown>>, make: (config: Config) => RoomService<State>): RoomService<State> {
  const settings = readConfig(env);
  return settings.ok ? make(settings.config) : new Misconfigured(settings.message);
}

/**
 * A room whose settings are invalid: it serves nothing and says why. The edge already answers
 * 500 before any connect or request reaches a room; this covers what bypasses the edge.
 */
export class Misconfigured implements RoomService<never> {
  readonly #message: string;

  constructor(message: string) {
    this.#message = message;
    console.error(message);
  }

  async start(): Promise<void> {}

  connect(socket: HostSocket<never>): void {
    socket.close(CloseCode.internalError, "room misconfigured: see the server log");
  }

  message(): void {}

  closed(): void {}

  async request(): Promise<Response> {
    return fail(500, "misconfigured", this.#message);
  }

  async alarm(): Promise<void> {}

  reachable(): void {}
}

/**
 * A room whose name its party does not serve (an index room that is neither the root nor a
 * ban replica): it serves nothing and says why. The edge refuses such names from outside; this
 * covers a call the service's own code should never make.
 */
export class NoSuchRoom implements RoomService<never> {
  readonly #message: string;

  constructor(message: string) {
    this.#message = message;
  }

  async start(): Promise<void> {}

  connect(socket: HostSocket<never>): void {
    // A close reason holds at most 123 bytes; the request's answer has all of it.
    socket.close(CloseCode.policyViolation, this.#message.slice(0, 120));
  }

  message(): void {}

  closed(): void {}

  async request(): Promise<Response> {
    return fail(404, "not_found", this.#message);
  }

  async alarm(): Promise<void> {}

  reachable(): void {}
}

/**
 * A room whose service depends on its name, chosen when the room starts: on PartyKit a room an
 * alarm woke learns its name only while loading (PartyKitHost.load), after it was made. Every
 * other callback comes after `start` (the adapters hold them until it resolves).
 */
export class ChosenAtStart<State> implements RoomService<State> {
  readonly #choose: () => RoomService<State>;
  #service: RoomService<State> | null = null;

  constructor(choose: () => RoomService<State>) {
    this.#choose = choose;
  }

  start(): Promise<void> {
    this.#service = this.#choose();
    return this.#service.start();
  }

  connect(socket: HostSocket<State>, request: Request): void {
    this.#chosen().connect(socket, request);
  }

  message(socket: HostSocket<State>, frame: string | ArrayBuffer | ArrayBufferView): void {
    this.#chosen().message(socket, frame);
  }

  closed(socket: HostSocket<State>): void {
    this.#chosen().closed(socket);
  }

  request(request: Request): Promise<Response> {
    return this.#chosen().request(request);
  }

  alarm(): Promise<void> {
    return this.#chosen().alarm();
  }

  reachable(): void {
    this.#service?.reachable();
  }

  #chosen(): RoomService<State> {
    if (this.#service === null) throw new Error("a room was used before it started");
    return this.#service;
  }
}

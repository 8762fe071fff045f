// @ts-check
/**
 * The bench's devices scenario (HTTP clients: members kept alive by heartbeats, no socket), on
 * one room of one engine: heartbeats per second the room sustains (one in flight, and many),
 * beside a herenow read of the same room timed the same way (the same edge, the same room: the
 * cheapest request it answers); then a fleet of devices created and renewed in batches of
 * 1,000, beside the same renewals sent one PUT per device.
 */
import { timeLoop } from "./http.mjs";

/** @typedef {import("./server.mjs").Server} Server */
/** @typedef {import("./http.mjs").Timing} Loop */
/**
 * @typedef {{
 *   engine: string; inFlight: number;
 *   heartbeat: Loop; herenow: Loop; heartbeatParallel: Loop; herenowParallel: Loop;
 *   fleet: { devices: number; batch: number; createMs: number; renewMs: number; singles: number; singlesMs: number; clientAmount: number; refused: number };
 * }} DevicesResult
 */

/**
 * @param {Server} server @param {string} engine
 * @param {{ loopMs: number; devices: number; batch: number; inFlight: number }} options @returns {Promise<DevicesResult>}
 */
export async function devicesBench(server, engine, options) {
  const tag = Date.now().toString(36);
  const room = `devices-${tag}`;
  const base = `http://${server.host}/parties/main/${room}`;
  const json = { "content-type": "application/json" };
  /** @param {string} id @param {string} userId */
  const put = async (id, userId) => {
    const response = await fetch(`${base}/clients/${id}`, { method: "PUT", headers: json, body: JSON.stringify({ userId, ttlMs: 60_000 }), signal: AbortSignal.timeout(15_000) });
    await response.text();
    return response.status === 200;
  };
  const read = async () => {
    const response = await fetch(`${base}?includeUsers=true&limit=10`, { signal: AbortSignal.timeout(15_000) });
    await response.text();
    return response.status === 200;
  };
  // Warm both paths up, then time them the same way: one device renewed over and over, herenow of the room it is in.
  for (let i = 0; i < 50; i++) await Promise.all([put("warm", "warm"), read()]);
  const loop = { herenowMs: options.loopMs, herenowMax: 1_000_000 };
  const heartbeat = await timeLoop(() => put("hb-0", "hb-0"), loop);
  const herenow = await timeLoop(read, loop);
  // Many devices at once: each loop renews its own.
  let next = 0;
  const heartbeatParallel = await timeLoop(() => {
    const n = next++ % options.inFlight;
    return put(`hb-${n}`, `hb-${n}`);
  }, loop, options.inFlight);
  const herenowParallel = await timeLoop(read, loop, options.inFlight);

  // The fleet, in a room of its own: created, then renewed, in batches (a gateway reporting its devices).
  const fleetBase = `http://${server.host}/parties/main/fleet-${tag}`;
  let refused = 0;
  /** @param {number} from */
  const batch = async (from) => {
    const clients = Array.from({ length: options.batch }, (_, i) => ({ clientId: `d-${from + i}`, userId: `machine-${from + i}`, ttlMs: 600_000 }));
    const response = await fetch(`${fleetBase}/clients`, { method: "POST", headers: json, body: JSON.stringify({ clients }), signal: AbortSignal.timeout(60_000) });
    const body = await response.json();
    if (response.status !== 200) throw new Error(`a batch failed: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
    refused += body.content.clients.filter((/** @type {{ error?: string }} */ c) => c.error !== undefined).length;
    return body.content.clientAmount;
  };
  /** Every batch once, one after the other; returns the ms it took and the last clientAmount. */
  const round = async () => {
    const t0 = performance.now();
    let clientAmount = 0;
    for (let from = 0; from < options.devices; from += options.batch) clientAmount = await batch(from);
    return { ms: performance.now() - t0, clientAmount };
  };
  const created = await round();
  const renewed = await round();
  // The same renewals one PUT per device (a slice of the fleet, sequential, as a device fleet without a gateway would send them).
  const singles = Math.min(options.batch, options.devices);
  const t0 = performance.now();
  for (let i = 0; i < singles; i++) {
    const response = await fetch(`${fleetBase}/clients/d-${i}`, { method: "PUT", headers: json, body: JSON.stringify({ userId: `machine-${i}`, ttlMs: 600_000 }), signal: AbortSignal.timeout(15_000) });
    await response.text();
    if (response.status !== 200) refused++;
  }
  const singlesMs = performance.now() - t0;
  return {
    engine,
    inFlight: options.inFlight,
    heartbeat,
    herenow,
    heartbeatParallel,
    herenowParallel,
    fleet: { devices: options.devices, batch: options.batch, createMs: created.ms, renewMs: renewed.ms, singles, singlesMs, clientAmount: renewed.clientAmount, refused },
  };
}

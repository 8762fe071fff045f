/**
 * A device simulator, as seed 002's heartbeat page but for machines without a browser: each
 * machine reports every 5 s over HTTP (`api.heartbeat`), with a 15 s TTL. Powering one off stops
 * its reports without a goodbye, the way a machine losing power would: the service counts it
 * offline once its TTL runs out. Powering it on reports at once, and it is online again.
 */

/** How often a machine reports, and how long the service trusts a report. */
export const REPORT_EVERY_MS = 5_000;
export const TTL_MS = 15_000;

const MACHINES = [
  { id: "press-1", data: { kind: "press", hall: "A" } },
  { id: "lathe-2", data: { kind: "lathe", hall: "A" } },
  { id: "robot-3", data: { kind: "robot arm", hall: "B" } },
];

/** Starts the machines of `channel`, reporting through `api` (createPresenceApi with the server key). */
export function simulate(api, channel) {
  const machines = MACHINES.map((machine) => ({ ...machine, timer: null }));

  const report = (machine) =>
    api.heartbeat(channel, machine.id, { userId: machine.id, data: machine.data, ttlMs: TTL_MS }).catch((error) => {
      console.error(`${machine.id} could not report: ${error.message}`);
    });

  const power = (machine, on) => {
    clearInterval(machine.timer);
    machine.timer = null;
    if (!on) return Promise.resolve();
    machine.timer = setInterval(() => report(machine), REPORT_EVERY_MS);
    return report(machine);
  };

  const ready = Promise.all(machines.map((machine) => power(machine, true)));
  return {
    ready,
    /** The machines and whether each is powered (reporting). */
    list: () => machines.map(({ id, data, timer }) => ({ id, data, powered: timer !== null })),
    /** Powers a machine on or off; false for an unknown id. */
    async power(id, on) {
      const machine = machines.find((m) => m.id === id);
      if (!machine) return false;
      await power(machine, on);
      return true;
    },
    /** Stops every machine's reports (they go offline when their TTL runs out). */
    stop: () => machines.forEach((machine) => power(machine, false)),
  };
}

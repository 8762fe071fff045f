/**
 * Starts a real dev server for the tests, of the engine the test project runs on
 * (`PRESENCE_ENGINE`: `partykit`, the default, runs `partykit dev`; `workers` runs `wrangler
 * dev` on partyserver): a free port, its own persist dir, the given PRESENCE_* vars. Used by
 * the global setups and by tests that kill and restart a server.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * Set to a file path, the shared dev server's whole output is written there when the run ends
 * (wrangler's at debug level): what to read when a request hangs or a room misbehaves.
 */
export const SERVER_LOG_VAR = "PRESENCE_TEST_SERVER_LOG";

/** Writes the server's output to the file PRESENCE_TEST_SERVER_LOG names, if it names one. */
export function keepServerLog(server: DevServer | undefined): void {
  const path = process.env[SERVER_LOG_VAR];
  if (path && server) writeFileSync(path, server.log());
}

/** The engines the service runs on. */
export type Engine = "partykit" | "workers";

/** The engine of this test run (the vitest project sets PRESENCE_ENGINE). */
export const ENGINE: Engine = process.env.PRESENCE_ENGINE === "workers" ? "workers" : "partykit";

/** A running dev server. */
export type DevServer = {
  engine: Engine;
  host: string;
  port: number;
  persistDir: string;
  /** Stops it (SIGTERM to its process group, then SIGKILL). */
  stop(): Promise<void>;
  /** Kills it at once with SIGKILL, as a crash would. */
  kill9(): Promise<void>;
  /** Everything it printed, for failure messages. */
  log(): string;
};

/** Timings short enough for tests, long enough for a loaded 2-core machine. */
export const TEST_VARS: Record<string, string> = {
  PRESENCE_GRACE_MS: "1000",
  PRESENCE_TICK_MS: "50",
  PRESENCE_HEARTBEAT_INTERVAL_MS: "1000",
  PRESENCE_HEARTBEAT_TIMEOUT_MS: "4000",
};

/** A TCP port nobody listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** How to start a dev server. */
export type DevServerOptions = {
  vars?: Record<string, string>;
  persistDir?: string;
  port?: number;
  /** The path polled until it answers (default `/herenow?channel=ready-check`). */
  readyPath?: string;
  /**
   * Ready at any status the service itself answers, not only a 200 (for a room that is meant
   * to be misconfigured): still a JSON envelope, so an engine's own error page while it starts
   * (not JSON) is not taken for the service.
   */
  readyOnAnyStatus?: boolean;
  /** The engine (default: this run's, ENGINE). */
  engine?: Engine;
  /** Workers only: the wrangler config to run (default: the repository's wrangler.jsonc). */
  wranglerConfig?: string;
};

/** How long one start may take before it is given up and tried again. */
const START_ATTEMPT_MS = 30_000;
/** Starts tried before giving up: workerd has been seen to hang at start on a loaded machine. */
const START_ATTEMPTS = 3;

/**
 * Starts the dev server and waits until it answers HTTP. A start that has not answered
 * within 30 s (it takes ~1.5 s for partykit, ~3 s for wrangler here) is killed and tried
 * again, said on stderr, up to three times: under load, workerd has hung after "starting
 * server..." without a word.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "presence-test-"));
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ ...options, persistDir }, await (options.port ?? freePort()));
    } catch (error) {
      if (!(error instanceof StartTimeout) || attempt >= START_ATTEMPTS) throw error;
      console.warn(`${options.engine ?? ENGINE} dev start ${attempt} of ${START_ATTEMPTS} hung; trying again. ${error.message}`);
    }
  }
}

/** A start that did not answer in time (as opposed to one that failed). */
class StartTimeout extends Error {}

/** The command line of an engine's dev server. */
async function devArgs(engine: Engine, port: number, persistDir: string, vars: Record<string, string>, wranglerConfig?: string): Promise<string[]> {
  if (engine === "partykit") {
    return [
      join(ROOT, "node_modules/partykit/dist/bin.mjs"),
      "dev",
      "--disable-request-cf-fetch",
      "--no-hotkeys",
      "--port",
      String(port),
      "--persist",
      persistDir,
      ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}=${value}`]),
    ];
  }
  return [
    join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    ...(wranglerConfig ? ["--config", wranglerConfig] : []),
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    persistDir,
    "--show-interactive-dev-session=false",
    "--log-level",
    process.env[SERVER_LOG_VAR] ? "debug" : "warn",
    ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
  ];
}

async function startOnce(options: DevServerOptions & { persistDir: string }, port: number): Promise<DevServer> {
  const persistDir = options.persistDir;
  const engine = options.engine ?? ENGINE;
  const vars = { ...TEST_VARS, ...options.vars };
  const args = await devArgs(engine, port, persistDir, vars, options.wranglerConfig);
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const host = `127.0.0.1:${port}`;

  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
    await Promise.race([exited, sleep(5000)]);
  };
  const server: DevServer = {
    engine,
    host,
    port,
    persistDir,
    log: () => output,
    stop: async () => {
      await signal("SIGTERM");
      await signal("SIGKILL");
      await waitPortClosed(port);
    },
    kill9: async () => {
      await signal("SIGKILL");
      await waitPortClosed(port);
    },
  };
  try {
    await waitReady(engine, `http://${host}${options.readyPath ?? "/herenow?channel=ready-check"}`, options.readyOnAnyStatus ?? false, child, () => output);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function waitReady(engine: Engine, url: string, anyStatus: boolean, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + START_ATTEMPT_MS;
  let lastAnswer = "none";
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${engine} dev exited early:\n${log()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const body = await response.text();
      if (response.status === 200 || (anyStatus && isServiceAnswer(body))) return;
      lastAnswer = `${response.status} ${body.slice(0, 200)}`;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new StartTimeout(`${engine} dev did not answer within ${START_ATTEMPT_MS / 1000} s (last answer: ${lastAnswer}):\n${log()}`);
}

/** Whether a body is the service's own JSON envelope (`{ code, ... }`), not an engine's error page. */
function isServiceAnswer(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === "object" && parsed !== null && "code" in parsed;
  } catch {
    return false;
  }
}

async function waitPortClosed(port: number) {
  for (let i = 0; i < 50; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(200) });
    } catch {
      return;
    }
    await sleep(100);
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * No socket hears a change that a crash can undo. On the in-memory host with "lazy" storage
 * (a write is durable only once `sync` confirms it, which takes a while: an engine that
 * confirms writes after `put` resolved), members join in a steady stream, so connects keep
 * arriving while a tick's writes wait for confirmation; the engine then crashes at one moment
 * or another, keeping only confirmed rows. Every member any socket was told of, in a diff or
 * a snapshot, must be in what survived. Without the room's `sync` before it sends, or with a
 * snapshot that shows the tick being stored, this fails.
 */
import { describe, expect, it, vi } from "vitest";
import { ChannelService } from "../../party/channel/service.ts";
import type { SocketState } from "../../party/channel/sockets.ts";
import { loadConfig } from "../../party/server/config.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import type { ServerMessage } from "../../party/protocol/index.ts";
import { joinThroughEdge, memoryServiceEach } from "../support/memory-edge.ts";
import type { MemorySocket, MemoryWorld } from "../support/memory-host.ts";
import { WireReader } from "../support/messages.ts";

const ENV = { PRESENCE_GRACE_MS: "5000", PRESENCE_TICK_MS: "50", PRESENCE_HEARTBEAT_TIMEOUT_MS: "600000", PRESENCE_DIRECTORY: "off" };
const config = loadConfig(ENV);
/** How long the engine takes to confirm a tick's writes: longer than the gap between two connects. */
const SYNC_MS = 40;

let world: MemoryWorld;
let edge: EdgeHost;

memoryServiceEach(ENV, (service) => ({ world, edge } = service), 3_000_000);

/** Every member a socket was told is in the channel (online or offline), from its snapshots and diffs. */
function heardOf(socket: MemorySocket): Set<string> {
  const reader = new WireReader();
  const heard = new Set<string>();
  for (const message of socket.sent as ServerMessage[]) {
    const read = reader.read(message);
    if (read.type === "sync") for (const m of read.members) heard.add(m.id);
    if (read.type === "diff") for (const e of read.events) if (e.action !== "leave") heard.add(e.member.id);
  }
  return heard;
}

describe("a crash of the engine", () => {
  for (const crashAfterMs of [95, 130, 170, 215, 260, 333]) {
    it(`loses nothing any socket heard of, crashing ${crashAfterMs} ms into a stream of joins`, async () => {
      const room = await world.room<SocketState>("main", `stream-${crashAfterMs}`);
      room.storage.lazy = true;
      room.storage.syncMs = SYNC_MS;
      const sockets: MemorySocket<SocketState>[] = [await joinThroughEdge(room, edge, "observer", "")];
      // A join every 15 ms: connects land while ticks wait for their writes to be confirmed.
      for (let i = 0; i * 15 < crashAfterMs; i++) {
        sockets.push(await joinThroughEdge(room, edge, `c${i}`, `userId=u${String(i).padStart(2, "0")}`));
        await vi.advanceTimersByTimeAsync(Math.min(15, crashAfterMs - i * 15));
      }
      const heard = new Set(sockets.flatMap((socket) => [...heardOf(socket)]));
      expect(heard.size, "the stream made sockets hear of members before the crash").toBeGreaterThan(0);

      // The engine dies: its sockets with it, and every write it had not confirmed.
      room.storage.crash();
      room.open.clear();
      room.service = new ChannelService(room, config);
      const started = room.service.start();
      await vi.advanceTimersByTimeAsync(SYNC_MS * 2);
      await started;
      const survived = new Set([...room.storage.rows.keys()].filter((key) => key.startsWith("m:")).map((key) => key.slice(2)));
      expect([...heard].filter((id) => !survived.has(id)), "members heard of, lost by the crash").toEqual([]);
    });
  }
});

/** Types of presence-client.mjs, for the TypeScript tests that drive it (written, like it, from docs/protocol.md). */
import { EventEmitter } from "node:events";

export type OutsideMember = {
  id: string;
  data: unknown;
  status: "online" | "offline";
  clients: number;
  clientTypes: Record<string, number>;
  since: number;
  lastSeen: number;
};

export type OutsideEvent = {
  action: "join" | "online" | "update" | "offline" | "leave";
  member: OutsideMember;
  clientAmount: number;
  userAmount: number;
  resync?: true;
};

export type OutsideOptions = {
  host: string;
  channel: string;
  userId?: string;
  userData?: unknown;
  clientType?: string;
  id?: string;
  window?: number;
  token?: string;
  party?: string;
  secure?: boolean;
};

export function decodeMember(tuple: unknown[], now: number): OutsideMember;

export class OutsideClient extends EventEmitter {
  constructor(options: OutsideOptions);
  readonly channel: string;
  readonly connectionId: string;
  userId: string | null;
  members: Map<string, OutsideMember>;
  counts: { clientAmount: number; userAmount: number };
  seq: number;
  mode: "full" | "interval";
  settings: { heartbeatIntervalMs: number; heartbeatTimeoutMs: number; graceMs: number; retentionMs: number } | null;
  self: { connectionId: string; userId: string | null } | null;
  current: boolean;
  events: OutsideEvent[];
  stats: { snapshots: number; mostSnapshotParts: number; splitTicks: number; gaps: number; seqJumps: number; dropped: number[]; reconnects: number };
  ready(): Promise<void>;
  dropNextDiff(): void;
  update(data: unknown): void;
  resync(): void;
  leave(): Promise<void>;
  close(): void;
  hereNow(options?: { includeUsers?: boolean; distinct?: boolean; limit?: number }): Promise<{
    channel: string;
    clientAmount: number;
    userAmount: number;
    clientTypes: Record<string, number>;
    users?: Array<{ id: string; data: unknown; clientType?: string; clientTypes?: Record<string, number> }>;
  }>;
}

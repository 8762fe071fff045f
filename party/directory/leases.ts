/**
 * Each channel room's lease on its users in one directory part: renewed by every report the
 * room sends and trusted until its `expiresAt` (`l:CHANNEL` in the part's deadlines); when it
 * lapses, the part releases its users, last seen at its last renewal. A lease goes when its
 * channel holds no user here. The leases changed this tick come out as rows. Pure.
 */
import type { Deadlines } from "../server/deadlines.ts";

/** A channel room's lease on its users here: trusted until `expiresAt`, last renewed at `renewedAt`. */
export type StoredLease = { channel: string; expiresAt: number; renewedAt: number };

/** A lease's terms, without its channel. */
export type LeaseTerms = Omit<StoredLease, "channel">;

/** A lease as held: its terms and the users its channel holds here. */
export type LeaseRecord = LeaseTerms & { users: Set<string> };

/** The channel leases of one part. */
export class ChannelLeases {
  readonly #leases = new Map<string, LeaseRecord>();
  readonly #deadlines: Deadlines;
  readonly #leaseMs: number;
  /** Channels whose lease changed or went this tick (rows to write or delete). */
  #touched = new Set<string>();

  constructor(deadlines: Deadlines, leaseMs: number) {
    this.#deadlines = deadlines;
    this.#leaseMs = leaseMs;
  }

  /** The channel's lease, if it holds one here. */
  get(channel: string): LeaseRecord | undefined {
    return this.#leases.get(channel);
  }

  /** How many channels hold a lease here. */
  get size(): number {
    return this.#leases.size;
  }

  /** Whether a lease changed this tick. */
  get changed(): boolean {
    return this.#touched.size > 0;
  }

  /** Holds a lease as it was stored (a restart), for no user yet. */
  restore(lease: StoredLease): void {
    this.#set(lease.channel, { expiresAt: lease.expiresAt, renewedAt: lease.renewedAt, users: new Set() });
  }

  /**
   * Adds a user to its channel's lease; a channel with none here gets one on `missing`'s terms
   * (a presence whose lease row is gone is not trusted: a lease that expired goes at the next
   * `expire`). Returns whether the lease is new.
   */
  join(channel: string, userId: string, missing: LeaseTerms): boolean {
    let lease = this.#leases.get(channel);
    const created = !lease;
    if (!lease) this.#set(channel, (lease = { expiresAt: missing.expiresAt, renewedAt: missing.renewedAt, users: new Set() }));
    lease.users.add(userId);
    return created;
  }

  /** As `join`, for a user handed over from another part: a lease made here on the terms it came with is written. */
  adopt(channel: string, userId: string, handed: LeaseTerms): void {
    if (this.join(channel, userId, handed)) this.#touched.add(channel);
  }

  /** The channel's room reported: its lease (made if new) is trusted for another lease period from `now`. */
  renew(channel: string, now: number): LeaseRecord {
    let lease = this.#leases.get(channel);
    if (!lease) this.#leases.set(channel, (lease = { expiresAt: 0, renewedAt: now, users: new Set() }));
    lease.expiresAt = now + this.#leaseMs;
    lease.renewedAt = now;
    this.#deadlines.set(`l:${channel}`, lease.expiresAt);
    this.#touched.add(channel);
    return lease;
  }

  /** The channel's lease was not renewed in time: each of its users is released, last seen at its last renewal, and the lease goes. */
  expire(channel: string, release: (userId: string, lastSeen: number) => void): void {
    const lease = this.#leases.get(channel);
    if (!lease) return;
    for (const userId of [...lease.users]) {
      lease.users.delete(userId);
      release(userId, lease.renewedAt);
    }
    this.drop(channel);
  }

  /** Drops the channel's lease if it holds no user here. */
  drop(channel: string): void {
    const lease = this.#leases.get(channel);
    if (!lease || lease.users.size > 0) return;
    this.#leases.delete(channel);
    this.#deadlines.delete(`l:${channel}`);
    this.#touched.add(channel);
  }

  /** Closes the tick: the rows of the leases that changed, and the channels whose lease went. */
  takeRows(): { upserts: StoredLease[]; deletes: string[] } {
    const rows: { upserts: StoredLease[]; deletes: string[] } = { upserts: [], deletes: [] };
    for (const channel of this.#touched) {
      const lease = this.#leases.get(channel);
      if (lease) rows.upserts.push({ channel, expiresAt: lease.expiresAt, renewedAt: lease.renewedAt });
      else rows.deletes.push(channel);
    }
    this.#touched = new Set();
    return rows;
  }

  /** Holds a channel's lease, due at its `expiresAt`. */
  #set(channel: string, lease: LeaseRecord): void {
    this.#leases.set(channel, lease);
    this.#deadlines.set(`l:${channel}`, lease.expiresAt);
  }
}

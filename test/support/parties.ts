/**
 * Fake parties for unit tests of the parts that call other parties (reporters, the edge's
 * fan-outs): the real `partiesOver`, so each call goes through the real body, envelope and
 * reply check, over a fetch that records the call and answers what the test says.
 */
import { type Parties, partiesOver } from "../../party/server/calls.ts";
import { ok } from "../../party/server/envelope.ts";
import type { PartyName } from "../../party/protocol/index.ts";

/** One call as the fake room received it. */
export type RecordedCall = { party: PartyName; room: string; call: string; args: any };

/** What a fake room answers a call with: a reply (put in the envelope), a whole Response, or an Error to throw. */
export type FakeAnswer = (call: RecordedCall) => unknown | Response | Error | Promise<unknown | Response | Error>;

/** Fake parties: `calls` records every call; `reachable` and `failWith` switch them off or make them fail. */
export function fakeParties(answer: FakeAnswer = () => ({})) {
  const calls: RecordedCall[] = [];
  const control = { reachable: true, failWith: null as number | null };
  const parties: Parties = partiesOver(
    (party, room, init) => {
      if (!control.reachable) return null;
      const { call, args } = JSON.parse(init.body as string) as { call: string; args: unknown };
      const recorded: RecordedCall = { party, room, call, args };
      calls.push(recorded);
      if (control.failWith !== null) return Promise.resolve(new Response("down", { status: control.failWith }));
      return Promise.resolve(answer(recorded)).then((reply) => {
        if (reply instanceof Error) throw reply;
        return reply instanceof Response ? reply : ok(reply);
      });
    },
    () => control.reachable,
  );
  return { parties, calls, control };
}

/**
 * Disconnecting a user, as its coordinator runs it (the user's directory part, or the edge for
 * one channel when the directory is off): one `kick` call per channel room, in parallel, and
 * their answers merged; a room that fails is named, not fatal.
 */
import type { DisconnectResult, Kick, KickedClient } from "../protocol/index.ts";
import { CHANNEL_PARTY } from "../wire/parties.ts";
import type { Parties } from "./calls.ts";

/** Asks each channel's room to kick the user's clients there, and merges what they closed. */
export async function kickEverywhere(parties: Parties, kick: Kick, channels: readonly string[]): Promise<DisconnectResult> {
  type Answer = { channel: string; clients: KickedClient[] } | { channel: string; error: string };
  const answers = await Promise.all(
    channels.map(async (channel): Promise<Answer> => {
      try {
        return { channel, clients: (await parties.call(CHANNEL_PARTY, channel, "kick", kick)).clients };
      } catch (error) {
        return { channel, error: String((error as Error).message) };
      }
    }),
  );
  const result: DisconnectResult = { userId: kick.userId, clients: 0, channels: [] };
  for (const answer of answers) {
    if ("error" in answer) (result.failedChannels ??= []).push({ channel: answer.channel, error: answer.error });
    else if (answer.clients.length > 0) {
      result.channels.push({ channel: answer.channel, clients: answer.clients });
      result.clients += answer.clients.length;
    }
  }
  return result;
}

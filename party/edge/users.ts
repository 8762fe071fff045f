/**
 * `GET /users?userId=A&userId=B…` and `POST /users {userIds}`: the status of up to 1,000 users
 * across channels, asked of the directory parts that hold them (one request per part, in
 * parallel) and answered in one envelope, each user by id.
 */
import { z } from "zod";
import { fail, ok } from "../shared/envelope.ts";
import { byPart } from "../shared/parts.ts";
import { StatusReply, type UserStatus, UserIds, UsersRequest } from "../shared/protocol.ts";

/** Asks one directory part for the status of some of its users. */
export type PartAsker = (part: string, userIds: string[]) => Promise<Response>;

/** Answers a /users request. */
export async function usersAcrossParts(request: Request, url: URL, parts: number, ask: PartAsker): Promise<Response> {
  let ids: unknown;
  if (request.method === "POST") {
    const body = UsersRequest.safeParse(await request.json().catch(() => null));
    if (!body.success) return fail(400, "bad_request", `POST /users takes {"userIds": [...]}: ${z.prettifyError(body.error)}`);
    ids = body.data.userIds;
  } else {
    ids = url.searchParams.getAll("userId");
  }
  const userIds = UserIds.safeParse([...new Set(ids as string[])]);
  if (!userIds.success) return fail(400, "bad_request", z.prettifyError(userIds.error));
  const answers = await Promise.all(
    [...byPart(userIds.data, (id) => id, parts)].map(async ([part, asked]): Promise<UserStatus[] | string> => {
      try {
        const response = await ask(part, asked);
        const body = (await response.json()) as { content?: unknown };
        const reply = StatusReply.safeParse(body.content);
        return reply.success ? reply.data.users.map((entry) => entry.status) : `part ${part} answered ${response.status}`;
      } catch (error) {
        return `part ${part}: ${(error as Error).message}`;
      }
    }),
  );
  const failed = answers.filter((answer): answer is string => typeof answer === "string");
  if (failed.length > 0) return fail(502, "internal", `the user directory failed: ${failed.join(", ")}`);
  const byId = new Map((answers as UserStatus[][]).flat().map((status) => [status.id, status]));
  return ok({ users: Object.fromEntries(userIds.data.map((id) => [id, byId.get(id)!])) });
}

/**
 * `GET /users?userId=A&userId=B…` and `POST /users {userIds}`: the status of up to 1,000 users
 * across channels, asked of the directory parts that hold them (one request per part, in
 * parallel) and answered in one envelope, each user by id.
 */
import { z } from "zod";
import { HttpError, ok } from "../server/envelope.ts";
import { byPart } from "../server/parts.ts";
import type { Parties } from "../server/calls.ts";
import { type UserStatus, UserIds, UsersRequest } from "../protocol/index.ts";
import { DIRECTORY_PARTY } from "../wire/parties.ts";

/** Answers a /users request. */
export async function usersAcrossParts(request: Request, url: URL, parts: number, parties: Parties): Promise<Response> {
  let ids: unknown;
  if (request.method === "POST") {
    const body = UsersRequest.safeParse(await request.json().catch(() => null));
    if (!body.success) throw new HttpError(400, "bad_request", `POST /users takes {"userIds": [...]}: ${z.prettifyError(body.error)}`);
    ids = body.data.userIds;
  } else {
    ids = url.searchParams.getAll("userId");
  }
  const userIds = UserIds.safeParse([...new Set(ids as string[])]);
  if (!userIds.success) throw new HttpError(400, "bad_request", z.prettifyError(userIds.error));
  const answers = await Promise.all(
    [...byPart(userIds.data, (id) => id, parts)].map(async ([part, asked]): Promise<UserStatus[] | string> => {
      try {
        const reply = await parties.call(DIRECTORY_PARTY, part, "status", { userIds: asked });
        return reply.users.map((entry) => entry.status);
      } catch (error) {
        return (error as Error).message;
      }
    }),
  );
  const failed = answers.filter((answer): answer is string => typeof answer === "string");
  if (failed.length > 0) throw new HttpError(502, "internal", `the user directory failed: ${failed.join(", ")}`);
  const byId = new Map((answers as UserStatus[][]).flat().map((status) => [status.id, status]));
  return ok({ users: Object.fromEntries(userIds.data.map((id) => [id, byId.get(id)!])) });
}

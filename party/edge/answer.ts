/**
 * Where the edge's refusals are answered: each entry point (the party hooks in before.ts,
 * edgeFetch in routes.ts) runs its work through `answer`, so a refusal thrown anywhere below it
 * (`HttpError`) becomes the error envelope in one place, with CORS once the settings are known,
 * and a body nobody read is released.
 */
import { HttpError, releaseBody, withCors } from "../server/envelope.ts";

/** What an entry point's work tells its answer. */
export type Answer = {
  /** From now on what goes out (an answer or a refusal) carries the CORS header these settings give the request's origin. */
  cors(allowedOrigins: readonly string[] | null): void;
};

/**
 * Runs an entry point's work. A request it passes on (to a room) goes as it is; a response it
 * returns, or the envelope of a refusal it throws, goes out with CORS when the work set it,
 * after the request's unread body is released (an unread body stalls or fails the next request
 * on a kept-alive connection). Anything else thrown is a bug, and propagates.
 */
export async function answer<T extends Request | Response>(request: Request, work: (answer: Answer) => Promise<T>): Promise<T | Response> {
  let allowed: readonly string[] | null | undefined;
  let result: T | Response;
  try {
    result = await work({ cors: (origins) => void (allowed = origins) });
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    result = error.response();
  }
  if (!(result instanceof Response)) return result;
  await releaseBody(request);
  return allowed === undefined ? result : withCors(result, request.headers.get("origin"), allowed);
}

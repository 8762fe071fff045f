/** The edge's one place for refusals (party/edge/answer.ts): what a hook or route throws, as the client gets it. */
import { describe, expect, it } from "vitest";
import { answer } from "../../party/edge/answer.ts";
import { HttpError, notAllowed, ok } from "../../party/server/envelope.ts";

const from = (origin?: string, init: RequestInit = {}) => new Request("http://h/x", { ...init, headers: origin ? { origin } : {} });

describe("answer", () => {
  it("answers a thrown HttpError with the error envelope, its status and its headers", async () => {
    const response = (await answer(from(), async () => {
      throw notAllowed(["GET", "POST"]);
    })) as Response;
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST");
    expect(await response.json()).toEqual({ code: 405, error: "method_not_allowed", message: "use GET or POST" });
  });

  it("adds CORS to answers and refusals only once the work named the allowed origins", async () => {
    const refuse = async () => {
      throw new HttpError(403, "forbidden", "no");
    };
    expect(((await answer(from("https://app.example"), refuse)) as Response).headers.get("access-control-allow-origin")).toBeNull();
    const allowed = await answer(from("https://app.example"), async (reply) => {
      reply.cors(["https://app.example"]);
      return refuse();
    });
    expect((allowed as Response).headers.get("access-control-allow-origin")).toBe("https://app.example");
    const open = await answer(from("https://any.example"), async (reply) => {
      reply.cors(null);
      return ok(1);
    });
    expect((open as Response).headers.get("access-control-allow-origin")).toBe("*");
  });

  it("releases the body nobody read when it answers, and leaves it to the room when it passes the request on", async () => {
    const refused = from(undefined, { method: "POST", body: "unread" });
    await answer(refused, async () => {
      throw new HttpError(401, "unauthorized", "no");
    });
    expect(refused.bodyUsed).toBe(true);
    const passed = from(undefined, { method: "POST", body: "for the room" });
    expect(await answer(passed, async () => passed)).toBe(passed);
    expect(passed.bodyUsed).toBe(false);
  });

  it("lets anything but an HttpError propagate (a bug is not a refusal)", async () => {
    await expect(
      answer(from(), async () => {
        throw new TypeError("a bug");
      }),
    ).rejects.toThrow("a bug");
  });
});

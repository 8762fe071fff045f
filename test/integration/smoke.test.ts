import { afterEach, describe, expect, inject, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import { freshChannel, getJson, joined, waitFor } from "../support/clients.ts";

const host = inject("host");
const open: PresenceClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

describe("a channel with two users", () => {
  it("shows each member to the other and answers herenow over HTTP", async () => {
    const channel = freshChannel();
    const jack = await joined(host, { channel, userId: "Jack", userData: { age: 18 } });
    open.push(jack);
    const ted = await joined(host, { channel, userId: "Ted" });
    open.push(ted);
    await waitFor("Jack to see Ted", () => jack.member("Ted")?.status === "online");
    const { status, body } = await getJson(host, `/parties/main/${channel}?includeUsers=true&distinct=true`);
    expect(status).toBe(200);
    expect(body).toEqual({
      code: 200,
      content: {
        channels: {
          [channel]: {
            channel,
            clientAmount: 2,
            userAmount: 2,
            clientTypes: {},
            users: [
              { id: "Jack", data: { age: 18 } },
              { id: "Ted", data: null },
            ],
          },
        },
      },
    });
  });
});

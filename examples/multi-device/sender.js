// The sender: which of the user's devices are online, a notice to all of them, and which acknowledged it.
import { PresenceClient } from "partykit-presence/client";

const params = new URLSearchParams(location.search);
const userId = params.get("user") ?? "jack";
const channel = params.get("channel") ?? "shop";
document.querySelector("#user").textContent = userId;

// The user on three devices; in real life these are a browser, a phone app and a desktop app.
document.querySelector("#frames").replaceChildren(
  ...["web", "app", "pc"].map((type) => {
    const frame = document.createElement("iframe");
    frame.name = type;
    frame.src = `/client?user=${userId}&channel=${channel}&type=${type}`;
    return frame;
  }),
);

// An observer of the channel, to show which devices the user is on right now.
const presence = new PresenceClient({ host: process.env.PRESENCE_HOST, channel });
presence.on("members", () => {
  const types = Object.keys(presence.member(userId)?.clientTypes ?? {}).sort();
  const line = document.querySelector("#devices");
  line.dataset.types = types.join(",");
  line.textContent = types.length ? `${userId} is online on: ${types.join(", ")}` : `${userId} is offline`;
});

document.querySelector("#send").onsubmit = async (event) => {
  event.preventDefault();
  const table = document.querySelector("#acks");
  table.textContent = "Sending…";
  const response = await fetch("/notices", { method: "POST", body: JSON.stringify({ userId, text: event.target.elements.text.value }) });
  const result = await response.json();
  const rows = [
    ...result.acked.map((client) => ({ ...client, ok: true, why: "acknowledged" })),
    ...result.unacked.map((client) => ({ ...client, ok: false, why: `not acknowledged: ${client.reason}` })),
  ].sort((a, b) => a.clientType.localeCompare(b.clientType));
  table.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.clientType = row.clientType;
      tr.dataset.acked = String(row.ok);
      tr.innerHTML = `<td></td><td class="${row.ok ? "acked" : "unacked"}">${row.ok ? "✓" : "✗"} ${row.why}</td>`;
      tr.cells[0].textContent = row.clientType;
      return tr;
    }),
  );
};

// The admin page: every member of a channel, people and machines, live (seed 002's admin.html without the polling).
import { PresenceClient } from "partykit-presence/client";

const channel = new URLSearchParams(location.search).get("channel") ?? "factory";
document.querySelector("#channel").textContent = channel;
document.querySelector("#user-link").href = `/user?channel=${encodeURIComponent(channel)}&id=visitor-${Math.floor(Math.random() * 1000)}`;

// No userId: an observer sees the channel without being counted in it.
const presence = new PresenceClient({ host: process.env.PRESENCE_HOST, channel });
let machines = await (await fetch(`/machines?channel=${encodeURIComponent(channel)}`)).json();

async function power(id, on) {
  const response = await fetch("/power", { method: "POST", body: JSON.stringify({ channel, id, on }) });
  machines = await response.json();
  render();
}

function ago(ms) {
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return seconds < 1 ? "now" : `${seconds} s ago`;
}

function render() {
  const { userAmount, clientAmount } = presence.counts;
  document.querySelector("#counts").textContent = `${userAmount} online (${clientAmount} clients)`;
  document.querySelector("#members").replaceChildren(
    ...presence.members.map((member) => {
      const row = document.createElement("tr");
      row.dataset.user = member.id;
      row.dataset.status = member.status;
      const types = Object.keys(member.clientTypes).join(", ") || "—";
      const when = member.status === "online" ? `since ${ago(member.since)}` : `last seen ${ago(member.lastSeen)}`;
      row.innerHTML = `<td></td><td>${types}</td><td class="${member.status}">${member.status}</td><td>${when}</td><td class="data"></td><td></td>`;
      row.cells[0].textContent = member.id;
      row.cells[4].textContent = JSON.stringify(member.data);
      const machine = machines.find((m) => m.id === member.id);
      if (machine) {
        const button = document.createElement("button");
        button.textContent = machine.powered ? "Power off" : "Power on";
        button.onclick = () => power(machine.id, !machine.powered);
        row.cells[5].append(button);
      }
      return row;
    }),
  );
}

presence.on("members", render);
setInterval(render, 1000); // keeps "5 s ago" current
render();

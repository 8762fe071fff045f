// A chat room with a live member list: who joined, who left, who went offline, and how many are here now.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { usePresence } from "partykit-presence/react";

const params = new URLSearchParams(location.search);
const room = params.get("room") ?? "lobby";
const name = params.get("name");
let entries = 0;

function Chat({ name }) {
  const [joined, setJoined] = useState(true);
  const { members, counts, status, client } = usePresence({
    host: process.env.PRESENCE_HOST,
    channel: room,
    userId: name,
    userData: { name },
    clientType: "web",
    enabled: joined,
  });
  const [log, setLog] = useState([]);
  // A message can come both in the history and as a push: keep it once.
  const add = (entry) => setLog((entries) => (entries.some((e) => e.id === entry.id) ? entries : [...entries, entry]));

  // The room's last messages, then new ones as the app server pushes them.
  useEffect(() => {
    fetch(`/messages?room=${encodeURIComponent(room)}`)
      .then((response) => response.json())
      .then((messages) => setLog((entries) => [...messages.filter((m) => !entries.some((e) => e.id === m.id)).map((m) => ({ kind: "message", ...m })), ...entries]));
  }, []);
  useEffect(() => {
    if (!client) return;
    const stops = [
      client.on("push", (data) => data.kind === "message" && add({ kind: "message", ...data.message })),
      client.on("presence", (event) => event.member.id !== name && add({ kind: "event", id: `event-${entries++}`, action: event.action, who: event.member.id })),
    ];
    return () => stops.forEach((stop) => stop());
  }, [client]);

  const send = (event) => {
    event.preventDefault();
    const input = event.currentTarget.elements.text;
    fetch("/messages", { method: "POST", body: JSON.stringify({ room, from: name, text: input.value }) });
    input.value = "";
  };
  const leave = async () => {
    await client.leave(); // the others see "left" at once; closing the tab instead shows "offline" after a few seconds
    setJoined(false);
  };

  return (
    <>
      <h1>#{room} <span className="muted">as {name} ({status})</span></h1>
      <div className="layout">
        <main>
          <ul id="log">
            {log.map((entry) =>
              entry.kind === "message" ? (
                <li key={entry.id} className="message"><b>{entry.from}</b>: {entry.text}</li>
              ) : (
                <li key={entry.id} className="event" data-action={entry.action} data-user={entry.who}>{entry.who} {WORDS[entry.action]}</li>
              ),
            )}
          </ul>
          {joined ? (
            <form className="send" onSubmit={send}>
              <input name="text" placeholder="Say something" autoComplete="off" />
              <button>Send</button>
              <button type="button" onClick={leave}>Leave</button>
            </form>
          ) : (
            <p>You left the room. <button onClick={() => setJoined(true)}>Join again</button></p>
          )}
        </main>
        <aside>
          <h2 id="counts" data-users={counts.userAmount} data-clients={counts.clientAmount}>
            Here now: {counts.userAmount} {counts.userAmount === 1 ? "person" : "people"}, {counts.clientAmount} {counts.clientAmount === 1 ? "tab" : "tabs"}
          </h2>
          <ul id="members">
            {members.map((member) => (
              <li key={member.id} data-user={member.id} data-status={member.status} className={member.status}>
                {member.status === "online" ? "●" : "○"} {member.data?.name ?? member.id}
                {member.status === "offline" && <span className="muted"> offline</span>}
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </>
  );
}

const WORDS = { join: "joined", leave: "left", offline: "went offline", online: "is back online", update: "updated their profile" };

function Login() {
  return (
    <form>
      <h1>Join #{room}</h1>
      <input type="hidden" name="room" value={room} />
      <input name="name" placeholder="Your name" pattern="[A-Za-z0-9_\-]{1,32}" required autoFocus /> <button>Join</button>
    </form>
  );
}

createRoot(document.getElementById("app")).render(name ? <Chat name={name} /> : <Login />);

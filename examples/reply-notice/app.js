// A comment thread. The author of a comment gets a notice on their open page when someone replies.
import { PresenceClient } from "partykit-presence/client";

const params = new URLSearchParams(location.search);
const user = params.get("user") ?? "ann";
const thread = params.get("thread") ?? "post-1";
document.querySelector("#me").textContent = `as ${user}`;

// The token comes from our app server; a fresh one is fetched before every (re)connect.
const presence = new PresenceClient({
  host: process.env.PRESENCE_HOST,
  channel: thread,
  userId: user,
  clientType: "web",
  token: async () => (await (await fetch(`/token?user=${user}&thread=${thread}`)).json()).token,
});

// A notice is acknowledged when this handler's promise resolves: when the reader presses "Got it".
presence.on("push", (notice) => {
  if (notice.kind !== "reply") return;
  const box = document.querySelector("#notice");
  box.hidden = false;
  box.innerHTML = `<b></b> replied to your comment: “<span></span>” <button>Got it</button>`;
  box.querySelector("b").textContent = notice.from;
  box.querySelector("span").textContent = notice.text;
  return new Promise((read) => {
    box.querySelector("button").onclick = () => {
      box.hidden = true;
      read();
    };
  });
});

presence.on("members", () => {
  document.querySelector("#here").textContent = `Reading this thread now: ${presence.online.map((m) => m.id).join(", ")}`;
});

async function load() {
  const comments = await (await fetch(`/comments?thread=${thread}`)).json();
  document.querySelector("#comments").replaceChildren(...comments.map(renderComment));
}

function renderComment(comment) {
  const item = document.createElement("li");
  item.dataset.comment = comment.id;
  item.innerHTML = `<b></b>: <span></span><ul class="replies"></ul>
    <form class="reply"><input name="text" placeholder="Reply to ${comment.author}" autocomplete="off"><button>Reply</button></form>`;
  item.querySelector("b").textContent = comment.author;
  item.querySelector("span").textContent = comment.text;
  item.querySelector(".replies").replaceChildren(...comment.replies.map(renderReply));
  item.querySelector("form").onsubmit = async (event) => {
    event.preventDefault();
    const text = event.target.elements.text.value;
    event.target.reset();
    const pending = renderReply({ from: user, text, delivery: "sending" });
    item.querySelector(".replies").append(pending);
    const response = await fetch("/replies", { method: "POST", body: JSON.stringify({ thread, commentId: comment.id, from: user, text }) });
    const { reply } = await response.json();
    pending.replaceWith(renderReply(reply));
  };
  return item;
}

const DELIVERY = { sending: `waiting for them to read it…`, read: "✓ read", unread: "not read yet", offline: "they are not online; they will see it later" };

function renderReply(reply) {
  const item = document.createElement("li");
  item.dataset.delivery = reply.delivery;
  item.innerHTML = `<b></b>: <span></span><span class="delivery"></span>`;
  item.querySelector("b").textContent = reply.from;
  item.querySelector("span").textContent = reply.text;
  item.querySelector(".delivery").textContent = DELIVERY[reply.delivery];
  return item;
}

await load();

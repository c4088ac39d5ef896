// A student in a class lobby: its name, the teacher, the teacher's messages, until the
// round starts (lobby.seat → match.join, then the match screens as after matchmaking).

import { html } from "../js/html.js";
import { JoinCode } from "./home.js";

/** Who a study pod's session lobby is "with" (server/lobbies/host.py POD_HOST). */
const POD_HOST = "your pod";

const GONE = {
  left: "You left the lobby.",
  kicked: "Your teacher took you out of this lobby. You can join again with the code if your teacher says so.",
  banned: "Your teacher took you out of this lobby, and you can't join it again.",
  closed: "Your teacher closed this lobby.",
};

export function Join({ state, game }) {
  const l = state.lobby;
  if (!l || l.you !== "in") {
    return html`<div class="join-page">
      <h1 tabindex="-1">Join a class lobby</h1>
      ${l ? html`<p class="notice notice-info">${GONE[l.you] || "You are not in the lobby any more."}</p>` : null}
      <section class="card" aria-labelledby="join-h">
        <h2 id="join-h">Type the code your teacher gives you</h2>
        <${JoinCode} game=${game} />
      </section>
    </div>`;
  }
  const lobby = l.lobby;
  const playing = lobby.status === "playing";
  const pod = l.teacher === POD_HOST; // a study pod's session: it starts at its time, by itself
  return html`<div class="join-page">
    <section class="card waiting-room" aria-labelledby="waiting-h">
      <p class="eyebrow">${pod ? "Pod session" : "Class lobby"}</p>
      <h1 id="waiting-h" tabindex="-1">${lobby.name}</h1>
      <p class="lead">${pod ? "With your pod." : `With ${l.teacher}.`} ${lobby.members} ${lobby.members === 1 ? "person" : "people"} in the lobby.</p>
      <p class="wait-text"><span class="spinner" aria-hidden="true"></span>
        ${playing
          ? " A round is playing. You'll join the next one — or this one, as soon as your seat is ready."
          : pod
            ? " The round starts a few minutes after the session's time, with whoever is here. Your match opens here by itself."
            : " Waiting for your teacher to start the round. Your match opens here by itself."}</p>
      ${lobby.locked ? html`<p class="hint">The lobby is locked: nobody new can join, but you're in.</p>` : null}
    </section>
    ${pod
      ? null
      : html`<section class="card" aria-labelledby="notices-h">
          <h2 id="notices-h">Messages from ${l.teacher}</h2>
          ${l.notices.length
            ? html`<ul class="notices">${l.notices.map((n) => html`<li key=${n.at}><p>${n.text}</p></li>`)}</ul>`
            : html`<p class="hint">No messages yet.</p>`}
        </section>`}
    <button type="button" class="button" onClick=${() => game.lobbies.leave()}>Leave the lobby</button>
  </div>`;
}

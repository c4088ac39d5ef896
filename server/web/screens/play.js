// Play: Quick play (now, with bots) or Ranked (the matchmaker's queue), and the wait.

import { html, useEffect, useState } from "../js/html.js";
import { JoinCode } from "./home.js";

function Waiting({ queue, onCancel }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);
  let text;
  if (queue.status === "waiting") text = "Your last match is wrapping up. Your next one starts as soon as it closes.";
  else if (queue.status === "starting") text = queue.mode === "ranked" ? "Joining the ranked queue…" : "Setting up a match…";
  else if (queue.status === "matched") text = "Match found. Joining…";
  else {
    const waited = Math.round((performance.now() - queue.at) / 1000);
    const left = queue.estimate == null ? null : Math.max(0, Math.round(queue.estimate - waited));
    const about = left == null ? "" : left >= 90 ? `about ${Math.round(left / 60)} min` : left > 0 ? `about ${left} s` : "any moment now";
    text = about ? `Looking for players… ${about}` : "Looking for players…";
  }
  return html`<div class="waiting card" aria-labelledby="wait-h">
    <h2 id="wait-h">${queue.mode === "ranked" ? "Ranked queue" : "Quick play"}</h2>
    <p class="wait-text"><span class="spinner" aria-hidden="true"></span> ${text}</p>
    ${queue.status === "queued" ? html`<p class="hint">The estimate updates as players come and go. Bots fill the seats nobody takes.</p>` : null}
    ${queue.status !== "matched" ? html`<button type="button" class="button" onClick=${onCancel} data-autofocus>Cancel</button>` : null}
  </div>`;
}

export function Play({ state, game }) {
  const { queue, match } = state;
  const live = match && !["results", "closed"].includes(match.phase);
  return html`<div class="play">
    <h1 tabindex="-1">Play</h1>
    ${live
      ? html`<div class="card"><p>You are in a match right now.</p><a class="button primary" href="/match">Return to your match</a></div>`
      : null}
    ${queue
      ? html`<${Waiting} queue=${queue} onCancel=${() => game.cancelQueue()} />`
      : html`<div class="modes">
          <section class="mode card" aria-labelledby="quick-h">
            <h2 id="quick-h">Right now</h2>
            <p>Start at once with bots in the other seats. Rated like any match.</p>
            <button type="button" class="button primary big" onClick=${() => game.quickplay()} disabled=${!!live}>Quick play</button>
          </section>
          <section class="mode card" aria-labelledby="ranked-h">
            <h2 id="ranked-h">Against people</h2>
            <p>Wait for players near your rating. Usually under a minute.</p>
            <button type="button" class="button big" onClick=${() => game.ranked()} disabled=${!!live}>Ranked</button>
          </section>
        </div>`}
    <section class="card" aria-labelledby="code-h2">
      <h2 id="code-h2">Join a class lobby</h2>
      ${state.lobby && state.lobby.you === "in"
        ? html`<p>You are in <strong>${state.lobby.lobby.name}</strong>. <a href="/join">Back to the lobby</a></p>`
        : html`<${JoinCode} game=${game} />`}
    </section>
    <section class="card how" aria-labelledby="how-h">
      <h2 id="how-h">How a match goes</h2>
      <ol class="steps">
        <li><strong>Lobby</strong> — press Ready.</li>
        <li><strong>Write</strong> — a picture and a trait to focus on; a few minutes to write.</li>
        <li><strong>Feedback</strong> — review two pieces: what works, what to change, a rating.</li>
        <li><strong>Results</strong> — your scores, the AI's suggestions, the reviews you got.</li>
      </ol>
    </section>
  </div>`;
}

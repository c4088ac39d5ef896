// Lobby: the seats by alias with their ready state, and the Ready button.

import { html } from "../js/html.js";
import { Countdown } from "../js/ui.js";

export function Lobby({ state, game }) {
  const m = state.match;
  const me = m.seats.find((s) => s.you);
  const ready = me && me.ready;
  return html`<section class="lobby" aria-labelledby="lobby-h">
    <div class="phase-head">
      <h1 id="lobby-h" tabindex="-1">Lobby</h1>
      <${Countdown} match=${m} label="Starts in" warn=${false} />
    </div>
    <p class="lead">You are <strong>${m.you}</strong> in this match. Nobody sees your name, only this alias. ${m.ranked ? "This match is ranked." : "This is a practice match."}</p>
    <h2>Players</h2>
    <ul class="seats">
      ${m.seats.map(
        (s) => html`<li key=${s.alias} class=${s.ready ? "is-ready" : ""}>
          <span class="alias">${s.alias}${s.you ? " (you)" : ""}</span>
          <span class="seat-state">${s.left ? "left" : s.ready ? html`<span aria-hidden="true">✓ </span>ready` : s.connected ? "not ready yet" : "not here yet"}</span>
        </li>`,
      )}
    </ul>
    <div class="actions">
      ${ready
        ? html`<p class="ready-note" tabindex="-1" data-autofocus><span aria-hidden="true">✓ </span>You are ready. Writing starts when everyone is, or when the lobby time runs out.</p>`
        : html`<button type="button" class="button primary big" onClick=${() => game.ready()} disabled=${state.readySending} data-autofocus>Ready</button>`}
    </div>
    <p class="hint">When writing starts you'll see a picture and a trait to focus on.</p>
  </section>`;
}

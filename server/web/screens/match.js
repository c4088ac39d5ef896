// The match: which phase screen to draw, and the steps of the match above it.

import { html } from "../js/html.js";
import { Lobby } from "./lobby.js";
import { Write } from "./write.js";
import { Feedback } from "./feedback.js";
import { Results } from "./results.js";

const STEPS = [
  ["lobby", "Lobby"],
  ["write", "Write"],
  ["feedback", "Feedback"],
  ["results", "Results"],
];

function stepOf(phase) {
  if (phase === "scoring") return "feedback";
  if (phase === "closed") return "results";
  return phase;
}

function Steps({ phase }) {
  const current = stepOf(phase);
  const index = STEPS.findIndex(([p]) => p === current);
  return html`<nav class="steps-bar" aria-label="Match progress">
    <ol>
      ${STEPS.map(
        ([p, label], i) => html`<li key=${p} class=${i < index ? "done" : i === index ? "current" : ""} aria-current=${i === index ? "step" : undefined}>
          <span class="step-mark" aria-hidden="true">${i < index ? "✓" : i + 1}</span> ${label}
        </li>`,
      )}
    </ol>
  </nav>`;
}

function Scoring() {
  return html`<section class="scoring card" aria-labelledby="scoring-h">
    <h1 id="scoring-h" tabindex="-1" data-autofocus>Scoring</h1>
    <p class="wait-text"><span class="spinner" aria-hidden="true"></span> The AI is reading every piece and every review. This takes a few seconds.</p>
  </section>`;
}

export function Match({ state, game }) {
  const m = state.match;
  if (!m) {
    return html`<div class="card"><h1 tabindex="-1">No match</h1><p>You are not in a match.</p><a class="button primary" href="/play">Play</a></div>`;
  }
  let body;
  if (m.phase === "lobby") body = html`<${Lobby} state=${state} game=${game} />`;
  else if (m.phase === "write") body = html`<${Write} state=${state} game=${game} />`;
  else if (m.phase === "feedback") body = html`<${Feedback} state=${state} game=${game} />`;
  else if (m.phase === "scoring" || !m.results) body = html`<${Scoring} />`;
  else {
    body = html`<${Results}
      results=${m.results}
      report=${m.report}
      text=${state.draft.text || (m.draft && m.draft.text) || ""}
      you=${m.you}
      prompt=${m.prompt}
      rubrics=${state.rubrics}
      onPlayAgain=${() => game.playAgain()}
    />`;
  }
  return html`<div class="match">
    <${Steps} phase=${m.phase} />
    ${body}
  </div>`;
}

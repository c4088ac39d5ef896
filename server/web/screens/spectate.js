// The spectator view of a live match (/watch/{id}): spectate.join on the app's socket,
// the match as the server shows it `delay` seconds behind (spectate.state, then each
// spectate.events item folded in by js/replay.js, the same code the replay player uses),
// the phase and its clock at that moment, every seat's draft and word count, then the
// reviews and results; when the match ends, a link to its replay.  spectate.leave when
// the screen goes.

import { html, useEffect, useRef, useState } from "../js/html.js";
import { PromptCard } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { PHASE_NAMES, viewTime } from "../js/replay.js";
import { Outcome, SeatGrid, mmss, seconds } from "./replay.js";

const ERRORS = {
  match_not_found: "This match isn't being played on this server right now, or it isn't one you can watch. It may have just ended.",
  spectators_full: "This match has as many spectators as it can take. Try again in a little while.",
  unavailable: "This server is getting ready to shut down and takes no new spectators. Try again in a moment.",
  already_in_match: "You can't watch a match you are playing in.",
};

function useTick(ms) {
  const [, setN] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setN((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
}

function Clock({ view }) {
  useTick(500);
  const name = PHASE_NAMES[view.phase] || view.phase;
  const now = viewTime(view, performance.now()); // deadline − (now − delay), on the server's clock
  const running = !["results", "closed"].includes(view.phase);
  const left = !running ? null : view.paused ? view.remaining : view.deadline != null ? Math.max(0, view.deadline - now) : null;
  return html`<p class="spectate-clock">
    <span class="phase-tag">${name}${view.paused ? " · paused" : ""}</span>
    ${left != null
      ? html`<span class="countdown" role="timer"><span class="countdown-label">${view.paused ? "Paused, left:" : "Time left"}</span>
          <span class="countdown-value">${mmss(Math.ceil(left))}</span></span>`
      : null}
  </p>`;
}

function seatExtra(seat) {
  const out = [];
  if (seat.left) out.push(html`<span key="left">left the match</span>`);
  if (seat.reviews_given) out.push(html`<span key="rev">${seat.reviews_given} ${seat.reviews_given === 1 ? "review" : "reviews"} given</span>`);
  return out;
}

export function Spectate({ state, game, matchId }) {
  useEffect(() => {
    game.spectate(matchId);
    return () => game.unspectate(matchId);
  }, [matchId]);
  const sp = state.spectate && state.spectate.matchId === matchId ? state.spectate : null;
  const view = sp && sp.view;
  const ended = sp && sp.status === "left" && sp.reason !== "left";

  // The polite region says the phase when it changes, the results and the end; never text.
  const said = useRef(null);
  useEffect(() => {
    if (!view) return;
    const now = { phase: view.phase, results: !!view.results, ended: !!ended };
    const before = said.current;
    said.current = now;
    if (!before) return;
    if (now.ended && !before.ended) game.announce("The match is over. You can watch its replay.");
    else if (now.results && !before.results) game.announce("Results are in.");
    else if (now.phase !== before.phase) game.announce(`${PHASE_NAMES[now.phase] || now.phase}.`);
  }, [view && view.phase, !!(view && view.results), ended]);
  const error = sp && sp.status === "error" ? sp.error : null;
  useEffect(() => {
    if (error) game.announce(ERRORS[error] || "You can't watch this match right now.");
  }, [error]);

  const back = html`<p class="crumbs"><a href="/watch">Live matches</a></p>`;
  if (!sp || sp.status === "joining" || (sp.status === "watching" && !view)) {
    return html`<div class="spectate">${back}<div class="card"><h1 tabindex="-1">Watching</h1><p class="hint">Joining the match…</p></div></div>`;
  }
  if (sp.status === "error") {
    return html`<div class="spectate">${back}<div class="card">
      <h1 tabindex="-1">Watching</h1>
      <p class="form-error">${ERRORS[sp.error] || "You can't watch this match right now."}</p>
      <div class="actions">
        <button type="button" class="button" onClick=${() => game.spectate(matchId)}>Try again</button>
        <a class="button" href="/watch">Back to live matches</a>
      </div>
    </div></div>`;
  }
  if (!view) {
    return html`<div class="spectate">${back}<div class="card"><h1 tabindex="-1">Watching</h1>
      <p>You are no longer watching this match.</p><a class="button" href=${"/replays/" + matchId}>Watch the replay</a></div></div>`;
  }

  const r = view.results;
  return html`<div class="spectate">
    ${back}
    <div class="phase-head">
      <h1 tabindex="-1">Watching<span class="sub"> — ${view.prompt ? view.prompt.title : "a match"}</span></h1>
      <${Clock} view=${view} />
    </div>
    <p class="hint spectate-meta">${[
      view.ranked ? "Ranked" : "Practice",
      view.focus ? `focus ${traitName(state.rubrics, view.focus)}` : null,
      `${view.seats.length} ${view.seats.length === 1 ? "writer" : "writers"}`,
      view.spectators != null ? `${view.spectators} watching` : null,
    ].filter(Boolean).join(" · ")}</p>
    ${ended || view.closed
      ? null
      : html`<p class="behind">
          ${view.delay > 0
            ? html`<strong>${seconds(view.delay)} s behind live</strong><span class="hint"> — what you see happened ${seconds(view.delay)} seconds ago.</span>`
            : html`<strong>Live</strong><span class="hint"> — no delay.</span>`}
        </p>`}
    ${ended
      ? html`<div class="card ended">
          <p><strong>The match is over.</strong> ${sp.reason === "gone" ? "It stopped on this server." : ""}</p>
          <a class="button primary" href=${"/replays/" + matchId}>Watch the replay</a>
        </div>`
      : null}
    ${view.prompt
      ? html`<details class="prompt-details">
          <summary>The prompt</summary>
          <${PromptCard} prompt=${view.prompt} headingLevel=${2} />
        </details>`
      : null}
    <section aria-labelledby="pieces-h">
      <h2 id="pieces-h">The pieces</h2>
      <${SeatGrid} seats=${view.seats} pieces=${view.seats.map((s) => s.piece)} extra=${seatExtra} />
    </section>
    ${r
      ? html`<${Outcome} seats=${view.seats} scores=${r.scores} reviews=${r.reviews} provisional=${r.provisional}
          focus=${view.focus} rubrics=${state.rubrics} />`
      : null}
  </div>`;
}

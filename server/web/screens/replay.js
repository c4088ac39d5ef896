// The replay player: a finished (or running, up to the spectator delay) match from
// GET /api/v1/replays/{id}, every piece growing side by side, pasted passages marked,
// play/pause, 1×/2×/4×/8×, a seek bar with the phases on it, keyboard controls, the
// phase and its clock, then the scores and reviews.  The seek and the pieces come from
// js/replay.js, which the live spectator view (spectate.js) shares; so do the seat
// cards and the outcome below.

import { html, useEffect, useLayoutEffect, useMemo, useRef, useState } from "../js/html.js";
import { PromptCard, fmtNumber, ordinal } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { PHASE_NAMES, Timeline, countWords, segments } from "../js/replay.js";
import { ReportButton } from "./reports.js";

const SPEEDS = [1, 2, 4, 8];
const STEP_SECONDS = 5;

/** m:ss of a number of seconds (rounded down: the clock shows whole seconds passed). */
export function mmss(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A delay in seconds as people say it: "1.5", "30". */
export const seconds = (d) => String(d >= 10 ? Math.round(d) : Math.round(d * 10) / 10);

/** The same, as words for a screen reader ("1 minute 5 seconds"). */
export function spokenTime(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  const r = s % 60;
  const parts = [];
  if (m) parts.push(`${m} ${m === 1 ? "minute" : "minutes"}`);
  if (r || !m) parts.push(`${r} ${r === 1 ? "second" : "seconds"}`);
  return parts.join(" ");
}

export const seatName = (seat) => seat.name || seat.alias;

/** A piece with its pasted passages marked (the words say it too, not only the colour). */
export function PieceText({ piece, label }) {
  const runs = useMemo(() => segments(piece), [piece]);
  const box = useRef(null);
  const atEnd = useRef(true);
  // A growing piece stays in view: a box scrolled to its end stays at its end.
  useLayoutEffect(() => {
    if (box.current && atEnd.current) box.current.scrollTop = box.current.scrollHeight;
  }, [piece]);
  const onScroll = (e) => {
    const el = e.currentTarget;
    atEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
  };
  return html`<div class="piece-view" tabindex="0" role="region" aria-label=${label} ref=${box} onScroll=${onScroll}>
    ${piece.text
      ? runs.map((r, i) =>
          r.pasted
            ? html`<mark class="pasted" key=${i}><span class="sr-only">[pasted] </span>${r.text}<span class="sr-only"> [end of pasted]</span></mark>`
            : html`<span key=${i}>${r.text}</span>`,
        )
      : html`<span class="hint">Nothing written yet.</span>`}
  </div>`;
}

/** One card per seat, by alias (and name, when the viewer is given one). */
export function SeatGrid({ seats, pieces, extra }) {
  const anyPaste = pieces.some((p) => p && p.pasted.includes(true));
  return html`<div class="seat-area">
    ${anyPaste ? html`<p class="hint paste-legend"><mark class="pasted">Highlighted and underlined</mark> text was pasted.</p>` : null}
    <ul class="seat-grid">
      ${seats.map((seat, i) => {
        const piece = pieces[i];
        const words = piece ? countWords(piece.text) : 0;
        const who = seatName(seat);
        return html`<li class=${"seat-card" + (seat.you ? " is-you" : "")} key=${seat.seat != null ? seat.seat : i}>
          <h3 class="seat-name">
            ${who}${seat.name ? html` <span class="alias-sub">as ${seat.alias}</span>` : null}
            ${seat.bot ? html` <span class="tag">bot</span>` : null}${seat.you ? html` <span class="tag">you</span>` : null}
          </h3>
          <p class="seat-stats">
            ${seat.text_shown === false ? null : html`<span><strong class="num">${words}</strong> ${words === 1 ? "word" : "words"}</span>`}
            ${extra ? extra(seat, i) : null}
          </p>
          ${seat.text_shown === false
            ? html`<p class="hint">This piece is not shown.</p>`
            : html`<${PieceText} piece=${piece} label=${"Piece by " + who} />`}
        </li>`;
      })}
    </ul>
  </div>`;
}

/** The scores (ranking) and the reviews each piece got, once a match has its results. */
export function Outcome({ seats, scores, reviews, provisional, focus, rubrics }) {
  const rows = [...(scores || [])].sort((a, b) => (a.rank == null) - (b.rank == null) || (a.rank || 0) - (b.rank || 0) || a.seat - b.seat);
  const items = reviews || [];
  const name = (i) => (seats[i] ? seatName(seats[i]) : `Seat ${i + 1}`);
  return html`<section class="card outcome" aria-labelledby="outcome-h">
    <h2 id="outcome-h">Results</h2>
    ${provisional ? html`<p class="hint">Some scores are provisional: a backup scorer stood in.</p>` : null}
    ${rows.length
      ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Ranking"><table class="ranking">
          <thead><tr><th scope="col">Rank</th><th scope="col">Writer</th><th scope="col">Score <span class="hint">(writing, reviews)</span></th><th scope="col">Words</th></tr></thead>
          <tbody>
            ${rows.map(
              (r) => html`<tr key=${r.seat} class=${seats[r.seat] && seats[r.seat].you ? "is-you" : ""}>
                <td>${r.rank == null ? "—" : ordinal(r.rank)}</td>
                <th scope="row">${name(r.seat)}${r.empty ? html` <span class="hint">(nothing written)</span>` : null}</th>
                <td><strong>${fmtNumber(r.score, 2)}</strong> <span class="hint nowrap">(${fmtNumber(r.writing, 2)}, ${fmtNumber(r.review, 2)})</span></td>
                <td>${r.words}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`
      : html`<p class="hint">No scores.</p>`}
    <h3>Reviews</h3>
    ${items.length
      ? html`<div class="outcome-reviews">
          ${seats.map((seat, i) => {
            const mine = items.filter((r) => r.writer === i);
            if (!mine.length) return null;
            return html`<section key=${i} class="outcome-seat" aria-label=${"Reviews of " + seatName(seat)}>
              <h4>Reviews of ${seatName(seat)}</h4>
              <ul class="reviews">
                ${mine.map(
                  (r, j) => html`<li key=${j}>
                    <p><strong>What works:</strong> ${r.strength}</p>
                    <p><strong>What to change:</strong> ${r.suggestion}</p>
                    <p class="hint">${traitName(rubrics, focus)}: ${r.rating} of 6</p>
                  </li>`,
                )}
              </ul>
            </section>`;
          })}
        </div>`
      : html`<p class="hint">No reviews to show.</p>`}
  </section>`;
}

/** Phase marks on the seek bar: a new mark only where the phase changes. */
function phaseMarks(tl) {
  const out = [];
  for (const p of tl.doc.phases || []) {
    if (out.length && out[out.length - 1].phase === p.phase) continue;
    if (p.at > tl.end) break;
    out.push(p);
  }
  return out;
}

/** Marks close together on the bar share one label ("Scoring · Results"). */
function markGroups(marks, pct) {
  const groups = [];
  for (const m of marks) {
    const at = pct(m.at);
    const name = PHASE_NAMES[m.phase] || m.phase;
    const last = groups[groups.length - 1];
    if (last && at - last.pct < 6) last.label += " · " + name;
    else groups.push({ pct: at, label: name });
  }
  return groups;
}

function Player({ doc, rubrics, game }) {
  const tl = useMemo(() => new Timeline(doc), [doc]);
  const total = tl.end - tl.start;
  const [view, setView] = useState(() => ({ t: tl.start, cursor: tl.seekTo(tl.start) }));
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const viewRef = useRef(view);
  viewRef.current = view;
  const marks = useMemo(() => phaseMarks(tl), [tl]);

  const show = (t) => {
    const at = tl.clamp(t);
    const next = { t: at, cursor: tl.advance(viewRef.current.cursor, at) };
    viewRef.current = next;
    setView(next);
  };

  // Playing is seeking forward, once per animation frame.
  useEffect(() => {
    if (!playing) return undefined;
    let last = performance.now();
    let frame = requestAnimationFrame(function step(now) {
      const dt = Math.max(0, (now - last) / 1000);
      last = now;
      const t = Math.min(tl.end, viewRef.current.t + dt * speed);
      show(t);
      if (t >= tl.end) {
        setPlaying(false);
        game.announce("End of the replay.");
        return;
      }
      frame = requestAnimationFrame(step);
    });
    return () => cancelAnimationFrame(frame);
  }, [playing, speed, tl]);

  const toggle = () => {
    if (playing) {
      setPlaying(false);
      game.announce(`Paused at ${spokenTime(viewRef.current.t - tl.start)}.`);
      return;
    }
    if (viewRef.current.t >= tl.end) show(tl.start); // play again from the start
    setPlaying(true);
    game.announce(`Playing at ${speed}×.`);
  };
  const changeSpeed = (s) => {
    setSpeed(s);
    game.announce(`Speed ${s}×.`);
  };
  const stepSpeed = (dir) => {
    const i = SPEEDS.indexOf(speed) + dir;
    if (i >= 0 && i < SPEEDS.length) changeSpeed(SPEEDS[i]);
  };

  // Keyboard controls anywhere on the screen (not while typing in a field; Space on a
  // button presses that button, as everywhere).
  const keys = useRef(null);
  keys.current = (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const el = e.target;
    const tag = el && el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && el.type !== "range") || (el && el.isContentEditable)) return;
    const onControl = tag === "BUTTON" || tag === "A" || tag === "SUMMARY";
    const t = viewRef.current.t;
    switch (e.key) {
      case " ":
      case "Spacebar":
        if (onControl) return;
        toggle();
        break;
      case "ArrowLeft":
        show(t - STEP_SECONDS);
        break;
      case "ArrowRight":
        show(t + STEP_SECONDS);
        break;
      case "Home":
        show(tl.start);
        break;
      case "End":
        show(tl.end);
        break;
      case "1":
      case "2":
      case "4":
      case "8":
        changeSpeed(Number(e.key));
        break;
      case "+":
      case "=":
        stepSpeed(1);
        break;
      case "-":
      case "_":
        stepSpeed(-1);
        break;
      default:
        return;
    }
    e.preventDefault();
  };
  useEffect(() => {
    const onKey = (e) => keys.current(e);
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  const t = view.t;
  const phase = tl.phaseAt(t);
  const phaseName = phase ? PHASE_NAMES[phase.phase] || phase.phase : "";
  const left = phase && phase.deadline != null && !["results", "closed"].includes(phase.phase) ? phase.deadline - t : null;

  // Say the phase when it changes (playing or seeking), never the text or the clock.
  const said = useRef(null);
  useEffect(() => {
    const key = phase ? phase.phase : "";
    if (said.current !== null && said.current !== key && phaseName) game.announce(`${phaseName}.`);
    said.current = key;
  }, [phase && phase.phase]);

  const outcome = tl.outcomeAt(t);
  const elapsed = t - tl.start;
  const valueText = `${spokenTime(elapsed)} of ${spokenTime(total)}${phaseName ? ", " + phaseName : ""}`;
  const pct = (at) => (total > 0 ? ((at - tl.start) / total) * 100 : 0);

  return html`<div class="player-wrap">
    <section class="card player" aria-label="Replay controls">
      <div class="player-bar">
        <button type="button" class="button primary play-button" onClick=${toggle}>
          <span aria-hidden="true">${playing ? "❚❚" : "▶"} </span>${playing ? "Pause" : t >= tl.end ? "Play again" : "Play"}
        </button>
        <div class="speeds" role="group" aria-label="Speed">
          ${SPEEDS.map(
            (s) => html`<button type="button" key=${s} class="button small" aria-pressed=${speed === s} onClick=${() => changeSpeed(s)}>${s}×</button>`,
          )}
        </div>
        <p class="replay-clock">
          <span class="phase-tag">${phaseName}</span>
          <span class="clock-value">${mmss(elapsed)} <span class="hint">/ ${mmss(total)}</span></span>
          ${left != null ? html`<span class="hint">${mmss(Math.ceil(left))} left in the phase</span>` : null}
        </p>
      </div>
      <div class="seek">
        <label for="replay-seek">Position</label>
        <div class="seek-track">
          <input id="replay-seek" type="range" min="0" max=${total} step="0.1" value=${elapsed}
            aria-valuetext=${valueText} aria-describedby="replay-keys"
            onInput=${(e) => show(tl.start + Number(e.currentTarget.value))} />
          <div class="phase-marks" aria-hidden="true">
            ${markGroups(marks, pct).map(
              (g, i) => html`<span key=${i} class=${"phase-mark" + (g.pct < 8 ? " at-start" : g.pct > 92 ? " at-end" : "") + (i % 2 ? " low" : "")}
                style=${{ left: `${g.pct.toFixed(2)}%` }}><span class="phase-mark-label">${g.label}</span></span>`,
            )}
          </div>
        </div>
      </div>
      <div class="phase-jumps" role="group" aria-label="Jump to a phase">
        ${marks.map(
          (m, i) => html`<button type="button" key=${i} class="button small" onClick=${() => show(m.at)}>${PHASE_NAMES[m.phase] || m.phase} <span class="hint">${mmss(m.at - tl.start)}</span></button>`,
        )}
      </div>
      <p class="hint keys" id="replay-keys">
        Keys: <kbd>Space</kbd> play or pause${" · "}<kbd>←</kbd> <kbd>→</kbd> 5 seconds back or on${" · "}<kbd>Home</kbd> <kbd>End</kbd> start or end${" · "}<kbd>1</kbd> <kbd>2</kbd> <kbd>4</kbd> <kbd>8</kbd> or <kbd>+</kbd> <kbd>−</kbd> speed
      </p>
    </section>
    <section aria-labelledby="pieces-h">
      <h2 id="pieces-h">The pieces</h2>
      <${SeatGrid} seats=${doc.seats} pieces=${view.cursor.pieces} />
    </section>
    ${outcome.scores || outcome.reviews
      ? html`<${Outcome} seats=${doc.seats} scores=${outcome.scores && outcome.scores.seats}
          reviews=${outcome.reviews && outcome.reviews.items} provisional=${outcome.scores && outcome.scores.provisional}
          focus=${doc.focus} rubrics=${rubrics} />`
      : doc.scores && t < doc.scores.at
        ? html`<p class="hint">The scores and reviews appear when the replay reaches the results (or press <kbd>End</kbd>).</p>`
        : null}
  </div>`;
}

export function Replay({ state, rest, game, matchId }) {
  const [doc, setDoc] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setDoc(null);
    setError("");
    rest.replay(matchId).then(
      (d) => {
        try {
          new Timeline(d); // refuses another format or version
          setDoc(d);
        } catch (err) {
          setError(err.message);
        }
      },
      (err) =>
        setError(
          err.status === 404
            ? "This replay isn't available. The match may not exist, may still be running on another server, or may not be one you can watch."
            : err.code === "network"
              ? "You're offline, so the replay can't load right now."
              : err.status === 429
                ? "Too many replays opened in a short time. Wait a minute and try again."
                : err.message,
        ),
    );
  }, [matchId]);

  useEffect(() => {
    if (error) game.announce(error);
  }, [error]);

  // One heading element whatever the state, so the focus the frame gave it stays there.
  const head = html`<div class="phase-head">
    <h1 tabindex="-1">Replay${doc ? html`<span class="sub"> — ${doc.prompt.title}</span>` : null}</h1>
  </div>`;
  if (error || !doc) {
    return html`<div class="replay">
      ${head}
      <div class="card replay-missing">
        ${error ? html`<p>${error}</p>` : html`<p class="hint">Loading the replay…</p>`}
        <p><a href="/watch">Watch live matches</a> · <a href="/me">Your matches</a></p>
      </div>
    </div>`;
  }
  const writers = doc.seats.length;
  return html`<div class="replay">
    ${head}
    <p class="hint replay-meta">
      ${doc.ranked ? "Ranked" : "Practice"} · focus ${traitName(state.rubrics, doc.focus)} · ${writers} ${writers === 1 ? "writer" : "writers"}
      ${doc.status === "running" && !doc.scores ? " · still being played: the replay reaches as far as the spectator delay allows" : ""}
    </p>
    <details class="prompt-details">
      <summary>The prompt</summary>
      <${PromptCard} prompt=${doc.prompt} headingLevel=${2} />
    </details>
    <${Player} doc=${doc} rubrics=${state.rubrics} game=${game} />
    <${ReportPieces} doc=${doc} rest=${rest} game=${game} />
  </div>`;
}

/** A finished match's pieces by others, each with a Report button (docs/reports.md). */
function ReportPieces({ doc, rest, game }) {
  if (doc.status !== "finished" || !doc.scores) return null;
  const empty = new Set((doc.scores.seats || []).filter((s) => s.empty).map((s) => s.seat));
  const seats = doc.seats.filter((s) => !s.you && s.text_shown !== false && !empty.has(s.seat));
  if (!seats.length) return null;
  return html`<details class="card report-pieces">
    <summary>Something wrong in a piece?</summary>
    <p class="hint">Report a piece that is unkind, unsafe or not the writer's own. A teacher or an admin reads it; the writer never learns who reported.</p>
    <ul>
      ${seats.map(
        (s) => html`<li key=${s.seat}><span>${seatName(s)}</span>
          <${ReportButton} rest=${rest} game=${game} kind="piece" id=${doc.match_id + "/" + s.alias} what=${"the piece by " + seatName(s)} /></li>`,
      )}
    </ul>
  </details>`;
}

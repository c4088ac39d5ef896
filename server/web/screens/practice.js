// Solo practice (docs/practice.md): start a timed round alone, write with the server's
// clock (drafts saved as you type, kept on this device too), hand in, and read the AI's
// scores and suggestions.  Not rated; the piece goes to your history like any other.

import { html, useEffect, useRef, useState } from "../js/html.js";
import { Countdown, FocusCard, PromptCard, TraitChart, fmtNumber } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { local } from "../js/store.js";
import { markSuggestions } from "./results.js";
import { SaveState } from "./write.js";

const SAVE_MS = 1500; // a draft is saved this long after the last keystroke
const KEY = "practice";
const FROM = {
  goal: "your goal's trait",
  weakest: "the trait your recent scores say to work on",
  prompt: "this prompt's own trait",
};

function clockOf(round) {
  // The server's remaining time when the answer was made, counted down here from then.
  const left = new Date(round.deadline).getTime() - new Date(round.now).getTime();
  return { remaining_ms: Math.max(0, left), clockAt: performance.now(), paused: false };
}

const wordsOf = (text) => (text.trim() ? text.trim().split(/\s+/).length : 0);

function Writing({ rest, game, round, rubrics, onScored }) {
  const saved = local.get(KEY);
  const mineLocal = saved && saved.id === round.id && saved.seq > round.seq ? saved : null;
  const [text, setText] = useState(mineLocal ? mineLocal.text : round.draft);
  const [status, setStatus] = useState(mineLocal ? "saving" : "saved");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const seq = useRef(Math.max(round.seq, mineLocal ? mineLocal.seq : 0));
  const timer = useRef(null);
  const clock = useRef(clockOf(round));
  const done = useRef(false);
  const editor = useRef(null);

  const save = async () => {
    clearTimeout(timer.current);
    const current = local.get(KEY);
    if (!current || current.id !== round.id || current.seq <= round.seq) return;
    setStatus("saving");
    try {
      await rest.call("PUT", `/api/v1/practice/${round.id}/draft`, { text: current.text, seq: current.seq });
      round.seq = current.seq;
      setStatus("saved");
    } catch (err) {
      if (err.code === "network") setStatus("offline");
      else if (err.code === "practice_over") finish();
      else if (err.code !== "stale_seq") setError(err.message);
    }
  };
  const edit = (value) => {
    setText(value);
    seq.current += 1;
    local.set(KEY, { id: round.id, seq: seq.current, text: value });
    setStatus("saving");
    clearTimeout(timer.current);
    timer.current = setTimeout(save, SAVE_MS);
  };
  const finish = async () => {
    if (done.current) return;
    done.current = true;
    clearTimeout(timer.current);
    setBusy(true);
    setError("");
    const current = local.get(KEY);
    const body = current && current.id === round.id && current.seq > 0 ? { text: current.text, seq: current.seq } : {};
    try {
      const scored = await rest.call("POST", `/api/v1/practice/${round.id}/submit`, body);
      local.remove(KEY);
      onScored(scored);
    } catch (err) {
      if (err.code === "already_submitted") {
        local.remove(KEY);
        onScored(await rest.call("GET", `/api/v1/practice/${round.id}`));
        return;
      }
      done.current = false;
      setBusy(false);
      setError(err.code === "network" ? "You're offline: your piece is kept on this device. Try again when you're back." : err.message);
    }
  };
  useEffect(() => {
    if (editor.current) editor.current.focus(); // a new phase: the editor takes the focus
    if (mineLocal) save();
    // Hand in at the deadline (the server takes the last saved draft after its grace).
    const t = setInterval(() => {
      const left = clock.current.remaining_ms - (performance.now() - clock.current.clockAt);
      if (left <= 0) {
        clearInterval(t);
        game.announce("Time is up. Your piece is handed in.");
        finish();
      }
    }, 500);
    return () => {
      clearInterval(t);
      clearTimeout(timer.current);
    };
  }, [round.id]);

  const words = wordsOf(text);
  return html`<section class="write practice-write" aria-labelledby="practice-write-h">
    <h1 id="practice-write-h" class="sr-only">Practice: ${round.prompt.title}</h1>
    <div class="write-bar">
      <${Countdown} match=${clock.current} label="Time left" />
      <span class="words"><strong>${words}</strong> ${words === 1 ? "word" : "words"}</span>
      <${SaveState} status=${busy ? "locked" : status} />
      <button type="button" class="button primary small" onClick=${finish} disabled=${busy}>Hand in</button>
    </div>
    <p class="hint practice-why">Focus on ${traitName(rubrics, round.focus)}: ${FROM[round.focus_from] || FROM.prompt}.</p>
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    <div class="write-grid">
      <aside class="prompt-side" aria-label="Prompt">
        <${PromptCard} prompt=${round.prompt} headingLevel=${2} />
      </aside>
      <div class="editor-wrap">
        <label for="practice-editor" class="editor-label">Your piece<span class="editor-sub"> — focus on ${traitName(rubrics, round.focus)}</span></label>
        <textarea id="practice-editor" ref=${editor} class="editor" value=${text} onInput=${(e) => edit(e.currentTarget.value)}
          onBlur=${save} readonly=${busy} spellcheck=${true} aria-describedby="practice-help" data-autofocus></textarea>
        <p class="hint" id="practice-help">Saved as you type, and kept on this device. Practice is not rated: it's for you.</p>
      </div>
      <aside class="focus-side" aria-label="Trait focus">
        <${FocusCard} trait=${round.focus} rubrics=${rubrics} />
      </aside>
    </div>
  </section>`;
}

function Scored({ round, rubrics, onAgain }) {
  const r = round.result;
  const heading = useRef(null);
  useEffect(() => {
    if (heading.current) heading.current.focus();
  }, [round.id, !!r]);
  if (!r) {
    return html`<section class="card"><h1 ref=${heading} tabindex="-1" data-autofocus>Scoring…</h1><p class="hint">Your piece is being scored.</p></section>`;
  }
  const { parts } = markSuggestions(round.draft || "", r.suggestions);
  return html`<section class="results practice-results" aria-labelledby="practice-results-h">
    <h1 id="practice-results-h" ref=${heading} tabindex="-1" data-autofocus>Your practice score<span class="sub"> — ${round.prompt.title}</span></h1>
    <div class="result-summary card">
      <p>Overall <strong class="practice-overall">${fmtNumber(r.overall, 1)}</strong> of 6 · ${r.words} ${r.words === 1 ? "word" : "words"} · focus: ${traitName(rubrics, round.focus)}</p>
      ${r.provisional ? html`<p class="hint">A backup scorer stood in: these scores may be refined later.</p>` : null}
      <p class="hint">Not rated. It is in your history with your other pieces.</p>
    </div>
    <div class="results-grid">
      <section class="card" aria-labelledby="practice-traits-h">
        <h2 id="practice-traits-h">Trait scores</h2>
        <${TraitChart} traits=${r.traits} focus=${round.focus} rubrics=${rubrics} />
        ${r.rationale ? html`<div class="rationale"><h3>What the AI saw</h3><p>${r.rationale}</p></div>` : null}
      </section>
      <section class="card" aria-labelledby="practice-sugg-h">
        <h2 id="practice-sugg-h">Suggestions</h2>
        ${r.suggestions.length
          ? html`<ol class="suggestions">${r.suggestions.map((s, i) => html`<li key=${i}><q>${s.sentence}</q><p>${s.advice}</p></li>`)}</ol>`
          : html`<p class="hint">${r.flags.includes("empty") ? "Nothing was handed in this time." : "No suggestions on specific sentences this time."}</p>`}
      </section>
    </div>
    ${round.draft
      ? html`<section class="card" aria-labelledby="practice-piece-h">
          <h2 id="practice-piece-h">Your piece</h2>
          <div class="piece-text marked">${parts.map((p, i) => (p.nums ? html`<mark key=${i}>${p.text}<sup class="sugg-num">${p.nums.join(",")}</sup></mark>` : html`<span key=${i}>${p.text}</span>`))}</div>
        </section>`
      : null}
    <button type="button" class="button primary" onClick=${onAgain}>Practise again</button>
  </section>`;
}

export function Practice({ state, rest, game }) {
  const [round, setRound] = useState(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const saved = local.get(KEY);
    if (saved && saved.id) {
      rest.call("GET", `/api/v1/practice/${saved.id}`).then(
        (r) => (r.status === "writing" ? setRound(r) : local.remove(KEY)),
        () => local.remove(KEY),
      );
    }
  }, []);
  const start = async () => {
    setBusy(true);
    setError("");
    try {
      let r;
      try {
        r = await rest.call("POST", "/api/v1/practice");
      } catch (err) {
        if (err.code !== "practice_in_progress" || !err.details.id) throw err;
        r = await rest.call("GET", `/api/v1/practice/${err.details.id}`); // resume it
      }
      if (r.status !== "writing") r = await rest.call("POST", "/api/v1/practice");
      local.set(KEY, { id: r.id, seq: r.seq, text: r.draft });
      setRound(r);
      const mins = Math.round(r.seconds / 60);
      game.announce(`Writing has started: ${r.prompt.title}. Focus on ${traitName(state.rubrics, r.focus)}. ${mins} minutes.`);
    } catch (err) {
      setError(err.code === "network" ? "You're offline, so a round can't start right now." : err.message);
    } finally {
      setBusy(false);
    }
  };
  const scored = (r) => {
    setRound(r);
    game.announce(r.result ? `Scored: ${fmtNumber(r.result.overall, 1)} of 6.` : "Handed in. Scoring…");
  };

  if (round && round.status === "writing") {
    return html`<${Writing} rest=${rest} game=${game} round=${round} rubrics=${state.rubrics} onScored=${scored} />`;
  }
  if (round) return html`<${Scored} round=${round} rubrics=${state.rubrics} onAgain=${start} />`;
  return html`<div class="practice">
    <h1 tabindex="-1">Practice</h1>
    <p class="lead">A timed round on your own: a prompt at your level, focused on your goal's trait (or the trait your scores say to work on). The AI scores it and suggests what to change. It is not rated.</p>
    <section class="card" aria-labelledby="practice-start-h">
      <h2 id="practice-start-h">Ready?</h2>
      <p>You'll have a few minutes to write. The clock starts when you press Start.</p>
      ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
      <button type="button" class="button primary big" onClick=${start} disabled=${busy}>Start practice</button>
    </section>
  </div>`;
}

// A lobby's results for its teacher (docs/lobbies.md, "Results, overrides and CSV"):
// every round, every party's ranking, and every student's piece — the text, the trait
// scores with the AI's rationale, overall, rank, rating change, review quality, the
// reviews received and given, paste and moderation flags, and whether the teacher
// overrode the score.  From a piece: *Change the score…* (trait scores and/or overall and
// a required reason; the server recomputes ranking and ratings).  *Download results (CSV)*
// fetches results.csv with the token (a plain link cannot send it) and saves it.

import { html, useEffect, useState } from "../js/html.js";
import { TRAITS, fmtDate, ordinal } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { problemText } from "./teach.js";

const VERDICTS = { mask: "masked", block: "blocked" };
const SCORER_FLAGS = { empty: "empty", off_topic: "off topic", too_short: "too short" };

/** A score as people write it: 4, 4.5, 3.67 (never 4.000). */
export function fmtScore(x) {
  if (x === null || x === undefined) return "—";
  return String(Math.round(Number(x) * 100) / 100);
}

function fmtChange(change) {
  if (change === null || change === undefined) return null;
  const r = Math.round(change * 100) / 100;
  if (r > 0) return { mark: "▲", word: `+${r.toFixed(2)}`, dir: "up" };
  if (r < 0) return { mark: "▼", word: `−${(-r).toFixed(2)}`, dir: "down" };
  return { mark: "•", word: "0.00", dir: "same" };
}

/** The ids of a piece's elements (the override form's fields among them). */
function pieceIds(match, seat) {
  const base = `p-${match.match_id.slice(0, 8)}-${seat.player_id}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return {
    card: base,
    heading: base + "-h",
    saved: base + "-saved",
    form: base + "-form",
    formH: base + "-form-h",
    summary: base + "-summary",
    traits: base + "-traits",
    trait: (t) => `${base}-trait-${t}`,
    overall: base + "-overall",
    reason: base + "-reason",
    general: base + "-general",
  };
}

/** Where a server field key ("traits.voice", "overall", "reason") is on the form. */
function fieldId(ids, key) {
  if (key === "reason") return ids.reason;
  if (key === "overall") return ids.overall;
  if (key === "traits") return ids.traits;
  const m = /^traits\.(.+)$/.exec(key);
  if (m && TRAITS.includes(m[1])) return ids.trait(m[1]);
  return null;
}

function sentence(text) {
  const t = String(text || "").trim();
  if (!t) return t;
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}

// Moderation reasons that reached the teacher (a safety signal is shown first, strongly).
const TEACHER_FLAGS = {
  self_harm: "Safety signal: this piece may show a risk of self-harm. Check in with the student.",
  harassment: "Flagged for you: harassment",
};

/** The marks of a seat, as words (with a symbol that is decoration only). */
function marks(seat) {
  const out = [];
  if (seat.override) out.push({ cls: "is-override", sym: "✎", text: "Overridden" });
  if (seat.empty) out.push({ cls: "is-warn", sym: "○", text: "Nothing submitted" });
  if (seat.dropped) out.push({ cls: "is-warn", sym: "○", text: "Left the match" });
  if (seat.paste && seat.paste.count) {
    out.push({ cls: "is-warn", sym: "⚠", text: `Pasted ${seat.paste.count}× (${seat.paste.chars} characters)` });
  }
  const mod = seat.moderation || {};
  for (const reason of mod.teacher_flags || []) {
    out.push({ cls: "is-alert", sym: "⚠", text: TEACHER_FLAGS[reason] || `Flagged for you: ${reason.replace(/_/g, " ")}` });
  }
  if (mod.flagged) {
    out.push({ cls: "is-flag", sym: "⚑", text: `Moderation: piece ${VERDICTS[mod.verdict] || mod.verdict}${mod.withheld ? ", kept from peers" : ""}` });
  }
  if (mod.reviews_withheld) {
    out.push({ cls: "is-flag", sym: "⚑", text: `${mod.reviews_withheld} ${mod.reviews_withheld === 1 ? "review" : "reviews"} withheld` });
  }
  for (const f of seat.flags || []) {
    if (f === "empty" && seat.empty) continue;
    out.push({ cls: "is-note", sym: "•", text: `Scorer: ${SCORER_FLAGS[f] || f.replace(/_/g, " ")}` });
  }
  if (seat.provisional) out.push({ cls: "is-note", sym: "•", text: "Provisional score" });
  return out;
}

function Marks({ seat, compact = false }) {
  const list = marks(seat);
  if (!list.length) return null;
  return html`<ul class=${"marks" + (compact ? " compact" : "")}>
    ${list.map((m) => html`<li key=${m.text} class=${m.cls}><span aria-hidden="true">${m.sym} </span>${m.text}</li>`)}
  </ul>`;
}

function byRank(a, b) {
  const ra = a.rank == null ? Infinity : a.rank;
  const rb = b.rank == null ? Infinity : b.rank;
  return ra - rb || a.name.localeCompare(b.name);
}

function RatingCell({ seat }) {
  const c = seat.rating ? fmtChange(seat.rating.change) : null;
  if (!c) return html`<span class="hint">practice</span>`;
  return html`<span class=${"change " + c.dir}><span aria-hidden="true">${c.mark} </span>${c.word}</span>`;
}

/** A party's ranking: rank, student, score, overall, rating change, review quality. */
function Ranking({ match, seats, pieces }) {
  return html`<div class="table-wrap"><table class="ranking results-ranking">
    <caption class="sr-only">Ranking of party ${match.party}</caption>
    <thead><tr>
      <th scope="col">Rank</th><th scope="col">Student</th><th scope="col">Score</th>
      <th scope="col" class="wide-only">Overall</th><th scope="col">Rating</th><th scope="col" class="wide-only">Review quality</th>
    </tr></thead>
    <tbody>
      ${seats.map((s) => {
        const ids = pieceIds(match, s);
        return html`<tr key=${s.player_id} class=${s.override ? "is-overridden" : ""}>
          <td class="num">${s.rank == null ? "—" : s.rank}</td>
          <th scope="row">
            ${pieces.has(s.player_id)
              ? html`<a href=${"#" + ids.card} onClick=${(e) => jump(e, ids.heading)}>${s.name}</a>`
              : html`<span>${s.name}</span>`}
            ${s.is_bot ? html` <span class="hint">(bot)</span>` : null}
            ${s.override ? html` <span class="override-tag"><span aria-hidden="true">✎ </span>overridden</span>` : null}
          </th>
          <td class="num">${fmtScore(s.score)}</td>
          <td class="num wide-only">${fmtScore(s.overall)}</td>
          <td class="num"><${RatingCell} seat=${s} /></td>
          <td class="num wide-only">${s.review_quality == null ? "—" : fmtScore(s.review_quality)}</td>
        </tr>`;
      })}
    </tbody>
  </table></div>`;
}

/** Move focus to an element of this page (links within the page; the router is not asked). */
function jump(e, id) {
  const el = document.getElementById(id);
  if (!el) return;
  e.preventDefault();
  el.focus();
  el.scrollIntoView({ block: "start" });
}

function Scores({ seat, focus, rubrics }) {
  const ai = seat.override ? seat.override.ai : null;
  const was = (t) => (ai && ai.traits && ai.traits[t] !== undefined && ai.traits[t] !== seat.traits[t] ? ai.traits[t] : null);
  const overallWas = ai && ai.overall !== null && ai.overall !== undefined && Math.abs(ai.overall - seat.overall) > 1e-9 ? ai.overall : null;
  const c = seat.rating ? fmtChange(seat.rating.change) : null;
  return html`<table class="trait-table">
      <caption class="sr-only">Scores of ${seat.name}'s piece</caption>
      <thead><tr><th scope="col">Trait</th><th scope="col" class="nowrap">Score (1–6)</th></tr></thead>
      <tbody>
        ${TRAITS.filter((t) => seat.traits && t in seat.traits).map(
          (t) => html`<tr key=${t} class=${t === focus ? "is-focus" : ""}>
            <th scope="row">${traitName(rubrics, t)}${t === focus ? html` <span class="focus-tag">★ focus</span>` : null}</th>
            <td class="num">${seat.traits[t]}${was(t) !== null ? html` <span class="ai-was">(AI gave ${was(t)})</span>` : null}</td>
          </tr>`,
        )}
        <tr class="overall-row">
          <th scope="row">Overall</th>
          <td class="num">${fmtScore(seat.overall)}${overallWas !== null ? html` <span class="ai-was">(AI gave ${fmtScore(overallWas)})</span>` : null}</td>
        </tr>
      </tbody>
    </table>
    <dl class="score-facts">
      <div><dt>Match score</dt><dd>${fmtScore(seat.score)} <span class="hint">(writing ${fmtScore(seat.writing)}, reviews ${fmtScore(seat.review)})</span></dd></div>
      <div><dt>Rating</dt><dd>${c
        ? html`${fmtScore(seat.rating.display_before)} → ${fmtScore(seat.rating.display_after)} <span class=${"change " + c.dir}><span aria-hidden="true">${c.mark} </span>${c.word}</span>`
        : html`<span class="hint">practice: no rating change</span>`}</dd></div>
      <div><dt>Review quality</dt><dd>${seat.review_quality == null ? html`<span class="hint">no reviews given</span>` : html`${fmtScore(seat.review_quality)} of 6`}</dd></div>
    </dl>`;
}

function Review({ r, kind, focusName }) {
  return html`<li>
    <p class="review-who">${kind === "received" ? html`From <strong>${r.reviewer_name}</strong>` : html`Of <strong>${r.writer_name}</strong>'s piece`}
      ${r.withheld ? html` <span class="flag-tag"><span aria-hidden="true">⚑ </span>withheld by moderation</span>` : null}</p>
    <p><span class="label">What works:</span> ${r.strength}</p>
    <p><span class="label">What to change:</span> ${r.suggestion}</p>
    <p class="hint">${focusName}: ${r.rating} of 6 · helpfulness (AI): ${r.helpfulness} of 6${r.reasons && r.reasons.length ? ` · ${r.reasons.join(" · ")}` : ""}</p>
  </li>`;
}

/** The override form of one piece: traits and overall (pre-filled with the scores in
 * force), the reason; errors by field and in a summary that takes the focus. */
function OverrideForm({ lobbyId, match, seat, focus, rubrics, rest, ids, onSaved, onCancel }) {
  const ai = seat.override ? seat.override.ai : { traits: seat.traits, overall: seat.overall };
  const [traits, setTraits] = useState(() => Object.fromEntries(TRAITS.filter((t) => t in seat.traits).map((t) => [t, String(seat.traits[t])])));
  const [overall, setOverall] = useState(fmtScore(seat.overall));
  const [reason, setReason] = useState(seat.override ? seat.override.reason : "");
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    requestAnimationFrame(() => document.getElementById(ids.formH)?.focus());
  }, []);

  const showErrors = (found, generalText) => {
    setErrors(found);
    setGeneral(generalText);
    requestAnimationFrame(() => document.getElementById(ids.summary)?.focus());
  };

  const submit = async (e) => {
    e.preventDefault();
    const local = {};
    if (!reason.trim()) local.reason = "Say why you are changing the score (up to 500 characters).";
    const rawOverall = overall.trim().replace(",", ".");
    const overallNum = rawOverall === "" ? null : Number(rawOverall);
    if (rawOverall !== "" && !Number.isFinite(overallNum)) local.overall = "Write a number from 1 to 6, such as 4 or 4.5 (or leave it empty for the AI's).";
    if (Object.keys(local).length) {
      showErrors(local, "");
      return;
    }
    // An override applies to the AI's original values: send every value that differs
    // from what the AI gave (an earlier override's values are sent again).
    const body = { reason: reason.trim() };
    const changed = {};
    for (const [t, v] of Object.entries(traits)) if (Number(v) !== ai.traits[t]) changed[t] = Number(v);
    if (Object.keys(changed).length) body.traits = changed;
    if (overallNum !== null && (ai.overall === null || Math.abs(overallNum - ai.overall) > 0.005)) body.overall = overallNum;
    if (!body.traits && body.overall === undefined && seat.override) body.traits = { ...ai.traits }; // back to the AI's
    setBusy(true);
    try {
      const answer = await rest.overrideScore(lobbyId, match.match_id, seat.player_id, body);
      setErrors({});
      setGeneral("");
      onSaved(answer);
    } catch (err) {
      const found = {};
      const unplaced = [];
      for (const [k, v] of Object.entries(err.fields || {})) {
        const text = sentence(k.startsWith("traits.") && !fieldId(ids, k) ? `${k.slice(7)}: ${v}` : v);
        if (fieldId(ids, k)) found[k] = text;
        else if (k.startsWith("traits.")) found.traits = text;
        else unplaced.push(`${k}: ${v}`);
      }
      let generalText = unplaced.join(" ");
      if (!Object.keys(found).length && !generalText) {
        generalText = err.code === "piece_empty"
          ? "This student submitted nothing: an empty piece scores 0 whatever its scores, so there is nothing to change."
          : err.code === "piece_not_found"
            ? "This piece can't be changed: the student has no scored place in this match."
            : problemText(err);
      }
      showErrors(found, generalText);
    } finally {
      setBusy(false);
    }
  };

  const err = (k) => errors[k];
  const described = (...xs) => xs.filter(Boolean).join(" ") || undefined;
  const summary = [...Object.entries(errors).map(([k, v]) => ({ id: fieldId(ids, k) === ids.traits ? ids.trait(Object.keys(traits)[0]) : fieldId(ids, k), label: labelOf(k, rubrics), text: v })),
    ...(general ? [{ id: null, label: null, text: general }] : [])];

  return html`<form class="override-form" id=${ids.form} onSubmit=${submit} novalidate aria-labelledby=${ids.formH}>
    <h5 id=${ids.formH} tabindex="-1">Change the score of ${seat.name}'s piece</h5>
    <p class="hint">The match score counts only the overall (¾) and the focus trait, ${traitName(rubrics, focus)} (¼); the other traits are feedback for the student.
      The ranking${match.ranked ? " and the ratings" : ""} are then worked out again. A new change replaces the previous one. The student sees the new scores, not your reason.</p>
    ${summary.length
      ? html`<div class="error-summary" id=${ids.summary} tabindex="-1" role="group" aria-labelledby=${ids.summary + "-t"}>
          <p class="error-summary-title" id=${ids.summary + "-t"}><span aria-hidden="true">⚠ </span>${summary.length === 1 ? "There is a problem" : `There are ${summary.length} problems`}</p>
          <ul>
            ${summary.map((s, i) => html`<li key=${i}>${s.id
              ? html`<a href=${"#" + s.id} onClick=${(e) => jump(e, s.id)}>${s.label}: ${s.text}</a>`
              : s.text}</li>`)}
          </ul>
        </div>`
      : null}
    <fieldset class="group" id=${ids.traits} aria-describedby=${described(err("traits") ? ids.traits + "-error" : null)}>
      <legend>Trait scores (1–6)</legend>
      ${err("traits") ? html`<p class="error" id=${ids.traits + "-error"}><span aria-hidden="true">⚠ </span>${err("traits")}</p>` : null}
      <div class="trait-fields">
        ${Object.keys(traits).map((t) => {
          const id = ids.trait(t);
          const e = err("traits." + t);
          return html`<div class=${"field" + (e ? " has-error" : "")} key=${t}>
            <label for=${id}>${traitName(rubrics, t)}${t === focus ? html` <span class="focus-tag">★ focus</span>` : null}</label>
            <select id=${id} value=${traits[t]} onChange=${(ev) => { const v = ev.currentTarget.value; setTraits((prev) => ({ ...prev, [t]: v })); }}
              aria-describedby=${described(id + "-ai", e ? id + "-error" : null)} aria-invalid=${e ? "true" : undefined}>
              ${[1, 2, 3, 4, 5, 6].map((n) => html`<option key=${n} value=${String(n)}>${n}</option>`)}
            </select>
            <p class="hint" id=${id + "-ai"}>AI gave ${ai.traits[t]}</p>
            ${e ? html`<p class="error" id=${id + "-error"}><span aria-hidden="true">⚠ </span>${e}</p>` : null}
          </div>`;
        })}
      </div>
    </fieldset>
    <div class=${"field" + (err("overall") ? " has-error" : "")}>
      <label for=${ids.overall}>Overall (1–6)</label>
      <p class="hint" id=${ids.overall + "-hint"}>The AI gave ${fmtScore(ai.overall)}. A decimal such as 4.5 is fine.</p>
      <input id=${ids.overall} type="text" inputmode="decimal" autocomplete="off" value=${overall} onInput=${(ev) => setOverall(ev.currentTarget.value)}
        class="short-input" aria-describedby=${described(ids.overall + "-hint", err("overall") ? ids.overall + "-error" : null)} aria-invalid=${err("overall") ? "true" : undefined} />
      ${err("overall") ? html`<p class="error" id=${ids.overall + "-error"}><span aria-hidden="true">⚠ </span>${err("overall")}</p>` : null}
    </div>
    <div class=${"field" + (err("reason") ? " has-error" : "")}>
      <label for=${ids.reason}>Reason (required)</label>
      <p class="hint" id=${ids.reason + "-hint"}>Up to 500 characters. Kept in the audit log; the student does not see it.</p>
      <textarea id=${ids.reason} rows="3" maxlength="500" required value=${reason} onInput=${(ev) => setReason(ev.currentTarget.value)}
        aria-describedby=${described(ids.reason + "-hint", err("reason") ? ids.reason + "-error" : null)} aria-invalid=${err("reason") ? "true" : undefined}></textarea>
      ${err("reason") ? html`<p class="error" id=${ids.reason + "-error"}><span aria-hidden="true">⚠ </span>${err("reason")}</p>` : null}
    </div>
    <div class="actions">
      <button type="submit" class="button primary" disabled=${busy}>${busy ? "Saving…" : "Save the new score"}</button>
      <button type="button" class="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

function labelOf(key, rubrics) {
  if (key === "reason") return "Reason";
  if (key === "overall") return "Overall";
  if (key === "traits") return "Trait scores";
  const m = /^traits\.(.+)$/.exec(key);
  return m ? traitName(rubrics, m[1]) : key;
}

function PieceCard({ lobbyId, match, seat, count, rubrics, rest, saved, onSaved }) {
  const ids = pieceIds(match, seat);
  const [open, setOpen] = useState(false);
  const focus = match.focus;
  const focusName = traitName(rubrics, focus);
  const canOverride = seat.rank != null && !seat.empty;
  const close = () => {
    setOpen(false);
    requestAnimationFrame(() => document.getElementById(ids.form + "-open")?.focus());
  };
  return html`<li class="result-piece" id=${ids.card}>
    <article aria-labelledby=${ids.heading}>
      <header class="piece-head">
        <h4 id=${ids.heading} tabindex="-1">${seat.name}
          <span class="alias-sub">${seat.username ? html` · <span class="mono">${seat.username}</span>` : null} · as ${seat.alias}</span></h4>
        <p class="piece-place">${seat.rank == null
          ? html`<span class="hint">no place (left the match)</span>`
          : html`<strong class="place">${ordinal(seat.rank)}</strong> of ${count} · score <strong>${fmtScore(seat.score)}</strong>`}</p>
        <${Marks} seat=${seat} />
      </header>
      ${saved ? html`<p class="saved-note" id=${ids.saved} tabindex="-1"><span aria-hidden="true">✓ </span>${saved}</p>` : null}
      ${seat.override
        ? html`<p class="override-note"><span aria-hidden="true">✎ </span><strong>Overridden</strong>${seat.override.by ? ` by ${seat.override.by.display_name}` : ""}${seat.override.at ? `, ${fmtDate(seat.override.at)}` : ""}${seat.override.revision > 1 ? ` (change ${seat.override.revision})` : ""}:
            ${" "}<q>${seat.override.reason}</q></p>`
        : null}
      <div class="piece-body">
        <section class="piece-words" aria-labelledby=${ids.card + "-text-h"}>
          <h5 id=${ids.card + "-text-h"}>The piece <span class="hint">(${seat.words} ${seat.words === 1 ? "word" : "words"})</span></h5>
          ${seat.text
            ? html`<div class="draft piece-full" tabindex="0" role="region" aria-label=${`Piece by ${seat.name}`}>${seat.text}</div>`
            : html`<p class="hint">Nothing was submitted.</p>`}
        </section>
        ${seat.rationale || (seat.suggestions && seat.suggestions.length)
          ? html`<section class="rationale" aria-labelledby=${ids.card + "-ai-h"}>
              <h5 id=${ids.card + "-ai-h"}>What the AI said</h5>
              ${seat.rationale ? html`<p>${seat.rationale}</p>` : null}
              ${seat.suggestions && seat.suggestions.length
                ? html`<ul class="ai-suggestions">${seat.suggestions.map((s, i) => html`<li key=${i}>${s.sentence ? html`<q>${s.sentence}</q> ` : null}${s.advice}</li>`)}</ul>`
                : null}
            </section>`
          : null}
        <section class="piece-scores" aria-labelledby=${ids.card + "-scores-h"}>
          <h5 id=${ids.card + "-scores-h"}>Scores</h5>
          <${Scores} seat=${seat} focus=${focus} rubrics=${rubrics} />
        </section>
      </div>
      <div class="piece-reviews">
        <section aria-labelledby=${ids.card + "-rr-h"}>
          <h5 id=${ids.card + "-rr-h"}>Reviews received: ${seat.reviews_received.length}</h5>
          ${seat.reviews_received.length
            ? html`<ul class="reviews">${seat.reviews_received.map((r) => html`<${Review} key=${r.review_id} r=${r} kind="received" focusName=${focusName} />`)}</ul>`
            : html`<p class="hint">None.</p>`}
        </section>
        <section aria-labelledby=${ids.card + "-rg-h"}>
          <h5 id=${ids.card + "-rg-h"}>Reviews given: ${seat.reviews_given.length}${seat.review_quality != null ? html` <span class="hint">· quality ${fmtScore(seat.review_quality)} of 6</span>` : null}</h5>
          ${seat.reviews_given.length
            ? html`<ul class="reviews">${seat.reviews_given.map((r) => html`<${Review} key=${r.review_id} r=${r} kind="given" focusName=${focusName} />`)}</ul>`
            : html`<p class="hint">None.</p>`}
        </section>
      </div>
      ${canOverride
        ? open
          ? html`<${OverrideForm} lobbyId=${lobbyId} match=${match} seat=${seat} focus=${focus} rubrics=${rubrics} rest=${rest} ids=${ids}
              onCancel=${close} onSaved=${(answer) => { setOpen(false); onSaved(answer, seat, ids); }} />`
          : html`<div class="piece-actions">
              <button type="button" class="button" id=${ids.form + "-open"} onClick=${() => setOpen(true)}>Change the score…</button>
            </div>`
        : null}
    </article>
  </li>`;
}

function Party({ lobbyId, round, match, rubrics, rest, saved, onSaved }) {
  const hId = `party-${round.round}-${match.party}`;
  if (!match.finished) {
    return html`<section class="party-results" aria-labelledby=${hId}>
      <h3 id=${hId}>Party ${match.party}</h3>
      <p class="hint">${round.ended_at ? "This match closed without results (nobody stayed to the end)." : "Still playing: the results come when the match ends."}</p>
    </section>`;
  }
  const seats = [...match.seats].sort(byRank);
  const students = seats.filter((s) => !s.is_bot);
  const pieces = new Set(students.map((s) => s.player_id));
  const bots = seats.length - students.length;
  return html`<section class="party-results" aria-labelledby=${hId}>
    <div class="phase-head">
      <h3 id=${hId}>Party ${match.party}</h3>
      <p class="party-facts">${match.ranked ? "ranked" : "practice"} · focus ${traitName(rubrics, match.focus)}${bots ? ` · ${bots} ${bots === 1 ? "bot" : "bots"}` : ""}${match.provisional ? " · some scores provisional" : ""}</p>
    </div>
    <${Ranking} match=${match} seats=${seats} pieces=${pieces} />
    <ul class="piece-list">
      ${students.map((s) => html`<${PieceCard} key=${s.player_id} lobbyId=${lobbyId} match=${match} seat=${s} count=${seats.length}
        rubrics=${rubrics} rest=${rest} saved=${saved && saved.player === s.player_id && saved.match === match.match_id ? saved.text : ""} onSaved=${onSaved} />`)}
    </ul>
  </section>`;
}

function CsvDownload({ rest, lobbyId, code }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const download = async () => {
    setBusy(true);
    setError("");
    try {
      const blob = await rest.resultsCsv(lobbyId);
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `lobby-${code || lobbyId.slice(0, 8)}-results.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      setError(problemText(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="csv-download">
    <button type="button" class="button primary" onClick=${download} disabled=${busy} aria-describedby="csv-hint">
      ${busy ? "Getting the file…" : "Download results (CSV)"}</button>
    <p class="hint" id="csv-hint">One row per student per round: the seven traits, overall, review quality, rank, rating change, pastes, moderation and overrides. Opens in any spreadsheet.</p>
    ${error ? html`<p class="form-error" role="alert"><span aria-hidden="true">⚠ </span>${error}</p>` : null}
  </div>`;
}

export function LobbyResults({ state, rest, game, lobbyId }) {
  const [info, setInfo] = useState(null); // GET /lobbies/{id}: {lobby, members, rounds}
  const [results, setResults] = useState(null);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(true);
  const [saved, setSaved] = useState(null); // {match, player, text}: the last change, shown in its card

  const load = () => {
    setLoading(true);
    setError("");
    Promise.all([rest.lobby(lobbyId).then(setInfo, () => null), rest.lobbyResults(lobbyId)])
      .then(([, r]) => setResults(r))
      .catch((err) => setError(err.code === "lobby_not_found" ? "There is no such lobby among yours." : problemText(err)))
      .finally(() => setLoading(false));
  };
  useEffect(load, [lobbyId]);

  const onSaved = (answer, seat, ids) => {
    const before = seat.rank;
    const after = answer.match.seats.find((s) => s.player_id === seat.player_id);
    setResults((prev) => ({
      ...prev,
      rounds: prev.rounds.map((r) => ({ ...r, matches: r.matches.map((m) => (m.match_id === answer.match.match_id ? answer.match : m)) })),
    }));
    const n = answer.match.seats.length;
    const place = after && after.rank != null ? `now ${ordinal(after.rank)} of ${n}${before != null && before !== after.rank ? ` (was ${ordinal(before)})` : ""}` : "";
    const text = `Score saved for ${seat.name}: overall ${fmtScore(after ? after.overall : null)}, match score ${fmtScore(after ? after.score : null)}${place ? ", " + place : ""}. The ranking${answer.match.ranked ? " and ratings" : ""} have been worked out again.`;
    setSaved({ match: answer.match.match_id, player: seat.player_id, text });
    game.announce(text);
    requestAnimationFrame(() => document.getElementById(ids.saved)?.focus());
  };

  const lobby = info && info.lobby;
  const rounds = (results && results.rounds) || [];
  const anyPlaying = rounds.some((r) => !r.ended_at);
  return html`<div class="lobby-results">
    <p class="crumbs"><a href="/teach">Teach</a> <span aria-hidden="true">›</span> <a href=${"/teach/lobbies/" + lobbyId}>${lobby ? lobby.name : "Lobby"}</a> <span aria-hidden="true">›</span> Results</p>
    <h1 tabindex="-1">Results${lobby ? html`<span class="sub"> — ${lobby.name}</span>` : null}</h1>
    ${error
      ? html`<div class="card"><p class="form-error" role="alert"><span aria-hidden="true">⚠ </span>${error}</p>
          <div class="actions"><button type="button" class="button" onClick=${load}>Try again</button><a class="button" href="/teach">Back to Teach</a></div></div>`
      : !results
        ? html`<p class="hint">Loading the results…</p>`
        : html`<section class="card results-tools" aria-labelledby="results-tools-h">
              <h2 id="results-tools-h" class="sr-only">The lobby</h2>
              <p class="lobby-facts">${lobby ? html`Code <span class="mono nowrap">${lobby.code}</span> · ` : null}${rounds.length} ${rounds.length === 1 ? "round" : "rounds"}${lobby && lobby.status === "closed" ? " · closed" : ""}</p>
              ${rounds.length ? html`<${CsvDownload} rest=${rest} lobbyId=${lobbyId} code=${lobby && lobby.code} />` : null}
              ${anyPlaying ? html`<p class="hint">A round is still playing. <button type="button" class="link" onClick=${load} disabled=${loading}>Check again</button></p>` : null}
            </section>
            ${rounds.length
              ? rounds.map(
                  (r) => html`<section class="card round-results" key=${r.round} aria-labelledby=${"round-h-" + r.round}>
                    <h2 id=${"round-h-" + r.round}>Round ${r.round}<span class="sub"> — ${r.prompt_title}</span></h2>
                    <p class="hint">${r.started_at ? `Started ${fmtDate(r.started_at)}` : ""}${r.ended_at ? ` · ended ${fmtDate(r.ended_at)}` : " · still playing"}</p>
                    ${r.matches.map((m) => html`<${Party} key=${m.match_id} lobbyId=${lobbyId} round=${r} match=${m} rubrics=${state.rubrics} rest=${rest} saved=${saved} onSaved=${onSaved} />`)}
                  </section>`,
                )
              : html`<div class="card"><p>No round has been played in this lobby yet.</p><a class="button" href=${"/teach/lobbies/" + lobbyId}>Back to the lobby</a></div>`}`}
  </div>`;
}

// Results: the ranking, your trait scores with the AI's rationale, its suggestions
// against the sentences of your piece, the reviews you got, how helpful yours were,
// your rating before → after, Play again and a link to the match's replay.  Also draws
// a past match (Me).

import { html } from "../js/html.js";
import { TraitChart, fmtNumber, ordinal } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { ReportButton } from "./reports.js";

/** Split `text` into plain runs and marked runs (each with the suggestion numbers on it). */
export function markSuggestions(text, suggestions) {
  const spans = new Map(); // "at:end" -> {at, end, nums}
  suggestions.forEach((s, i) => {
    const sentence = (s.sentence || "").trim();
    if (!sentence) return;
    let at = text.indexOf(sentence);
    if (at < 0) at = text.toLowerCase().indexOf(sentence.toLowerCase());
    if (at < 0) return;
    const key = `${at}:${at + sentence.length}`;
    if (!spans.has(key)) spans.set(key, { at, end: at + sentence.length, nums: [] });
    spans.get(key).nums.push(i + 1);
  });
  const found = [...spans.values()].sort((a, b) => a.at - b.at);
  const parts = [];
  const marked = new Set();
  let pos = 0;
  for (const f of found) {
    if (f.at < pos) continue; // overlapping another marked sentence: listed, not marked
    if (f.at > pos) parts.push({ text: text.slice(pos, f.at) });
    parts.push({ text: text.slice(f.at, f.end), nums: f.nums });
    f.nums.forEach((n) => marked.add(n));
    pos = f.end;
  }
  if (pos < text.length) parts.push({ text: text.slice(pos) });
  return { parts, marked };
}

function Rating({ row }) {
  if (!row || !row.rating) return null;
  const { display_before: before, display_after: after } = row.rating;
  const delta = after - before;
  const dir = delta > 0.05 ? "up" : delta < -0.05 ? "down" : "same";
  const word = dir === "up" ? `up ${fmtNumber(delta)}` : dir === "down" ? `down ${fmtNumber(-delta)}` : "no change";
  return html`<p class=${"rating-change " + dir}>
    <span class="label">Your rating</span>
    <span class="value">${fmtNumber(before)} → <strong>${fmtNumber(after)}</strong></span>
    <span class="delta"><span aria-hidden="true">${dir === "up" ? "▲ " : dir === "down" ? "▼ " : "• "}</span>${word}</span>
  </p>`;
}

export function Results({ results, report, text, you, prompt, rubrics, onPlayAgain, past = false, matchId = null, rest = null, game = null }) {
  const replayId = matchId || results.match_id;
  const ranking = results.ranking || [];
  const mine = ranking.find((r) => r.alias === you);
  const focus = results.focus;
  const suggestions = (report && report.suggestions) || [];
  const { parts, marked } = markSuggestions(text || "", suggestions);

  return html`<section class="results" aria-labelledby="results-h">
    <div class="phase-head">
      <h1 id="results-h" tabindex="-1" data-autofocus>${past ? "Results" : "Results"}${prompt ? html`<span class="sub"> — ${prompt.title}</span>` : null}</h1>
    </div>
    ${mine
      ? html`<div class="result-summary card">
          <p class="placing"><span class="big-rank">${ordinal(mine.rank)}</span> of ${ranking.length}</p>
          <p>Score <strong>${fmtNumber(mine.score, 2)}</strong> <span class="hint">(writing ${fmtNumber(mine.writing)}, reviews ${fmtNumber(mine.review)}, each 1–6)</span></p>
          <${Rating} row=${mine} />
          ${results.provisional ? html`<p class="hint">Some scores are provisional: a backup scorer stood in and they may be refined later.</p>` : null}
        </div>`
      : null}
    <div class="results-grid">
      <section class="card" aria-labelledby="ranking-h">
        <h2 id="ranking-h">Ranking</h2>
        <table class="ranking">
          <thead><tr><th scope="col">Rank</th><th scope="col">Writer</th><th scope="col">Score</th><th scope="col">Words</th></tr></thead>
          <tbody>
            ${ranking.map(
              (r) => html`<tr key=${r.alias} class=${r.alias === you ? "is-you" : ""}>
                <td>${r.rank}</td>
                <th scope="row">${r.alias}${r.alias === you ? html` <span class="you-tag">(you)</span>` : null}${r.left ? " · left" : ""}</th>
                <td>${fmtNumber(r.score, 2)}</td>
                <td>${r.words}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </section>
      ${report
        ? html`<section class="card" aria-labelledby="traits-h">
            <h2 id="traits-h">Your trait scores</h2>
            <${TraitChart} traits=${report.traits} focus=${focus} rubrics=${rubrics} />
            ${report.rationale ? html`<div class="rationale"><h3>What the AI saw</h3><p>${report.rationale}</p></div>` : null}
          </section>`
        : null}
    </div>
    ${report
      ? html`<section class="card" aria-labelledby="piece-h">
          <h2 id="piece-h">Your piece, with suggestions</h2>
          ${report.hidden ? html`<p class="notice notice-info">A moderator hid this piece from others after a report; you still see it.</p>` : null}
          ${text ? html`<div class="piece-text marked">${parts.map((p, i) =>
                p.nums ? html`<mark key=${i}>${p.text}<sup class="sugg-num">${p.nums.join(",")}</sup></mark>` : html`<span key=${i}>${p.text}</span>`,
              )}</div>`
            : html`<p class="hint">You didn't write anything this time.</p>`}
          ${suggestions.length
            ? html`<ol class="suggestions">
                ${suggestions.map(
                  (s, i) => html`<li key=${i}>
                    <q>${s.sentence}</q>${marked.has(i + 1) ? html` <span class="hint">(marked ${i + 1} above)</span>` : null}
                    <p>${s.advice}</p>
                  </li>`,
                )}
              </ol>`
            : html`<p class="hint">No suggestions on specific sentences this time.</p>`}
        </section>
        <div class="results-grid">
          <section class="card" aria-labelledby="received-h">
            <h2 id="received-h">Reviews you received</h2>
            ${report.reviews_received.length
              ? html`<ul class="reviews">
                  ${report.reviews_received.map(
                    (r, i) => html`<li key=${i}>
                      <p><strong>What works:</strong> ${r.strength}</p>
                      <p><strong>What to change:</strong> ${r.suggestion}</p>
                      <p class="hint">${traitName(rubrics, focus)}: ${r.rating} of 6</p>
                      ${rest && r.id ? html`<${ReportButton} rest=${rest} game=${game} kind="review" id=${r.id} what=${`review ${i + 1}`} />` : null}
                    </li>`,
                  )}
                </ul>`
              : html`<p class="hint">No reviews reached you this time.</p>`}
          </section>
          <section class="card" aria-labelledby="written-h">
            <h2 id="written-h">How helpful your reviews were</h2>
            ${report.reviews_written.length
              ? html`<ul class="reviews">
                  ${report.reviews_written.map(
                    (r, i) => html`<li key=${i}>
                      <p><strong>Your review of ${r.alias}:</strong> ${r.helpfulness} of 6</p>
                      ${r.reasons.length ? html`<p class="hint">${r.reasons.join(" · ")}</p>` : null}
                    </li>`,
                  )}
                </ul>`
              : html`<p class="hint">You didn't send any reviews this time.</p>`}
          </section>
        </div>`
      : null}
    <div class="actions">
      ${onPlayAgain ? html`<button type="button" class="button primary big" onClick=${onPlayAgain}>Play again</button>` : null}
      ${replayId ? html`<a class="button" href=${"/replays/" + replayId}>Watch the replay</a>` : null}
      <a class="button" href="/me">${past ? "Back to Me" : "Your progress"}</a>
    </div>
  </section>`;
}

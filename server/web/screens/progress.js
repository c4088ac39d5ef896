// Progress on Me (and a teacher's view of a student): tier, streaks, words per minute,
// review helpfulness, personal bests, the rating over time and the trait averages over
// time (SVG drawn here, each with a caption describing it and a data table), and what to
// practise next with a prompt of the pack. docs/progress.md.

import { html, useEffect, useState } from "../js/html.js";
import { fmtNumber, PromptCard } from "../js/ui.js";
import { traitName } from "../js/game.js";

const W = 600;
const H = 200;
const PAD = { left: 40, right: 16, top: 16, bottom: 28 };

function day(iso) {
  return new Date(iso).toLocaleDateString(undefined, { month: "short", day: "numeric", year: "numeric" });
}

function plural(n, one, many = one + "s") {
  return `${n} ${n === 1 ? one : many}`;
}

function trendWords(delta) {
  if (delta >= 0.25) return `rising (+${fmtNumber(delta)})`;
  if (delta <= -0.25) return `falling (${fmtNumber(delta)})`;
  return "steady";
}

/** Conservative rating after each ranked match, as a line; a caption and a table say the same. */
export function RatingOverTime({ series, id = "rating" }) {
  if (!series.length) return html`<p class="hint">Your rating line starts after your first ranked match.</p>`;
  const values = series.map((p) => p.conservative);
  const lo = Math.floor(Math.min(...values, 0));
  const hi = Math.ceil(Math.max(...values, lo + 1));
  const x = (i) =>
    values.length === 1 ? (W + PAD.left - PAD.right) / 2 : PAD.left + (i * (W - PAD.left - PAD.right)) / (values.length - 1);
  const y = (v) => H - PAD.bottom - ((v - lo) * (H - PAD.top - PAD.bottom)) / (hi - lo || 1);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const first = values[0];
  const last = values[values.length - 1];
  const best = Math.max(...values);
  const change = last - first;
  const caption =
    values.length === 1
      ? `Rating after your first ranked match: ${fmtNumber(last)}.`
      : `Rating over your last ${plural(values.length, "ranked match", "ranked matches")}: from ${fmtNumber(first)} to ${fmtNumber(last)} (${change >= 0 ? "+" : ""}${fmtNumber(change)}), highest ${fmtNumber(best)}.`;
  return html`<figure class="chart" aria-labelledby=${id + "-cap"}>
    <svg viewBox=${`0 0 ${W} ${H}`} aria-hidden="true" focusable="false" data-points=${values.length}>
      <line class="axis" x1=${PAD.left} y1=${H - PAD.bottom} x2=${W - PAD.right} y2=${H - PAD.bottom}></line>
      <line class="axis" x1=${PAD.left} y1=${PAD.top} x2=${PAD.left} y2=${H - PAD.bottom}></line>
      <line class="grid" x1=${PAD.left} y1=${y((lo + hi) / 2)} x2=${W - PAD.right} y2=${y((lo + hi) / 2)}></line>
      <text class="tick" x=${PAD.left - 6} y=${y(hi) + 4} text-anchor="end">${hi}</text>
      <text class="tick" x=${PAD.left - 6} y=${y(lo) + 4} text-anchor="end">${lo}</text>
      <text class="tick" x=${PAD.left} y=${H - 8}>${day(series[0].at)}</text>
      ${values.length > 1 ? html`<text class="tick" x=${W - PAD.right} y=${H - 8} text-anchor="end">${day(series[series.length - 1].at)}</text>` : null}
      <polyline class="line" points=${points}></polyline>
      ${values.map((v, i) => html`<circle key=${i} class="dot" cx=${x(i)} cy=${y(v)} r=${values.length > 30 ? 2.5 : 4}></circle>`)}
    </svg>
    <figcaption id=${id + "-cap"}>${caption}</figcaption>
    <details class="chart-data">
      <summary>Rating data table</summary>
      <div class="table-wrap"><table>
        <caption class="sr-only">Rating after each ranked match, oldest first</caption>
        <thead><tr><th scope="col">Match</th><th scope="col">Date</th><th scope="col">Rating</th><th scope="col">μ ± σ</th></tr></thead>
        <tbody>${series.map((p, i) => html`<tr key=${p.match_id}><th scope="row">${i + 1}</th><td>${day(p.at)}</td><td>${fmtNumber(p.conservative)}</td><td>${fmtNumber(p.mu)} ± ${fmtNumber(p.sigma)}</td></tr>`)}</tbody>
      </table></div>
    </details>
  </figure>`;
}

/** Each trait's scores over the recent pieces as a small line, its average and trend. */
export function TraitsOverTime({ traits, rubrics, id = "traits" }) {
  const scored = traits.filter((t) => t.recent != null);
  if (!scored.length) return html`<p class="hint">Trait averages appear after your first scored piece.</p>`;
  const strongest = scored.reduce((a, b) => (b.recent > a.recent ? b : a));
  const weakest = scored.reduce((a, b) => (b.recent < a.recent ? b : a));
  const rising = scored.filter((t) => t.trend >= 0.25).map((t) => traitName(rubrics, t.trait));
  const falling = scored.filter((t) => t.trend <= -0.25).map((t) => traitName(rubrics, t.trait));
  const caption = [
    `Strongest: ${traitName(rubrics, strongest.trait)} (${fmtNumber(strongest.recent)} of 6).`,
    `Weakest: ${traitName(rubrics, weakest.trait)} (${fmtNumber(weakest.recent)}).`,
    rising.length ? `Rising: ${rising.join(", ")}.` : "",
    falling.length ? `Falling: ${falling.join(", ")}.` : "",
  ].filter(Boolean).join(" ");
  const SW = 160;
  const SH = 36;
  return html`<figure class="chart traits-chart" aria-labelledby=${id + "-cap"}>
    <ul class="trait-lines" aria-hidden="true">
      ${traits.map((t) => {
        const s = t.series;
        const x = (i) => (s.length === 1 ? SW - 4 : 4 + (i * (SW - 8)) / (s.length - 1));
        const y = (v) => SH - 4 - ((v - 1) * (SH - 8)) / 5;
        return html`<li key=${t.trait}>
          <span class="trait-name">${traitName(rubrics, t.trait)}</span>
          <svg class="spark" viewBox=${`0 0 ${SW} ${SH}`} focusable="false">
            <line class="grid" x1="0" y1=${y(3.5)} x2=${SW} y2=${y(3.5)}></line>
            ${s.length > 1 ? html`<polyline class="line" points=${s.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}></polyline>` : null}
            ${s.length ? html`<circle class="dot" cx=${x(s.length - 1)} cy=${y(s[s.length - 1])} r="3"></circle>` : null}
          </svg>
          <span class="trait-value">${t.recent == null ? "—" : fmtNumber(t.recent)}</span>
          <span class=${"trend " + (t.trend >= 0.25 ? "up" : t.trend <= -0.25 ? "down" : "flat")}>${t.trend >= 0.25 ? "▲" : t.trend <= -0.25 ? "▼" : "•"}</span>
        </li>`;
      })}
    </ul>
    <figcaption id=${id + "-cap"}>${caption}</figcaption>
    <details class="chart-data">
      <summary>Trait data table</summary>
      <div class="table-wrap"><table>
        <caption class="sr-only">Trait averages: the last ten pieces, the ten before, the trend and the recent scores</caption>
        <thead><tr><th scope="col">Trait</th><th scope="col">Recent average</th><th scope="col">Before</th><th scope="col">Trend</th><th scope="col">Scores, oldest first</th></tr></thead>
        <tbody>${traits.map((t) => html`<tr key=${t.trait}>
          <th scope="row">${traitName(rubrics, t.trait)}</th>
          <td>${t.recent == null ? "—" : fmtNumber(t.recent)}</td>
          <td>${t.earlier == null ? "—" : fmtNumber(t.earlier)}</td>
          <td>${t.earlier == null ? "—" : trendWords(t.trend)}</td>
          <td>${t.series.join(", ") || "—"}</td>
        </tr>`)}</tbody>
      </table></div>
    </details>
  </figure>`;
}

function Stats({ p }) {
  const next = p.tier.next;
  const rating = p.rating ? p.rating.conservative : null;
  return html`<dl class="stats">
    <div><dt>Tier</dt><dd><strong class="tier">${p.tier.name}</strong>
      ${next ? html`<span class="hint">${rating == null ? `${next.name} from ${fmtNumber(next.from, 0)}` : `${fmtNumber(Math.max(0, next.from - rating))} to ${next.name}`}</span>` : html`<span class="hint">the top tier</span>`}</dd></div>
    <div><dt>Rating</dt><dd><strong>${rating == null ? "—" : fmtNumber(rating)}</strong><span class="hint">${plural(p.matches, "match", "matches")}</span></dd></div>
    <div><dt>Streak</dt><dd><strong>${plural(p.streak.current, "day")}</strong><span class="hint">best ${plural(p.streak.best, "day")}</span></dd></div>
    <div><dt>Words per minute</dt><dd><strong>${p.words_per_minute == null ? "—" : fmtNumber(p.words_per_minute)}</strong><span class="hint">recent pieces</span></dd></div>
    <div><dt>Review helpfulness</dt><dd><strong>${p.review_helpfulness == null ? "—" : fmtNumber(p.review_helpfulness)}</strong><span class="hint">of 6, reviews you gave</span></dd></div>
  </dl>`;
}

function Bests({ bests }) {
  return html`<ul class="bests">
    <li><span>Best overall score</span> <strong>${bests.overall == null ? "—" : fmtNumber(bests.overall)}</strong></li>
    <li><span>Most words in a piece</span> <strong>${bests.words == null ? "—" : bests.words}</strong></li>
    <li><span>First places</span> <strong>${bests.first_places}</strong></li>
    <li><span>Highest rating</span> <strong>${bests.rating == null ? "—" : fmtNumber(bests.rating)}</strong></li>
  </ul>`;
}

function PractiseNext({ practise, rubrics, own }) {
  if (!practise) return html`<p class="hint">Play a match: what to practise next appears once a piece is scored.</p>`;
  const r = rubrics && rubrics[practise.trait];
  return html`<div class="practise">
    <p><strong>${traitName(rubrics, practise.trait)}</strong> is ${own ? "your" : "the"} weakest trait lately (${fmtNumber(practise.recent)} of 6).
      ${r ? html` <span class="hint">${r.summary}</span>` : null}</p>
    ${practise.prompt
      ? html`<p class="hint">A ${practise.level} prompt ${practise.prompt_trains_trait ? "that trains it" : `to write for ${traitName(rubrics, practise.trait)}`}:</p>
          <${PromptCard} prompt=${practise.prompt} headingLevel=${3} />`
      : null}
    ${own ? html`<p><a class="button primary" href="/play">Play a match</a></p>` : null}
  </div>`;
}

/** The whole progress block; ``path`` picks whose (default: yours), ``refresh`` reloads it. */
export function ProgressSection({ rest, rubrics, path = "/api/v1/progress/me", refresh = 0, own = true, onLoad }) {
  const [p, setP] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    rest.call("GET", path).then(
      (data) => {
        if (!live) return;
        setP(data);
        setError("");
        if (onLoad) onLoad(data);
      },
      (err) => live && setError(err.code === "network" ? "You're offline, so progress can't load right now." : err.message),
    );
    return () => {
      live = false;
    };
  }, [path, refresh]);
  if (error) return html`<section class="card" aria-labelledby="progress-h"><h2 id="progress-h">Progress</h2><p class="form-error">${error}</p></section>`;
  if (!p) return html`<section class="card" aria-labelledby="progress-h"><h2 id="progress-h">Progress</h2><p class="hint">Loading…</p></section>`;
  return html`<div class="progress-block">
    <section class="card" aria-labelledby="progress-h">
      <h2 id="progress-h">Progress</h2>
      <${Stats} p=${p} />
    </section>
    <div class="progress-grid">
      <section class="card" aria-labelledby="rating-h">
        <h2 id="rating-h">Rating over time</h2>
        <${RatingOverTime} series=${p.rating_series} />
      </section>
      <section class="card" aria-labelledby="traits-h">
        <h2 id="traits-h">Traits over time</h2>
        <${TraitsOverTime} traits=${p.traits} rubrics=${rubrics} />
      </section>
    </div>
    <div class="progress-grid">
      <section class="card" aria-labelledby="practise-h">
        <h2 id="practise-h">Practise next</h2>
        <${PractiseNext} practise=${p.practise} rubrics=${rubrics} own=${own} />
      </section>
      <section class="card" aria-labelledby="bests-h">
        <h2 id="bests-h">Personal bests</h2>
        <${Bests} bests=${p.bests} />
      </section>
    </div>
  </div>`;
}

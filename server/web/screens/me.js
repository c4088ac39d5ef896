// Me: your rating over time and your past matches (each links to its results and its
// replay); a guest can turn into an account here and keep everything.

import { html, useEffect, useState } from "../js/html.js";
import { fmtDate, fmtNumber, ordinal } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { AccountForm } from "./home.js";
import { Results } from "./results.js";

function RatingChart({ history }) {
  if (!history.length) return html`<p class="hint">Your rating appears here after your first ranked match.</p>`;
  const values = [history[0].display_before, ...history.map((h) => h.display_after)];
  const lo = Math.min(...values, 0);
  const hi = Math.max(...values, 1);
  const W = 600;
  const H = 180;
  const pad = 24;
  const x = (i) => pad + (i * (W - 2 * pad)) / Math.max(1, values.length - 1);
  const y = (v) => H - pad - ((v - lo) * (H - 2 * pad)) / (hi - lo || 1);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const last = values[values.length - 1];
  const label = `Rating over your last ${history.length} ranked ${history.length === 1 ? "match" : "matches"}: from ${fmtNumber(values[0])} to ${fmtNumber(last)}.`;
  return html`<figure class="rating-chart">
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${label} focusable="false">
      <line class="axis" x1=${pad} y1=${H - pad} x2=${W - pad} y2=${H - pad}></line>
      <line class="axis" x1=${pad} y1=${pad} x2=${pad} y2=${H - pad}></line>
      <text class="tick" x=${pad - 4} y=${y(hi) + 4} text-anchor="end">${fmtNumber(hi, 0)}</text>
      <text class="tick" x=${pad - 4} y=${y(lo) + 4} text-anchor="end">${fmtNumber(lo, 0)}</text>
      <polyline class="line" points=${points}></polyline>
      ${values.map((v, i) => html`<circle key=${i} class="dot" cx=${x(i)} cy=${y(v)} r="4"></circle>`)}
    </svg>
    <figcaption>${label}</figcaption>
  </figure>`;
}

export function Me({ state, rest, game }) {
  const user = state.user;
  const [ratings, setRatings] = useState(null);
  const [page, setPage] = useState({ items: [], next: null, loaded: false });
  const [error, setError] = useState("");
  const [upgraded, setUpgraded] = useState(false);

  const loadMore = async (cursor) => {
    try {
      const data = await rest.myMatches(cursor);
      setPage((p) => ({ items: cursor ? [...p.items, ...data.items] : data.items, next: data.next_cursor, loaded: true }));
    } catch (err) {
      setError(err.code === "network" ? "You're offline, so your history can't load right now." : err.message);
    }
  };
  useEffect(() => {
    loadMore(null);
    rest.myRatings().then(setRatings, () => {});
  }, []);

  const current = ratings && ratings.current;
  return html`<div class="me">
    <h1 tabindex="-1">Me</h1>
    <p class="lead">${user ? user.display_name : ""}${user && user.guest ? " · playing as a guest" : user && user.handle ? ` · @${user.handle}` : ""}</p>
    ${user && user.guest && !upgraded
      ? html`<section class="card" aria-labelledby="upgrade-h">
          <h2 id="upgrade-h">Keep your progress</h2>
          <p>Create an account with a handle and password. Your matches and rating stay with it.</p>
          <${AccountForm} mode="upgrade" rest=${rest} idPrefix="upgrade" submitLabel="Create account"
            onDone=${() => { setUpgraded(true); game.announce("Your account is ready. Your history is kept."); }} />
        </section>`
      : null}
    ${upgraded ? html`<p class="notice notice-info">Your account is ready; your history is kept.</p>` : null}
    <section class="card" aria-labelledby="rating-h">
      <h2 id="rating-h">Rating over time</h2>
      ${current ? html`<p>Now <strong>${fmtNumber(current.display)}</strong> after ${current.matches} ranked ${current.matches === 1 ? "match" : "matches"}.</p>` : null}
      ${ratings ? html`<${RatingChart} history=${ratings.history} />` : html`<p class="hint">Loading…</p>`}
    </section>
    <section class="card" aria-labelledby="past-h">
      <h2 id="past-h">Past matches</h2>
      ${error ? html`<p class="form-error">${error}</p>` : null}
      ${page.loaded && !page.items.length ? html`<p>No finished matches yet. <a href="/play">Play one</a>.</p>` : null}
      ${page.items.length
        ? html`<div class="table-wrap"><table class="matches">
            <thead><tr><th scope="col">Prompt</th><th scope="col">Date</th><th scope="col">Rank</th><th scope="col">Score</th><th scope="col"><span class="sr-only">Results and replay</span></th></tr></thead>
            <tbody>
              ${page.items.map(
                (m) => html`<tr key=${m.match_id}>
                  <th scope="row">${m.prompt_title}<span class="hint"> · ${traitName(state.rubrics, m.focus)}</span></th>
                  <td>${fmtDate(m.finished_at)}</td>
                  <td>${m.rank ? `${ordinal(m.rank)} of ${m.players}` : "—"}</td>
                  <td>${fmtNumber(m.score, 2)}</td>
                  <td class="match-links">
                    <a href=${"/me/matches/" + m.match_id} aria-label=${`Results of ${m.prompt_title}, ${fmtDate(m.finished_at)}`}>Results</a>
                    <a href=${"/replays/" + m.match_id} aria-label=${`Replay of ${m.prompt_title}, ${fmtDate(m.finished_at)}`}>Replay</a>
                  </td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
        : null}
      ${page.next ? html`<button type="button" class="button" onClick=${() => loadMore(page.next)}>Older matches</button>` : null}
    </section>
  </div>`;
}

export function PastMatch({ state, rest, matchId }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setData(null);
    rest.myMatch(matchId).then(setData, (err) => setError(err.status === 404 ? "This match isn't among yours." : err.message));
  }, [matchId]);
  if (error) return html`<div class="card"><h1 tabindex="-1">Results</h1><p>${error}</p><a href="/me">Back to Me</a></div>`;
  if (!data) return html`<div class="card"><h1 tabindex="-1">Results</h1><p class="hint">Loading…</p></div>`;
  return html`<div class="past">
    <p class="hint">${fmtDate(data.finished_at)} · <a href="/me">Back to Me</a></p>
    <${Results} results=${data.results} report=${data.report} text=${data.text} you=${data.you}
      prompt=${data.prompt} rubrics=${state.rubrics} past=${true} matchId=${data.match_id} />
  </div>`;
}

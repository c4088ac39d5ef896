// Me: your progress (rating and traits over time, tier, streaks, bests, what to practise
// next), your goals, and your past matches (each links to its results and its replay); a
// guest can turn into an account here and keep everything.

import { html, useEffect, useState } from "../js/html.js";
import { fmtDate, fmtNumber, ordinal } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { AccountForm } from "./home.js";
import { Results } from "./results.js";
import { ProgressSection } from "./progress.js";
import { GoalsSection } from "./goals.js";
import { PrivacySection } from "./portfolio.js";

const SOLO = "practice-solo"; // a solo practice round: one seat, no reviews, no replay

export function Me({ state, rest, game }) {
  const user = state.user;
  const [changed, setChanged] = useState(0); // a goal set or deleted: progress reloads
  const [weakest, setWeakest] = useState(null);
  const pushed = state.pushed && state.pushed.kind === "goal_met" ? state.pushed.n : 0;
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
  }, []);

  return html`<div class="me">
    <h1 tabindex="-1">Me</h1>
    <p class="lead">${user ? user.display_name : ""}${user && user.guest ? " · playing as a guest" : user && user.handle ? ` · @${user.handle}` : ""}</p>
    <p class="link-row"><a href="/portfolio">Portfolio: every piece you wrote</a></p>
    ${user && user.guest && !upgraded
      ? html`<section class="card" aria-labelledby="upgrade-h">
          <h2 id="upgrade-h">Keep your progress</h2>
          <p>Create an account with a handle and password. Your matches and rating stay with it.</p>
          <${AccountForm} mode="upgrade" rest=${rest} idPrefix="upgrade" submitLabel="Create account"
            onDone=${() => { setUpgraded(true); game.announce("Your account is ready. Your history is kept."); }} />
        </section>`
      : null}
    ${upgraded ? html`<p class="notice notice-info">Your account is ready; your history is kept.</p>` : null}
    <${ProgressSection} rest=${rest} rubrics=${state.rubrics} refresh=${changed + pushed}
      onLoad=${(p) => setWeakest(p.practise ? p.practise.trait : null)} />
    <${GoalsSection} rest=${rest} rubrics=${state.rubrics} game=${game} refresh=${pushed} suggest=${weakest}
      onChanged=${() => setChanged((n) => n + 1)} />
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
                  <td>${m.mode === SOLO ? "Practice" : m.rank ? `${ordinal(m.rank)} of ${m.players}` : "—"}</td>
                  <td>${fmtNumber(m.score, 2)}</td>
                  <td class="match-links">
                    <a href=${"/me/matches/" + m.match_id} aria-label=${`Results of ${m.prompt_title}, ${fmtDate(m.finished_at)}`}>Results</a>
                    ${m.mode === SOLO
                      ? null
                      : html`<a href=${"/replays/" + m.match_id} aria-label=${`Replay of ${m.prompt_title}, ${fmtDate(m.finished_at)}`}>Replay</a>`}
                  </td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
        : null}
      ${page.next ? html`<button type="button" class="button" onClick=${() => loadMore(page.next)}>Older matches</button>` : null}
    </section>
    <${PrivacySection} rest=${rest} game=${game} user=${user} />
  </div>`;
}

export function PastMatch({ state, rest, game, matchId }) {
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
      prompt=${data.prompt} rubrics=${state.rubrics} past=${true} matchId=${data.match_id} rest=${rest} game=${game} />
  </div>`;
}

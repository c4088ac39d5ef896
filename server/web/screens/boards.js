// Leaderboards: the global board, your classes' and your pod's, by conservative rating,
// one season at a time (or all time), with your own place even when it is not on the page.

import { html, useEffect, useState } from "../js/html.js";
import { fmtNumber, ordinal } from "../js/ui.js";

const DATE = { month: "short", day: "numeric" };

function seasonLabel(s) {
  if (!s) return "All time";
  const from = new Date(s.starts_at).toLocaleDateString(undefined, DATE);
  const to = new Date(new Date(s.ends_at).getTime() - 1).toLocaleDateString(undefined, DATE);
  return `Season ${s.number}${s.current ? " (now)" : ""} · ${from} – ${to}`;
}

function Row({ row, me }) {
  const mine = me && me.user_id === row.user_id;
  return html`<tr class=${mine ? "is-you" : undefined} aria-current=${mine ? "true" : undefined}>
    <td class="num">${ordinal(row.rank)}</td>
    <th scope="row">${row.display_name}${mine ? html`<span class="hint"> · you</span>` : null}</th>
    <td class="num">${fmtNumber(row.rating)}</td>
    <td class="num">${row.matches}</td>
  </tr>`;
}

function Board({ rest, path, season, title }) {
  const [page, setPage] = useState(null);
  const [error, setError] = useState("");
  const query = (cursor) => {
    const q = new URLSearchParams({ season });
    if (cursor) q.set("cursor", cursor);
    return `/api/v1/leaderboards/${path}?${q}`;
  };
  const load = async (cursor) => {
    setError("");
    try {
      const data = await rest.call("GET", query(cursor));
      setPage((p) => ({ ...data, items: cursor && p ? [...p.items, ...data.items] : data.items }));
    } catch (err) {
      setError(err.code === "network" ? "You're offline, so the board can't load right now." : err.message);
    }
  };
  useEffect(() => {
    setPage(null);
    load(null);
  }, [path, season]);

  const id = "board-" + path.replace(/[^a-z0-9]/gi, "-");
  if (error) return html`<p class="form-error">${error}</p>`;
  if (!page) return html`<p class="hint">Loading…</p>`;
  const me = page.me;
  const shown = me && page.items.some((r) => r.user_id === me.user_id);
  return html`<div>
    ${me
      ? html`<p>You are <strong>${ordinal(me.rank)}</strong> with a rating of ${fmtNumber(me.rating)}.</p>`
      : html`<p class="hint">You are not on this board${page.season ? " this season" : ""} yet: play a ranked match to join it.</p>`}
    ${page.items.length
      ? html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby=${id}><table class="board" aria-labelledby=${id}>
          <caption id=${id} class="sr-only">${title}, ${seasonLabel(page.season)}</caption>
          <thead><tr><th scope="col" class="num">Rank</th><th scope="col">Writer</th><th scope="col" class="num">Rating</th><th scope="col" class="num">Matches</th></tr></thead>
          <tbody>
            ${page.items.map((r) => html`<${Row} key=${r.user_id} row=${r} me=${me} />`)}
            ${me && !shown ? html`<tr class="gap" aria-hidden="true"><td colspan="4">⋯</td></tr>` : null}
            ${me && !shown ? html`<${Row} row=${me} me=${me} />` : null}
          </tbody>
        </table></div>`
      : html`<p>Nobody is on this board yet.</p>`}
    ${page.next_cursor ? html`<button type="button" class="button" onClick=${() => load(page.next_cursor)}>More</button>` : null}
  </div>`;
}

export function Boards({ rest }) {
  const [seasons, setSeasons] = useState(null);
  const [season, setSeason] = useState("current");
  const [groups, setGroups] = useState([]);
  const [which, setWhich] = useState("global");

  useEffect(() => {
    rest.call("GET", "/api/v1/leaderboards/seasons").then(setSeasons, () => setSeasons({ enabled: false, items: [] }));
    Promise.all([
      rest.call("GET", "/api/v1/classes").then((d) => d.items.map((c) => ({ path: `classes/${c.id}`, title: `Class ${c.name}` })), () => []),
      rest.call("GET", "/api/v1/pods/me").then((d) => (d.pod ? [{ path: `pods/${d.pod.id}`, title: `Your pod, ${d.pod.name}` }] : []), () => []),
    ]).then(([classes, pods]) => setGroups([...classes, ...pods]));
  }, []);

  const boards = [{ path: "global", title: "Everyone" }, ...groups];
  const chosen = boards.find((b) => b.path === which) || boards[0];
  const seasonParam = season === "current" ? (seasons && seasons.enabled && seasons.items.length ? String(seasons.items[0].number) : "all") : season;
  return html`<div class="boards">
    <h1 tabindex="-1">Leaderboards</h1>
    <p class="lead">Ranked by conservative rating — your rating minus three times its uncertainty — so a few lucky wins do not top the board.</p>
    <div class="card board-controls">
      <div class="field">
        <label for="board-which">Board</label>
        <select id="board-which" value=${chosen.path} onChange=${(e) => setWhich(e.target.value)}>
          ${boards.map((b) => html`<option key=${b.path} value=${b.path}>${b.title}</option>`)}
        </select>
      </div>
      ${seasons && seasons.enabled
        ? html`<div class="field">
            <label for="board-season">Season</label>
            <select id="board-season" value=${season} onChange=${(e) => setSeason(e.target.value)}>
              <option value="current">${seasons.items.length ? seasonLabel(seasons.items[0]) : "This season"}</option>
              ${seasons.items.slice(1).map((s) => html`<option key=${s.number} value=${String(s.number)}>${seasonLabel(s)}</option>`)}
              <option value="all">All time</option>
            </select>
          </div>`
        : null}
    </div>
    <section class="card" aria-labelledby="board-h">
      <h2 id="board-h">${chosen.title}</h2>
      ${seasons ? html`<${Board} rest=${rest} path=${chosen.path} season=${seasonParam} title=${chosen.title} />` : html`<p class="hint">Loading…</p>`}
    </section>
  </div>`;
}

// Watch: the matches being played now on this server (GET /api/v1/matches/live, a page
// at a time, "More" for the next), refreshed every 10 s while the page is visible; each
// opens the spectator view.  Refreshing never moves focus or speaks: the list is keyed by
// match, so a focused link stays where it is.

import { html, useEffect, useRef, useState } from "../js/html.js";
import { traitName } from "../js/game.js";
import { PHASE_NAMES } from "../js/replay.js";
import { mmss, seconds } from "./replay.js";

const REFRESH_MS = 10_000;

function ago(seconds) {
  if (seconds < 60) return "just now";
  const m = Math.floor(seconds / 60);
  return m === 1 ? "1 minute ago" : `${m} minutes ago`;
}

function LiveItem({ m, now, rubrics }) {
  const id = "live-" + m.match_id;
  const left = m.deadline != null && now != null && !["results", "closed"].includes(m.phase) ? Math.max(0, m.deadline - now) : null;
  const humans = Math.max(0, m.seats - m.bots);
  return html`<li class="card live-item" data-match=${m.match_id}>
    <h2 class="live-title" id=${id + "-h"}>${m.prompt ? m.prompt.title : "A match"}</h2>
    <p class="live-phase" id=${id + "-p"}>
      <span class="phase-tag">${PHASE_NAMES[m.phase] || m.phase}${m.paused ? " · paused" : ""}</span>
      ${left != null ? html` <span class="hint">${mmss(Math.ceil(left))} left</span>` : null}
    </p>
    <p class="hint live-facts">${[
      m.lobby ? "Class lobby" : m.ranked ? "Ranked" : "Practice",
      m.focus ? `focus ${traitName(rubrics, m.focus)}` : null,
      `${m.seats} ${m.seats === 1 ? "writer" : "writers"}` +
        (m.bots ? ` (${humans} ${humans === 1 ? "person" : "people"}, ${m.bots} ${m.bots === 1 ? "bot" : "bots"})` : ""),
      `${m.spectators} watching`,
      m.delay > 0 ? `${seconds(m.delay)} s behind live` : "no delay",
      m.started_at != null && now != null ? `started ${ago(now - m.started_at)}` : null,
    ].filter(Boolean).join(" · ")}</p>
    <a class="button primary small" href=${"/watch/" + m.match_id} aria-describedby=${`${id}-h ${id}-p`}>Watch this match</a>
  </li>`;
}

export function Watch({ state, rest, game }) {
  const [list, setList] = useState({ items: [], next: null, pages: 1, loaded: false, error: "" });
  const [, setTick] = useState(0);
  const busy = useRef(false);
  const listRef = useRef(list);
  listRef.current = list;
  const focusNext = useRef(null); // after More: the first new match takes the focus
  useEffect(() => {
    const id = focusNext.current;
    if (!id) return;
    focusNext.current = null;
    const link = document.querySelector(`.live-item[data-match="${id}"] a`);
    if (link) link.focus();
  }, [list]);

  const problem = (err) =>
    err.code === "network" ? "You're offline, so the live matches can't load right now." : err.message || "The live matches could not load.";

  /** Load `pages` pages from the start (a refresh keeps as many as were shown). */
  const load = async (pages) => {
    if (busy.current) return;
    busy.current = true;
    try {
      let items = [];
      let cursor = null;
      for (let i = 0; i < pages; i++) {
        const data = await rest.liveMatches(cursor);
        const seen = new Set(items.map((m) => m.match_id));
        items = items.concat(data.items.filter((m) => !seen.has(m.match_id)));
        cursor = data.next_cursor;
        if (!cursor) break;
      }
      setList({ items, next: cursor, pages, loaded: true, error: "" });
    } catch (err) {
      setList((l) => ({ ...l, loaded: true, error: problem(err) }));
    } finally {
      busy.current = false;
    }
  };

  const more = async () => {
    const l = listRef.current;
    if (!l.next || busy.current) return;
    busy.current = true;
    try {
      const data = await rest.liveMatches(l.next);
      const seen = new Set(l.items.map((m) => m.match_id));
      const fresh = data.items.filter((m) => !seen.has(m.match_id));
      focusNext.current = fresh.length ? fresh[0].match_id : null;
      setList({ ...l, items: l.items.concat(fresh), next: data.next_cursor, pages: l.pages + 1, error: "" });
    } catch (err) {
      setList({ ...l, error: problem(err) });
    } finally {
      busy.current = false;
    }
  };

  useEffect(() => {
    load(1);
    const refresh = () => {
      if (document.visibilityState === "visible") load(listRef.current.pages);
    };
    const timer = setInterval(refresh, REFRESH_MS);
    const clock = setInterval(() => setTick((n) => n + 1), 1000);
    document.addEventListener("visibilitychange", refresh);
    return () => {
      clearInterval(timer);
      clearInterval(clock);
      document.removeEventListener("visibilitychange", refresh);
    };
  }, []);

  const now = game.serverNow();
  return html`<div class="watch">
    <h1 tabindex="-1">Watch</h1>
    <p class="lead">Matches being written right now. Spectators see every draft grow, a little behind live, then the reviews and results.</p>
    ${list.error ? html`<p class="form-error">${list.error}</p>` : null}
    ${!list.loaded ? html`<p class="hint">Loading…</p>` : null}
    ${list.loaded && !list.items.length && !list.error
      ? html`<div class="card empty"><p><strong>No matches are being played right now.</strong></p>
          <p class="hint">This list updates by itself every few seconds. Or <a href="/play">play one</a>, or watch the replay of one of <a href="/me">your past matches</a>.</p></div>`
      : null}
    ${list.items.length
      ? html`<ul class="live-list" aria-label="Live matches">
          ${list.items.map((m) => html`<${LiveItem} key=${m.match_id} m=${m} now=${now} rubrics=${state.rubrics} />`)}
        </ul>`
      : null}
    ${list.next ? html`<button type="button" class="button" onClick=${more}>More</button>` : null}
  </div>`;
}

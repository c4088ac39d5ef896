// Notifications: the list (route /notifications), read/unread, mark all read; the unread
// count in the header, kept live by the `notification` push (docs/notifications.md).

import { html, useEffect, useState } from "../js/html.js";
import { fmtDate, fmtNumber } from "../js/ui.js";
import { traitName } from "../js/game.js";

const LIST = "/api/v1/notifications";

/** One line saying what a notification is about (text only: data is from the server). */
export function describe(n, rubrics) {
  const d = n.data || {};
  switch (n.kind) {
    case "goal_met":
      return `Goal met: ${traitName(rubrics, d.trait)} reached ${fmtNumber(d.reached == null ? d.target : d.reached)} (target ${fmtNumber(d.target)}).`;
    case "score_overridden": {
      const traits = Object.entries(d.traits || {}).map(([t, v]) => `${traitName(rubrics, t)} ${v}`);
      const parts = [...traits, d.overall == null ? "" : `overall ${fmtNumber(d.overall)}`].filter(Boolean);
      return `Your teacher changed a score${parts.length ? ": " + parts.join(", ") : ""}.`;
    }
    case "pod_session_soon":
      return "Your study pod's session starts soon.";
    case "escalation_answered":
      return "Your teacher answered your question.";
    case "escalation_asked":
      return `${d.student || "A student"} asked you a question.`;
    case "teacher_message":
      return `Message from your teacher${d.class_name ? ` (${d.class_name})` : ""}: ${d.text || ""}`;
    case "report_action": {
      const what = d.kind === "review" ? "review" : "piece";
      if (d.action === "hide") return `A moderator hid one of your ${what}s from others after a report. You still see it.`;
      if (d.action === "unhide") return `A moderator made your ${what} visible to others again.`;
      return `A moderator warned you about one of your ${what}s${d.message ? ": " + d.message : "."}`;
    }
    default:
      return "Something new for you.";
  }
}

function link(n) {
  const d = n.data || {};
  if (n.kind === "score_overridden" && d.match_id) return { href: "/me/matches/" + d.match_id, text: "See the match" };
  if (n.kind === "goal_met") return { href: "/me", text: "Set your next goal" };
  if (n.kind === "escalation_answered" && d.thread_id) return { href: "/tutor/" + d.thread_id, text: "Read the answer" };
  if (n.kind === "escalation_asked") return { href: "/teach/questions", text: "Answer it" };
  if (n.kind === "report_action" && d.match_id) return { href: "/me/matches/" + d.match_id, text: "See the match" };
  if (n.kind === "pod_session_soon") return { href: "/pods", text: "Open your pod" };
  return null;
}

/** The push: count it, say it, and hand it to the screens that show it. */
export function onNotification(game, d) {
  const s = game.store.get();
  game.store.set({ unread: (s.unread || 0) + 1, pushed: { ...d, n: ((s.pushed && s.pushed.n) || 0) + 1 } });
  game.announce(`New notification. ${describe(d, s.rubrics)}`);
}

/** Load the unread count once per signed-in account (the push keeps it current). */
export function useUnread(user, game, rest) {
  const id = user && user.id;
  useEffect(() => {
    if (!id) {
      game.store.set({ unread: null });
      return;
    }
    rest.call("GET", `${LIST}?limit=1&unread=true`).then(
      (page) => game.store.set({ unread: page.unread }),
      () => {},
    );
  }, [id]);
}

export function UnreadBadge({ count }) {
  if (!count) return null;
  return html`<span class="badge" data-unread=${count}>${count > 99 ? "99+" : count}<span class="sr-only"> unread</span></span>`;
}

function Item({ n, rubrics, onRead, busy }) {
  const to = link(n);
  const text = describe(n, rubrics);
  const suggestions = n.kind === "goal_met" ? (n.data && n.data.suggestions) || [] : [];
  return html`<li class=${"note" + (n.read ? "" : " is-unread")}>
    <div class="note-body">
      <p class="note-text">${n.read ? null : html`<span class="dot-unread" aria-hidden="true"></span><span class="sr-only">Unread: </span>`}${text}</p>
      ${suggestions.length
        ? html`<p class="hint">Next goal ideas:</p>
            <ul class="next-goals">${suggestions.map((s) => html`<li key=${s.trait}>${traitName(rubrics, s.trait)} to ${fmtNumber(s.target)}</li>`)}</ul>`
        : null}
      <p class="hint"><time datetime=${n.created_at}>${fmtDate(n.created_at)}</time>${to ? html` · <a href=${to.href}>${to.text}</a>` : null}</p>
    </div>
    ${n.read ? null : html`<button type="button" class="button small" disabled=${busy} aria-label=${`Mark read: ${text}`} onClick=${() => onRead(n)}>Mark read</button>`}
  </li>`;
}

export function Notifications({ state, rest, game }) {
  const [page, setPage] = useState(null);
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const query = (cursor) => `${LIST}?${new URLSearchParams({ unread: String(unreadOnly), ...(cursor ? { cursor } : {}) })}`;
  const load = async (cursor) => {
    setError("");
    try {
      const data = await rest.call("GET", query(cursor));
      setPage((p) => ({ ...data, items: cursor && p ? [...p.items, ...data.items] : data.items }));
      game.store.set({ unread: data.unread });
    } catch (err) {
      setError(err.code === "network" ? "You're offline, so notifications can't load right now." : err.message);
    }
  };
  useEffect(() => {
    load(null);
  }, [unreadOnly, state.pushed && state.pushed.n]);

  const settle = (result, ids) => {
    game.store.set({ unread: result.unread });
    setPage((p) => p && {
      ...p,
      unread: result.unread,
      items: p.items
        .map((n) => (ids === null || ids.includes(n.id) ? { ...n, read: true } : n))
        .filter((n) => !unreadOnly || !n.read),
    });
  };
  const markOne = async (n) => {
    setBusy(true);
    try {
      settle(await rest.call("POST", `${LIST}/read`, { ids: [n.id] }), [n.id]);
      game.announce("Marked read.");
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  const markAll = async () => {
    setBusy(true);
    try {
      const result = await rest.call("POST", `${LIST}/read-all`);
      settle(result, null);
      game.announce(result.marked ? `Marked ${result.marked} read.` : "Nothing was unread.");
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };

  const items = page ? page.items : [];
  return html`<div class="notifications">
    <h1 tabindex="-1">Notifications</h1>
    <p class="lead">${page ? (page.unread ? `${page.unread} unread` : "All read.") : "Loading…"}</p>
    <div class="actions">
      <div class="segmented" role="group" aria-label="Show">
        <button type="button" class="button small" aria-pressed=${!unreadOnly} onClick=${() => setUnreadOnly(false)}>All</button>
        <button type="button" class="button small" aria-pressed=${unreadOnly} onClick=${() => setUnreadOnly(true)}>Unread</button>
      </div>
      <button type="button" class="button small" disabled=${busy || !page || !page.unread} onClick=${markAll}>Mark all read</button>
    </div>
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    <section class="card" aria-label="Notifications list">
      ${page && !items.length ? html`<p>${unreadOnly ? "Nothing unread." : "Nothing yet. Goals met, your teacher's messages and changed scores show up here."}</p>` : null}
      ${items.length ? html`<ul class="notes">${items.map((n) => html`<${Item} key=${n.id} n=${n} rubrics=${state.rubrics} onRead=${markOne} busy=${busy} />`)}</ul>` : null}
      ${page && page.next_cursor ? html`<button type="button" class="button" onClick=${() => load(page.next_cursor)}>Older notifications</button>` : null}
    </section>
  </div>`;
}

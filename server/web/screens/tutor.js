// Tutor: a student's threads with the writing tutor (docs/tutor.md).  Ask a question (about
// writing, or about one of your own pieces), read the answer with its confidence and what
// that was computed from, ask a follow-up; a low-confidence answer offers Ask my teacher,
// and the teacher's answer shows in the same thread.  When the day's AI budget is spent,
// or the AI is unavailable, the offline tutor answers and the answer says so.

import { html, useEffect, useState } from "../js/html.js";
import { Field, fmtDate } from "../js/ui.js";
import { isTeacher } from "../js/rest.js";

const enc = encodeURIComponent;
const FACTOR_NAMES = {
  support: "Support",
  relevance: "Relevance",
  clarity: "Clarity",
  completeness: "Completeness",
};
const FACTOR_HINTS = {
  support: "how well what it knows backs the answer",
  relevance: "how well it fits your question and your writing",
  clarity: "how clear the question was",
  completeness: "how much of the question it covered",
};
const NOTICES = {
  spend_cap: "Today's AI budget is used up, so the offline tutor answered this one.",
  ai_unavailable: "The AI tutor could not answer just now, so the offline tutor did.",
};
const MAX_QUESTION = 2000;

export function problemText(err) {
  if (!err) return "";
  if (err.code === "network") return "You're offline. Try again when you're connected.";
  if (err.code === "tutor_daily_limit") {
    const at = err.details && err.details.resets_at ? new Date(err.details.resets_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "midnight";
    return `You've asked all your questions for today. You can ask again after ${at}.`;
  }
  if (err.code === "tutor_off") return "Your teacher has switched the tutor off for your class.";
  if (err.code === "guest_account") return "Create an account to ask the tutor.";
  if (err.code === "no_teacher") return "You're not in a class, so there's no teacher to ask.";
  if (err.code === "thread_full") return "This thread is full. Start a new question.";
  if (err.code === "rate_limited") return "That's a lot of questions at once. Wait a minute and try again.";
  const fields = err.fields || {};
  const first = Object.values(fields)[0];
  return first ? `Your question ${first}.` : err.message;
}

function StatusLine({ status }) {
  if (!status) return null;
  if (!status.enabled) {
    const why = status.off_reason === "tutor_off"
      ? "Your teacher has switched the tutor off for your class. You can still read your threads and ask your teacher."
      : "Create an account to ask the tutor.";
    return html`<p class="notice notice-warn tutor-off">${why}</p>`;
  }
  const left = Math.max(0, status.questions_per_day - status.questions_today);
  const at = new Date(status.resets_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return html`<p class="hint tutor-quota">
    ${left} of ${status.questions_per_day} questions left today (more after ${at}).
    ${status.spend_capped ? html` <strong>The offline tutor is answering for the rest of today.</strong>` : null}
  </p>`;
}

function Confidence({ m }) {
  const factors = m.factors || {};
  const names = Object.keys(FACTOR_NAMES).filter((k) => k in factors);
  return html`<details class=${"confidence confidence-" + m.confidence}>
    <summary>
      <span class="confidence-label">Confidence: <strong>${m.confidence}</strong></span>
      <span class="hint"> · why?</span>
    </summary>
    <ul class="factors">
      ${names.map(
        (k) => html`<li key=${k}>
          <span class="factor-name">${FACTOR_NAMES[k]}</span>
          <svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">
            <rect class="bar-track" x="0" y="0" width="100" height="8" rx="4"></rect>
            <rect class="bar-fill" x="0" y="0" width=${Math.round(factors[k] * 100)} height="8" rx="4"></rect>
          </svg>
          <span class="factor-value">${Math.round(factors[k] * 100)} %</span>
          <span class="hint factor-hint">${FACTOR_HINTS[k]}</span>
        </li>`,
      )}
    </ul>
  </details>`;
}

function Message({ m }) {
  const who = m.author === "student" ? "You" : m.author === "teacher" ? `Teacher · ${m.teacher ? m.teacher.display_name : ""}` : "Tutor";
  return html`<li class=${"tutor-msg from-" + m.author} key=${m.id}>
    <p class="msg-who"><strong>${who}</strong> <span class="hint">${fmtDate(m.created_at)}</span></p>
    <p class="msg-text">${m.text}</p>
    ${m.author === "tutor"
      ? html`<div class="msg-meta">
          ${m.declined ? null : html`<${Confidence} m=${m} />`}
          <p class="hint msg-engine">
            ${m.engine === "claude" ? "Answered by the AI tutor" : "Answered by the offline tutor"}${m.cached ? " · you asked this before, so this is the saved answer" : ""}
          </p>
          ${m.notice ? html`<p class="notice notice-info msg-notice" data-notice=${m.notice}>${NOTICES[m.notice] || m.notice}</p>` : null}
        </div>`
      : null}
  </li>`;
}

function AskForm({ id, label, hint, busy, onAsk, pieces, disabled }) {
  const [text, setText] = useState("");
  const [piece, setPiece] = useState("");
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    if (!text.trim()) {
      setError("Type your question first.");
      document.getElementById(id)?.focus();
      return;
    }
    setError("");
    const problem = await onAsk(text.trim(), piece || null);
    if (problem) {
      setError(problem);
      document.getElementById(id)?.focus();
    } else {
      setText("");
    }
  };
  return html`<form class="stack-form ask-form" onSubmit=${submit} novalidate>
    <${Field} id=${id} label=${label} hint=${hint} multiline rows=${3} maxlength=${MAX_QUESTION}
      value=${text} onInput=${(e) => setText(e.currentTarget.value)} error=${error} disabled=${disabled} />
    ${pieces && pieces.length
      ? html`<div class="field">
          <label for=${id + "-piece"}>About one of your pieces (optional)</label>
          <select id=${id + "-piece"} value=${piece} onChange=${(e) => setPiece(e.currentTarget.value)} disabled=${disabled}>
            <option value="">No, about writing in general</option>
            ${pieces.map((p) => html`<option key=${p.match_id} value=${p.match_id}>${p.prompt_title} · ${fmtDate(p.finished_at)}</option>`)}
          </select>
        </div>`
      : null}
    <button type="submit" class="button primary" disabled=${busy || disabled}>${busy ? "Asking…" : "Ask"}</button>
  </form>`;
}

function EscalationState({ thread }) {
  const e = thread.escalation;
  if (!e) return null;
  if (e.status === "open") {
    return html`<p class="notice notice-info escalation-state"><span aria-hidden="true">✉ </span>Your teacher has been asked${e.reason === "safety" ? " to check in with you" : ""}. Their answer will appear here.</p>`;
  }
  return html`<p class="hint escalation-state">Your teacher answered on ${fmtDate(e.answered_at)}.</p>`;
}

function Thread({ threadId, rest, game, status, onChanged }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [escalating, setEscalating] = useState(false);
  const load = () =>
    rest.call("GET", `/api/v1/tutor/threads/${enc(threadId)}/messages`).then(setData, (err) =>
      setError(err.status === 404 ? "This thread isn't one of yours." : problemText(err)),
    );
  useEffect(() => {
    setData(null);
    setError("");
    load();
  }, [threadId]);
  if (error && !data) return html`<section class="card"><h2>Thread</h2><p class="form-error">${error}</p></section>`;
  if (!data) return html`<section class="card"><h2>Thread</h2><p class="hint">Loading…</p></section>`;
  const { thread, messages } = data;
  const last = [...messages].reverse().find((m) => m.author !== "student");
  const offer = last && last.author === "tutor" && last.ask_teacher && !(thread.escalation && thread.escalation.status === "open");
  const ask = async (text) => {
    setBusy(true);
    try {
      const r = await rest.call("POST", `/api/v1/tutor/threads/${enc(threadId)}/messages`, { text });
      setData({ thread: r.thread, messages: [...messages, ...r.messages] });
      const answer = r.messages[r.messages.length - 1];
      game.announce(`The tutor answered, with ${answer.confidence} confidence.`);
      onChanged();
      return "";
    } catch (err) {
      return problemText(err);
    } finally {
      setBusy(false);
    }
  };
  const escalate = async () => {
    setEscalating(true);
    setError("");
    try {
      const r = await rest.call("POST", `/api/v1/tutor/threads/${enc(threadId)}/escalate`);
      setData({ thread: r.thread, messages });
      game.announce("Your teacher has been asked. Their answer will appear in this thread.");
      onChanged();
    } catch (err) {
      setError(problemText(err));
    } finally {
      setEscalating(false);
    }
  };
  return html`<section class="card tutor-thread" aria-labelledby="thread-h">
    <h2 id="thread-h" tabindex="-1" data-autofocus>${thread.title}</h2>
    ${thread.match_id ? html`<p class="hint">About your piece · <a href=${"/me/matches/" + thread.match_id}>see its results</a></p>` : null}
    <ol class="tutor-messages" aria-label="Messages">
      ${messages.map((m) => html`<${Message} key=${m.id} m=${m} />`)}
    </ol>
    <${EscalationState} thread=${thread} />
    ${offer
      ? html`<div class="ask-teacher">
          <p>The tutor isn't sure about this one.</p>
          ${status && status.has_teacher
            ? html`<button type="button" class="button" onClick=${escalate} disabled=${escalating}>${escalating ? "Asking…" : "Ask my teacher"}</button>`
            : html`<p class="hint">Ask my teacher needs a class, and you're not in one.</p>`}
        </div>`
      : null}
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    <${AskForm} id="follow-up" label="Ask a follow-up" hint="Up to 2,000 characters. The tutor helps you write; it won't write your piece for you."
      busy=${busy} onAsk=${ask} disabled=${status && !status.enabled} />
  </section>`;
}

export function Tutor({ state, rest, game, threadId }) {
  const [status, setStatus] = useState(null);
  const [threads, setThreads] = useState({ items: [], next: null, loaded: false });
  const [pieces, setPieces] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const refresh = () => {
    rest.call("GET", "/api/v1/tutor/status").then(setStatus, () => {});
    rest.call("GET", "/api/v1/tutor/threads").then(
      (d) => setThreads({ items: d.items, next: d.next_cursor, loaded: true }),
      (err) => setError(problemText(err)),
    );
  };
  const more = async () => {
    const d = await rest.call("GET", `/api/v1/tutor/threads?cursor=${enc(threads.next)}`);
    setThreads((t) => ({ items: [...t.items, ...d.items], next: d.next_cursor, loaded: true }));
  };
  useEffect(() => {
    refresh();
    rest.myMatches().then((d) => setPieces(d.items.slice(0, 10)), () => {});
  }, []);
  const askNew = async (question, matchId) => {
    setBusy(true);
    try {
      const body = { question };
      if (matchId) body.match_id = matchId;
      const r = await rest.call("POST", "/api/v1/tutor/threads", body);
      const answer = r.messages[r.messages.length - 1];
      game.announce(`The tutor answered, with ${answer.confidence} confidence.`);
      refresh();
      game.router.go(`/tutor/${r.thread.id}`);
      return "";
    } catch (err) {
      return problemText(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="tutor">
    <h1 tabindex="-1">Tutor</h1>
    <p class="lead">Ask about writing, or about one of your pieces. The tutor explains and gives you tips; the writing stays yours.</p>
    ${isTeacher(state.user)
      ? html`<p class="notice notice-info"><a href="/teach/questions">Questions your students asked for you</a></p>`
      : null}
    <${StatusLine} status=${status} />
    ${threadId ? html`<${Thread} threadId=${threadId} rest=${rest} game=${game} status=${status} onChanged=${refresh} />` : null}
    <section class="card" aria-labelledby="new-h">
      <h2 id="new-h">${threadId ? "Ask something new" : "Ask a question"}</h2>
      <${AskForm} id="new-question" label="Your question" hint="For example: how do I punctuate dialogue? Up to 2,000 characters."
        busy=${busy} onAsk=${askNew} pieces=${pieces} disabled=${status && !status.enabled} />
    </section>
    <section class="card" aria-labelledby="threads-h">
      <h2 id="threads-h">Your questions</h2>
      ${error ? html`<p class="form-error">${error}</p>` : null}
      ${threads.loaded && !threads.items.length ? html`<p class="hint">No questions yet.</p>` : null}
      <ul class="thread-list">
        ${threads.items.map(
          (t) => html`<li key=${t.id}>
            <a href=${"/tutor/" + t.id} aria-current=${t.id === threadId ? "page" : undefined}>${t.title}</a>
            <span class="hint"> · ${fmtDate(t.updated_at)}</span>
            ${t.escalation
              ? html` <span class=${"thread-tag thread-tag-" + t.escalation.status}>${t.escalation.status === "open" ? "Teacher asked" : "Teacher answered"}</span>`
              : null}
          </li>`,
        )}
      </ul>
      ${threads.next ? html`<button type="button" class="button" onClick=${more}>Older questions</button>` : null}
    </section>
  </div>`;
}

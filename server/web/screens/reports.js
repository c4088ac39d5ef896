// Content reports (docs/reports.md): the Report button and its dialog (on a piece or a
// review you saw), and the review queue of a teacher or an admin with its actions
// (dismiss, hide, warn).  The dialog is a native modal <dialog>: the page behind it is
// inert, Tab stays inside it (checked here too), Escape closes it, and focus goes back
// to the button that opened it.

import { html, useEffect, useRef, useState } from "../js/html.js";
import { fmtDate } from "../js/ui.js";
import { traitName } from "../js/game.js";

export const REASONS = [
  ["bullying", "Bullying or unkind to someone"],
  ["hate", "Hateful about a group of people"],
  ["sexual", "Sexual content"],
  ["self_harm", "The writer may be at risk"],
  ["personal_info", "Personal information (a name, an address…)"],
  ["spam", "Spam or nonsense"],
  ["cheating", "Not the writer's own work"],
  ["other", "Something else (say what)"],
];
const REASON_TEXT = Object.fromEntries(REASONS);
const STATUS_TEXT = { open: "Open", dismissed: "Dismissed", hidden: "Hidden", warned: "Author warned", restored: "Shown again" };
const NOTE_MAX = 1000;

function focusables(root) {
  return [...root.querySelectorAll("button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])")].filter(
    (el) => !el.disabled && el.offsetParent !== null,
  );
}

/** A "Report" button that opens the report dialog for one piece or review. */
export function ReportButton({ rest, game, kind, id, what }) {
  const dialog = useRef(null);
  const opener = useRef(null);
  const [reason, setReason] = useState("");
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const base = "report-" + id.replace(/[^A-Za-z0-9]/g, "-");

  const open = () => {
    if (done) {
      game.announce("You reported this already: a teacher or an admin has it.");
      return;
    }
    setErrors({});
    dialog.current.showModal();
    const first = dialog.current.querySelector("input[type=radio]");
    if (first) first.focus();
  };
  const close = () => {
    if (dialog.current.open) dialog.current.close();
  };
  useEffect(() => {
    const d = dialog.current;
    const back = () => opener.current && opener.current.focus();
    d.addEventListener("close", back);
    return () => d.removeEventListener("close", back);
  }, []);
  const trap = (e) => {
    if (e.key !== "Tab") return;
    const items = focusables(dialog.current);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  const submit = async (e) => {
    e.preventDefault();
    if (!reason) {
      setErrors({ reason: "Choose a reason." });
      dialog.current.querySelector("input[type=radio]").focus();
      return;
    }
    setBusy(true);
    setErrors({});
    try {
      const body = { target: { kind, id }, reason };
      if (note.trim()) body.note = note;
      await rest.call("POST", "/api/v1/reports", body);
      setDone(true);
      close();
      game.announce("Thank you. Your report went to a teacher or an admin; the writer is not told who reported.");
    } catch (err) {
      if (err.code === "already_reported") {
        setDone(true);
        close();
        game.announce("You reported this already.");
        return;
      }
      const fields = err.fields || {};
      setErrors(fields.note || fields.reason ? fields : { form: err.message });
    } finally {
      setBusy(false);
    }
  };

  return html`<span class="report">
    <button type="button" class="button small" ref=${opener} onClick=${open} aria-disabled=${done ? "true" : undefined}
      aria-label=${done ? `Reported: ${what}` : `Report ${what}`}>${done ? "Reported" : "Report"}</button>
    <dialog ref=${dialog} class="report-dialog" aria-labelledby=${base + "-h"} onKeyDown=${trap}>
      <form onSubmit=${submit} noValidate>
        <h2 id=${base + "-h"}>Report ${what}</h2>
        <p class="hint">A teacher or an admin reads your report. The writer is never told who sent it.</p>
        ${errors.form ? html`<p class="form-error" role="alert">${errors.form}</p>` : null}
        <fieldset class=${"reasons" + (errors.reason ? " has-error" : "")} aria-describedby=${errors.reason ? base + "-reason-err" : undefined}>
          <legend>What is wrong?</legend>
          ${REASONS.map(
            ([value, label]) => html`<div class="field check" key=${value}>
              <input type="radio" id=${base + "-" + value} name=${base + "-reason"} value=${value}
                checked=${reason === value} onChange=${() => { setReason(value); setErrors({}); }} />
              <label for=${base + "-" + value}>${label}</label>
            </div>`,
          )}
          ${errors.reason ? html`<p class="error" id=${base + "-reason-err"}><span aria-hidden="true">⚠ </span>${errors.reason}</p>` : null}
        </fieldset>
        <div class=${"field" + (errors.note ? " has-error" : "")}>
          <label for=${base + "-note"}>Anything to add (optional)</label>
          <textarea id=${base + "-note"} rows="3" maxLength=${NOTE_MAX} value=${note} onInput=${(e) => setNote(e.target.value)}
            aria-invalid=${errors.note ? "true" : undefined} aria-describedby=${errors.note ? base + "-note-err" : undefined}></textarea>
          ${errors.note ? html`<p class="error" id=${base + "-note-err"}><span aria-hidden="true">⚠ </span>${errors.note}</p>` : null}
        </div>
        <div class="actions">
          <button type="submit" class="button primary" disabled=${busy}>${busy ? "Sending…" : "Send report"}</button>
          <button type="button" class="button" onClick=${close}>Cancel</button>
        </div>
      </form>
    </dialog>
  </span>`;
}

function Content({ entry }) {
  if (entry.target.kind === "piece") {
    return entry.content.text
      ? html`<div class="piece-text quoted">${entry.content.text}</div>`
      : html`<p class="hint">The piece is no longer stored.</p>`;
  }
  return html`<div class="quoted">
    <p><strong>What works:</strong> ${entry.content.strength || "—"}</p>
    <p><strong>What to change:</strong> ${entry.content.suggestion || "—"}</p>
  </div>`;
}

function Entry({ entry, rest, game, rubrics, onActed }) {
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const base = "queue-" + entry.id;
  const what = entry.target.kind === "piece" ? "piece" : "review";
  const act = async (action) => {
    setBusy(true);
    setError("");
    try {
      const body = { action };
      if (note.trim()) body.note = note;
      await rest.call("POST", `/api/v1/reports/${entry.id}/actions`, body);
      const said = { dismiss: "Report dismissed.", hide: `The ${what} is hidden from others.`, warn: "The author is warned.", unhide: `The ${what} is visible to others again.` };
      game.announce(said[action]);
      onActed();
    } catch (err) {
      setError((err.fields && err.fields.note) || err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<li class="card queue-entry">
    <h2 class="queue-title" id=${base + "-h"}>${REASON_TEXT[entry.reason] || entry.reason}
      <span class="hint"> · a ${what} by ${entry.author ? entry.author.display_name : entry.alias || "a bot"}${entry.author && entry.alias ? ` (${entry.alias})` : ""}</span></h2>
    <p class="hint">Reported ${fmtDate(entry.created_at)} · focus ${traitName(rubrics, entry.focus)} · ${entry.reports_on_content} report${entry.reports_on_content === 1 ? "" : "s"} on it
      · <span class=${"tag tag-" + entry.status}>${STATUS_TEXT[entry.status]}</span>${entry.hidden && entry.status !== "hidden" ? " · hidden" : ""}</p>
    ${entry.note ? html`<p><strong>The reporter says:</strong> ${entry.note}</p>` : null}
    <${Content} entry=${entry} />
    <p class="link-row queue-links"><a href=${"/replays/" + entry.match_id}>Open the match's replay</a>
      ${entry.author ? html`<a href=${"/portfolio?user=" + entry.author.user_id}>Portfolio of ${entry.author.display_name}</a>` : null}</p>
    ${entry.status === "open"
      ? html`<div class="queue-actions" role="group" aria-labelledby=${base + "-h"}>
          <div class="field">
            <label for=${base + "-note"}>Note (sent to the author with a warning)</label>
            <textarea id=${base + "-note"} rows="2" maxLength="500" value=${note} onInput=${(e) => setNote(e.target.value)}
              aria-describedby=${error ? base + "-err" : undefined}></textarea>
          </div>
          ${error ? html`<p class="form-error" id=${base + "-err"} role="alert">${error}</p>` : null}
          <div class="actions">
            <button type="button" class="button" disabled=${busy} onClick=${() => act("dismiss")}>Dismiss</button>
            <button type="button" class="button danger" disabled=${busy} onClick=${() => act("hide")}>Hide the ${what}</button>
            <button type="button" class="button" disabled=${busy} onClick=${() => act("warn")}>Warn the author</button>
          </div>
        </div>`
      : html`<p class="hint">Closed ${entry.closed_at ? fmtDate(entry.closed_at) : ""}${entry.action_note ? ` · note: ${entry.action_note}` : ""}</p>
          ${entry.status === "hidden"
            ? html`${error ? html`<p class="form-error" id=${base + "-err"} role="alert">${error}</p>` : null}
                <div class="actions"><button type="button" class="button" disabled=${busy} onClick=${() => act("unhide")}
                  aria-describedby=${base + "-h"}>Show the ${what} again</button></div>`
            : null}`}
  </li>`;
}

/** The review queue (/teach/reports): reports about your classes' content, or all (admin). */
export function ReviewQueue({ state, rest, game }) {
  const [status, setStatus] = useState("open");
  const [page, setPage] = useState({ items: [], next: null, loaded: false });
  const [error, setError] = useState("");
  const load = async (cursor) => {
    setError("");
    try {
      const q = new URLSearchParams({ status });
      if (cursor) q.set("cursor", cursor);
      const data = await rest.call("GET", "/api/v1/reports?" + q);
      setPage((p) => ({ items: cursor ? [...p.items, ...data.items] : data.items, next: data.next_cursor, loaded: true }));
    } catch (err) {
      setError(err.code === "not_moderator" ? "Only teachers and admins have a review queue." : err.message);
    }
  };
  useEffect(() => {
    load(null);
  }, [status]);
  return html`<div class="review-queue">
    <h1 tabindex="-1">Review queue</h1>
    <p class="lead">Reports about pieces and reviews in your classes' matches. Hiding removes the content from what others see; its author still sees it, marked hidden.</p>
    <div class="field queue-filter">
      <label for="queue-status">Show</label>
      <select id="queue-status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="open">Open reports</option>
        <option value="closed">Closed reports</option>
        <option value="all">All reports</option>
      </select>
    </div>
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    ${page.loaded && !page.items.length ? html`<p class="card">Nothing to review.</p>` : null}
    <ul class="queue">
      ${page.items.map((e) => html`<${Entry} key=${e.id} entry=${e} rest=${rest} game=${game} rubrics=${state.rubrics} onActed=${() => load(null)} />`)}
    </ul>
    ${page.next ? html`<button type="button" class="button" onClick=${() => load(page.next)}>More reports</button>` : null}
  </div>`;
}

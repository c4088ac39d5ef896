// Portfolio (docs/portfolio.md): every piece you wrote with its prompt, date, trait
// scores, the AI's suggestions, the reviews you received (anonymous; each can be
// reported) and gave, and its replay; filters by focus trait and dates, pages, and the
// exports (JSON, and an HTML file that prints one piece per page).  A teacher opens a
// student's portfolio with ?user=<id>.  Also the "Your data" card of Me: export all
// your data, delete your account (docs/privacy.md).

import { html, useEffect, useState } from "../js/html.js";
import { Field, TRAITS, fmtDate, fmtNumber } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { ReportButton } from "./reports.js";

/** Fetch an authenticated file and hand it to the browser as a download. */
async function download(rest, path, accept, filename) {
  const blob = await rest.call("GET", path, undefined, { blob: true, accept });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

function Scores({ piece, rubrics }) {
  const entries = TRAITS.filter((t) => piece.traits[t] != null);
  if (!entries.length) return html`<p class="hint">No trait scores.</p>`;
  return html`<table class="trait-table">
    <caption class="sr-only">Trait scores, 1 to 6</caption>
    <thead><tr><th scope="col">Trait</th><th scope="col">Score (1–6)</th></tr></thead>
    <tbody>
      ${entries.map(
        (t) => html`<tr key=${t} class=${t === piece.focus ? "is-focus" : ""}>
          <th scope="row">${traitName(rubrics, t)}${t === piece.focus ? " (focus)" : ""}</th>
          <td>${piece.traits[t]}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function Piece({ piece, rubrics, rest, game, own }) {
  const h = "piece-" + piece.match_id;
  const title = piece.prompt.title;
  return html`<li class="card portfolio-piece">
    <article aria-labelledby=${h}>
      <h2 id=${h}>${title}</h2>
      <p class="hint">${fmtDate(piece.date)} · focus ${traitName(rubrics, piece.focus)} · ${piece.words} words
        ${piece.rank ? ` · rank ${piece.rank}` : ""}${piece.mode === "practice-solo" ? " · solo practice" : piece.ranked ? " · ranked" : ""}
        ${piece.overall != null ? ` · overall ${fmtNumber(piece.overall)}` : ""}</p>
      ${piece.hidden ? html`<p class="notice notice-info">A moderator hid this piece from others after a report${own ? "; you still see it" : ""}.</p>` : null}
      ${piece.text ? html`<div class="piece-text">${piece.text}</div>` : html`<p class="hint">No text to show.</p>`}
      <div class="portfolio-grid">
        <section aria-labelledby=${h + "-scores"}>
          <h3 id=${h + "-scores"}>Scores</h3>
          <${Scores} piece=${piece} rubrics=${rubrics} />
        </section>
        <section aria-labelledby=${h + "-sugg"}>
          <h3 id=${h + "-sugg"}>The AI's suggestions</h3>
          ${piece.suggestions.length
            ? html`<ol class="suggestions">${piece.suggestions.map((s, i) => html`<li key=${i}><q>${s.sentence}</q><p>${s.advice}</p></li>`)}</ol>`
            : html`<p class="hint">None on this piece.</p>`}
        </section>
      </div>
      <section aria-labelledby=${h + "-recv"}>
        <h3 id=${h + "-recv"}>Reviews received</h3>
        ${piece.reviews_received.length
          ? html`<ul class="reviews">
              ${piece.reviews_received.map(
                (r, i) => html`<li key=${r.id}>
                  <p><strong>What works:</strong> ${r.strength}</p>
                  <p><strong>What to change:</strong> ${r.suggestion}</p>
                  <p class="hint">${traitName(rubrics, piece.focus)}: ${r.rating} of 6</p>
                  ${own ? html`<${ReportButton} rest=${rest} game=${game} kind="review" id=${r.id} what=${`review ${i + 1} of ${title}`} />` : null}
                </li>`,
              )}
            </ul>`
          : html`<p class="hint">No reviews.</p>`}
      </section>
      <section aria-labelledby=${h + "-gave"}>
        <h3 id=${h + "-gave"}>Reviews given</h3>
        ${piece.reviews_given.length
          ? html`<ul class="reviews">
              ${piece.reviews_given.map(
                (r) => html`<li key=${r.id}>
                  <p><strong>To ${r.to}:</strong> ${r.strength}</p>
                  <p><strong>What to change:</strong> ${r.suggestion}</p>
                  <p class="hint">Helpfulness ${r.helpfulness} of 6${r.hidden ? " · hidden by a moderator" : ""}</p>
                </li>`,
              )}
            </ul>`
          : html`<p class="hint">None.</p>`}
      </section>
      ${piece.replay ? html`<p><a href=${piece.replay.page}>Watch the replay of ${title}</a></p>` : null}
    </article>
  </li>`;
}

export function Portfolio({ state, rest, game }) {
  const userId = state.route.query ? state.route.query.get("user") : null;
  const own = !userId;
  const base = own ? "/api/v1/portfolio/me" : `/api/v1/portfolio/${encodeURIComponent(userId)}`;
  const [form, setForm] = useState({ trait: "", from: "", to: "" });
  const [filters, setFilters] = useState({ trait: "", from: "", to: "" });
  const [page, setPage] = useState({ items: [], next: null, loaded: false, owner: null });
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState("");

  const load = async (cursor) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (cursor) q.set("cursor", cursor);
    try {
      const data = await rest.call("GET", base + (q.toString() ? "?" + q : ""));
      setPage((p) => ({ items: cursor ? [...p.items, ...data.items] : data.items, next: data.next_cursor, loaded: true, owner: data.owner }));
      setErrors({});
      if (!cursor) game.announce(`${data.items.length}${data.next_cursor ? " or more" : ""} pieces shown.`);
    } catch (err) {
      const fields = err.fields || {};
      setErrors(Object.keys(fields).length ? fields : { form: err.status === 404 ? "This portfolio isn't one you may read." : err.message });
    }
  };
  useEffect(() => {
    load(null);
  }, [base, filters.trait, filters.from, filters.to]);

  const apply = (e) => {
    e.preventDefault();
    setFilters({ ...form });
  };
  const exportAs = async (format) => {
    setBusy(format);
    try {
      const accept = format === "html" ? "text/html" : "application/json";
      await download(rest, `/api/v1/portfolio/me/export?format=${format}`, accept, `portfolio-${today()}.${format}`);
      game.announce(`Your portfolio is downloaded as ${format.toUpperCase()}.`);
    } catch (err) {
      setErrors({ form: err.message });
    } finally {
      setBusy("");
    }
  };

  const name = page.owner ? page.owner.display_name : "";
  return html`<div class="portfolio">
    ${own ? null : html`<p class="hint"><a href=${"/teach/students/" + encodeURIComponent(userId)}>${name ? `${name}'s progress` : "The student's progress"}</a> · <a href="/teach">Back to Teach</a></p>`}
    <h1 tabindex="-1">${own ? "Portfolio" : `Portfolio of ${name || "a student"}`}</h1>
    <p class="lead">Every piece ${own ? "you wrote" : "they wrote"}, with its scores, the AI's suggestions and the reviews. Reviewers stay anonymous.</p>
    ${own
      ? html`<section class="card" aria-labelledby="export-h">
          <h2 id="export-h">Export</h2>
          <p class="hint">The HTML file works offline and prints one piece per page.</p>
          <div class="actions">
            <button type="button" class="button" disabled=${!!busy} onClick=${() => exportAs("html")}>${busy === "html" ? "Preparing…" : "Download as HTML"}</button>
            <button type="button" class="button" disabled=${!!busy} onClick=${() => exportAs("json")}>${busy === "json" ? "Preparing…" : "Download as JSON"}</button>
          </div>
        </section>`
      : null}
    <form class="card portfolio-filters" onSubmit=${apply} noValidate aria-labelledby="filter-h">
      <h2 id="filter-h">Filter</h2>
      ${errors.form ? html`<p class="form-error" role="alert">${errors.form}</p>` : null}
      <div class="filter-fields">
        <div class="field">
          <label for="pf-trait">Focus trait</label>
          <select id="pf-trait" value=${form.trait} onChange=${(e) => setForm({ ...form, trait: e.target.value })}>
            <option value="">Any trait</option>
            ${TRAITS.map((t) => html`<option key=${t} value=${t}>${traitName(state.rubrics, t)}</option>`)}
          </select>
        </div>
        <${Field} id="pf-start" label="From" type="date" value=${form.from} error=${errors.from}
          onInput=${(e) => setForm({ ...form, from: e.target.value })} />
        <${Field} id="pf-end" label="To" type="date" value=${form.to} error=${errors.to}
          onInput=${(e) => setForm({ ...form, to: e.target.value })} />
      </div>
      <button type="submit" class="button primary">Show pieces</button>
    </form>
    ${page.loaded && !page.items.length ? html`<p class="card">No pieces here yet.${own ? html` <a href="/play">Play a match</a> or <a href="/practice">practise</a>.` : null}</p>` : null}
    <ul class="portfolio-list">
      ${page.items.map((p) => html`<${Piece} key=${p.id} piece=${p} rubrics=${state.rubrics} rest=${rest} game=${game} own=${own} />`)}
    </ul>
    ${page.next ? html`<button type="button" class="button" onClick=${() => load(page.next)}>Older pieces</button>` : null}
  </div>`;
}

/** Me's "Your data" card: export everything, delete the account (with the password). */
export function PrivacySection({ rest, game, user }) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState({});
  const guest = user && user.guest;

  const exportData = async () => {
    setBusy(true);
    setErrors({});
    try {
      await download(rest, "/api/v1/me/export", "application/json", `quill-data-${today()}.json`);
      game.announce("Your data is downloaded.");
    } catch (err) {
      setErrors({ form: err.message });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (e) => {
    e.preventDefault();
    if (!guest && !password) {
      setErrors({ password: "Type your password to confirm." });
      return;
    }
    setBusy(true);
    setErrors({});
    try {
      await rest.call("DELETE", "/api/v1/auth/me", guest ? {} : { password });
      await game.signOut();
      game.announce("Your account is deleted and you are signed out.");
    } catch (err) {
      if (err.code === "invalid_credentials") setErrors({ password: "That password does not match." });
      else setErrors({ form: err.message });
      setBusy(false);
    }
  };

  return html`<section class="card" aria-labelledby="data-h">
    <h2 id="data-h">Your data</h2>
    <p>Download everything Quill Arena keeps about you, or delete your account. <a href="/portfolio">Your portfolio</a> has your pieces.</p>
    ${errors.form ? html`<p class="form-error" role="alert">${errors.form}</p>` : null}
    <div class="actions">
      <button type="button" class="button" disabled=${busy} onClick=${exportData}>Export my data</button>
      ${confirming ? null : html`<button type="button" class="button danger" onClick=${() => setConfirming(true)}>Delete my account</button>`}
    </div>
    ${confirming
      ? html`<form class="delete-account" onSubmit=${remove} noValidate aria-labelledby="delete-h">
          <h3 id="delete-h" tabindex="-1" ref=${(el) => el && !el.dataset.shown && ((el.dataset.shown = "1"), el.focus())}>Delete your account</h3>
          <p>Your name, handle, pieces and the text of your reviews are erased; the other players keep their matches, with you as an anonymous alias. This cannot be undone.</p>
          ${guest ? null : html`<${Field} id="delete-password" label="Your password" type="password" autocomplete="current-password"
            value=${password} error=${errors.password} onInput=${(e) => setPassword(e.target.value)} />`}
          <div class="actions">
            <button type="submit" class="button danger-solid" disabled=${busy}>${busy ? "Deleting…" : "Delete my account for good"}</button>
            <button type="button" class="button" onClick=${() => { setConfirming(false); setPassword(""); setErrors({}); }}>Cancel</button>
          </div>
        </form>`
      : null}
  </section>`;
}

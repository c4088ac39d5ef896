// A class: its roster (rename, new code, remove), adding students one by one or from a
// CSV list (a dry run first: what would be created and every line refused, with why),
// and the one-time sign-in codes after a create, import or reset, with printable cards.

import { html, useEffect, useRef, useState } from "../js/html.js";
import { Field, fmtDate } from "../js/ui.js";
import { fieldErrors, gradeName, problemText } from "./teach.js";

/** A short message every student of the class gets as a notification (pushed if online). */
function MessageClass({ klass, rest, game }) {
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const send = async (e) => {
    e.preventDefault();
    if (!text.trim()) {
      setError("Type a message first.");
      focusSoon("class-message");
      return;
    }
    setBusy(true);
    setError("");
    try {
      const r = await rest.call("POST", `/api/v1/classes/${klass.id}/messages`, { text });
      setText("");
      game.announce(`Message sent to ${r.sent} ${r.sent === 1 ? "student" : "students"}.`);
    } catch (err) {
      setError(fieldErrors(err).text || problemText(err));
      focusSoon("class-message");
    } finally {
      setBusy(false);
    }
  };
  return html`<form onSubmit=${send} novalidate>
    <${Field} id="class-message" label="Message" hint="Up to 500 characters. Each student sees it in their notifications."
      multiline=${true} rows=${3} maxlength="500" value=${text} onInput=${(e) => setText(e.currentTarget.value)} error=${error} />
    <button type="submit" class="button" disabled=${busy}>${busy ? "Sending…" : "Send to the class"}</button>
  </form>`;
}

function focusSoon(id) {
  requestAnimationFrame(() => document.getElementById(id)?.focus());
}

/** The codes just issued: shown once, with the cards to print (and the server's sheet). */
function Codes({ klass, issued, rest, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const signIn = `${location.origin}/`;
  const download = async () => {
    setBusy(true);
    setError("");
    try {
      const blob = await rest.rosterSheet(klass.id, { codes: issued.map((c) => ({ student_id: c.student_id, code: c.code })) });
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `${klass.name} sign-in cards.html`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      setError(problemText(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card codes" aria-labelledby="codes-h">
    <h2 id="codes-h" tabindex="-1">Sign-in codes</h2>
    <p><strong>Shown only now.</strong> The server keeps no readable copy: print the cards or note the codes before you leave this page. A code works until you give the student a new one.</p>
    <div class="table-wrap"><table class="codes-table">
      <thead><tr><th scope="col">Name</th><th scope="col">Username</th><th scope="col">Code</th></tr></thead>
      <tbody>
        ${issued.map(
          (c) => html`<tr key=${c.student_id}><th scope="row">${c.name}</th><td class="mono">${c.username}</td><td class="mono code-cell">${c.code}</td></tr>`,
        )}
      </tbody>
    </table></div>
    <div class="actions">
      <button type="button" class="button primary" onClick=${() => window.print()}>Print sign-in cards</button>
      <button type="button" class="button" onClick=${download} disabled=${busy}>${busy ? "Getting the sheet…" : "Download the sheet (HTML)"}</button>
      <button type="button" class="button" onClick=${onDone}>I have them — hide the codes</button>
    </div>
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    <div class="print-sheet" aria-hidden="true">
      ${issued.map(
        (c) => html`<div class="print-card" key=${c.student_id}>
          <p class="print-class">${klass.name} · Quill Arena</p>
          <p class="print-name">${c.name}</p>
          <p class="print-row"><span class="print-label">Username</span> <span class="mono">${c.username}</span></p>
          <p class="print-row"><span class="print-label">Code</span> <span class="mono print-code">${c.code}</span></p>
          <p class="print-where">Sign in at ${signIn} with “Sign in with a class card”. Keep this card like a key.</p>
        </div>`,
      )}
    </div>
  </section>`;
}

function AddStudent({ klass, rest, onIssued }) {
  const [name, setName] = useState("");
  const [username, setUsername] = useState("");
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setGeneral("");
    if (!name.trim()) {
      setErrors({ name: "Type the student's name." });
      focusSoon("add-name");
      return;
    }
    setBusy(true);
    try {
      const body = { name: name.trim() };
      if (username.trim()) body.username = username.trim();
      const r = await rest.addStudent(klass.id, body);
      setName("");
      setUsername("");
      setErrors({});
      onIssued([{ student_id: r.student.id, name: r.student.name, username: r.student.username, code: r.code }], `${r.student.name} added.`);
    } catch (err) {
      const fields = fieldErrors(err);
      if (err.code === "handle_taken") fields.username = "Somebody has this username already. Choose another, or leave it empty.";
      setErrors(fields);
      if (!Object.keys(fields).length) setGeneral(problemText(err));
      focusSoon(fields.name ? "add-name" : fields.username ? "add-username" : "add-general");
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="stack-form" onSubmit=${submit} novalidate>
    <${Field} id="add-name" label="Name" hint="As you write it; students never see each other's names in an anonymous lobby."
      value=${name} onInput=${(e) => setName(e.currentTarget.value)} error=${errors.name} autocomplete="off" />
    <${Field} id="add-username" label="Username (optional)" hint="Left empty, one is made from the name (maria.l)."
      value=${username} onInput=${(e) => setUsername(e.currentTarget.value)} error=${errors.username}
      autocomplete="off" autocapitalize="none" spellcheck=${false} />
    <p class="form-error" id="add-general" tabindex="-1" hidden=${!general}><span aria-hidden="true">⚠ </span>${general}</p>
    <button type="submit" class="button" disabled=${busy}>${busy ? "Adding…" : "Add student"}</button>
  </form>`;
}

function ImportCsv({ klass, rest, onIssued }) {
  const [csv, setCsv] = useState("");
  const [report, setReport] = useState(null);
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  const fileRef = useRef(null);
  const choose = async (e) => {
    const file = e.currentTarget.files && e.currentTarget.files[0];
    if (!file) return;
    setCsv(await file.text());
    setReport(null);
  };
  const run = async (dryRun) => {
    setGeneral("");
    if (!csv.trim()) {
      setGeneral("Paste the list, or choose a file, first.");
      focusSoon("import-csv");
      return;
    }
    setBusy(true);
    try {
      const r = await rest.importStudents(klass.id, csv, dryRun);
      if (dryRun) {
        setReport(r);
        focusSoon("preview-h");
      } else {
        setReport(null);
        setCsv("");
        if (fileRef.current) fileRef.current.value = "";
        const issued = r.students.map((s) => ({ student_id: s.id, name: s.name, username: s.username, code: s.code }));
        const refused = r.rejected.length ? ` ${r.rejected.length} ${r.rejected.length === 1 ? "line was" : "lines were"} not imported.` : "";
        onIssued(issued, `${issued.length} ${issued.length === 1 ? "student" : "students"} imported.${refused}`);
      }
    } catch (err) {
      const f = fieldErrors(err);
      setGeneral(f.csv || problemText(err));
      focusSoon("import-general");
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="stack-form" onSubmit=${(e) => { e.preventDefault(); run(true); }} novalidate>
    <${Field} id="import-csv" label="Students, one a line" multiline rows=${6}
      hint="A name, or a name and a username separated by a comma: Maria Lopez,maria.l — a header line (name,username) is fine. Up to 200 lines."
      value=${csv} onInput=${(e) => { setCsv(e.currentTarget.value); setReport(null); }} spellcheck=${false} />
    <div class="field">
      <label for="import-file">Or choose a CSV file</label>
      <input id="import-file" type="file" accept=".csv,text/csv,text/plain" ref=${fileRef} onChange=${choose} />
    </div>
    <p class="form-error" id="import-general" tabindex="-1" hidden=${!general}><span aria-hidden="true">⚠ </span>${general}</p>
    <button type="submit" class="button" disabled=${busy}>${busy && !report ? "Checking…" : "Check the list"}</button>
    ${report
      ? html`<div class="preview">
          <h3 id="preview-h" tabindex="-1">Preview: ${report.students.length} to add, ${report.rejected.length} refused</h3>
          <p class="hint">Nothing is created until you press Import.</p>
          ${report.students.length
            ? html`<div class="table-wrap"><table>
                <caption class="sr-only">Students that would be added</caption>
                <thead><tr><th scope="col">Line</th><th scope="col">Name</th><th scope="col">Username</th></tr></thead>
                <tbody>${report.students.map(
                  (s) => html`<tr key=${s.line}><td>${s.line}</td><th scope="row"><span aria-hidden="true">✓ </span>${s.name}</th>
                    <td class="mono">${s.username}${s.generated_username ? html` <span class="hint">(made from the name)</span>` : null}</td></tr>`,
                )}</tbody>
              </table></div>`
            : null}
          ${report.rejected.length
            ? html`<h4 class="rejected-h"><span aria-hidden="true">⚠ </span>Lines that will not be imported</h4>
              <ul class="rejected">${report.rejected.map(
                (r) => html`<li key=${r.line}><strong>Line ${r.line}</strong>${r.text ? html` — “<span class="mono">${r.text}</span>”` : null}: ${r.message || r.reason}</li>`,
              )}</ul>`
            : null}
          <div class="actions">
            <button type="button" class="button primary" onClick=${() => run(false)} disabled=${busy || !report.students.length}>
              ${busy ? "Importing…" : `Import ${report.students.length} ${report.students.length === 1 ? "student" : "students"}`}
            </button>
          </div>
        </div>`
      : null}
  </form>`;
}

function StudentRow({ s, klass, rest, onChanged, onIssued, game }) {
  const [mode, setMode] = useState(null); // "rename" | "remove" | "reset"
  const [name, setName] = useState(s.name);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const open = (m) => {
    setMode(m);
    setError("");
    setName(s.name);
    focusSoon(m === "rename" ? `rename-${s.id}` : `confirm-${s.id}`);
  };
  const close = () => {
    setMode(null);
    focusSoon(`actions-${s.id}`);
  };
  const act = async () => {
    setBusy(true);
    setError("");
    try {
      if (mode === "rename") {
        await rest.updateStudent(klass.id, s.id, { name: name.trim() });
        game.announce(`Renamed to ${name.trim()}.`);
        setMode(null);
        onChanged();
      } else if (mode === "remove") {
        await rest.removeStudent(klass.id, s.id);
        game.announce(`${s.name} removed from the class.`);
        onChanged();
      } else if (mode === "reset") {
        const r = await rest.resetCode(klass.id, s.id);
        setMode(null);
        onIssued([{ student_id: r.student.id, name: r.student.name, username: r.student.username, code: r.code }], `${s.name} has a new code.`);
      }
    } catch (err) {
      const f = fieldErrors(err);
      setError(f.name || problemText(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<li class="student">
    <div class="student-main">
      <span class="student-name">${s.name}</span>
      <span class="mono">${s.username}</span>
      <span class="hint">${s.last_sign_in_at ? `last signed in ${fmtDate(s.last_sign_in_at)}` : "not signed in yet"}${s.has_code ? "" : " · uses a password"}</span>
    </div>
    ${mode === null
      ? html`<div class="student-actions" id=${"actions-" + s.id} tabindex="-1" role="group" aria-label=${`Actions for ${s.name}`}>
          <a class="button small" href=${"/teach/students/" + s.id} aria-label=${`Progress of ${s.name}`}>Progress</a>
          <a class="button small" href=${"/portfolio?user=" + s.id} aria-label=${`Portfolio of ${s.name}`}>Portfolio</a>
          <button type="button" class="button small" onClick=${() => open("rename")}>Rename</button>
          <button type="button" class="button small" onClick=${() => open("reset")}>New code</button>
          <button type="button" class="button small danger" onClick=${() => open("remove")}>Remove</button>
        </div>`
      : mode === "rename"
        ? html`<form class="inline-form" onSubmit=${(e) => { e.preventDefault(); act(); }} novalidate>
            <${Field} id=${"rename-" + s.id} label=${`New name for ${s.name}`} value=${name}
              onInput=${(e) => setName(e.currentTarget.value)} error=${error} autocomplete="off" />
            <div class="inline">
              <button type="submit" class="button small primary" disabled=${busy}>Save</button>
              <button type="button" class="button small" onClick=${close}>Cancel</button>
            </div>
          </form>`
        : html`<div class="confirm" role="group" aria-labelledby=${"confirm-" + s.id}>
            <p id=${"confirm-" + s.id} tabindex="-1">
              ${mode === "remove"
                ? html`<strong>Remove ${s.name}?</strong> Their account, username and code are deleted; their past matches stay, under a pseudonym. This cannot be undone.`
                : html`<strong>Give ${s.name} a new code?</strong> The old code stops working at once, and they are signed out everywhere.`}
            </p>
            <div class="inline">
              <button type="button" class=${"button small " + (mode === "remove" ? "danger-solid" : "primary")} onClick=${act} disabled=${busy}>
                ${mode === "remove" ? `Remove ${s.name}` : "Make a new code"}
              </button>
              <button type="button" class="button small" onClick=${close}>Cancel</button>
            </div>
            ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
          </div>`}
  </li>`;
}

export function ClassPage({ rest, game, classId }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [issued, setIssued] = useState([]);
  const load = () =>
    rest.roster(classId).then(setData, (err) => setError(err.status === 404 ? "This class isn't among yours." : problemText(err)));
  useEffect(() => {
    setData(null);
    setIssued([]);
    load();
  }, [classId]);
  const onIssued = (codes, said) => {
    setIssued((prev) => [...prev.filter((p) => !codes.some((c) => c.student_id === p.student_id)), ...codes]);
    game.announce(`${said} Their sign-in codes are shown below the heading “Sign-in codes”.`);
    load();
    focusSoon("codes-h");
  };
  if (error) return html`<div class="card"><h1 tabindex="-1">Class</h1><p>${error}</p><a href="/teach">Back to Teach</a></div>`;
  if (!data) return html`<div class="card"><h1 tabindex="-1">Class</h1><p class="hint">Loading…</p></div>`;
  const klass = data.class;
  return html`<div class="class-page">
    <p class="crumbs"><a href="/teach">Teach</a> <span aria-hidden="true">›</span> ${klass.name}</p>
    <div class="phase-head">
      <h1 tabindex="-1">${klass.name}</h1>
      <a class="button primary" href=${"/teach/new-lobby?class=" + klass.id}>Open a lobby for this class</a>
    </div>
    <p class="lead">${gradeName(klass.grade_level)} · ${klass.student_count} ${klass.student_count === 1 ? "student" : "students"} · class code <span class="mono nowrap">${klass.code}</span></p>
    ${issued.length ? html`<${Codes} klass=${klass} issued=${issued} rest=${rest} onDone=${() => { setIssued([]); focusSoon("roster-h"); }} />` : null}
    <div class="teach-grid">
      <section class="card" aria-labelledby="roster-h">
        <h2 id="roster-h" tabindex="-1">Roster</h2>
        ${data.students.length
          ? html`<ul class="roster">${data.students.map(
              (s) => html`<${StudentRow} key=${s.id} s=${s} klass=${klass} rest=${rest} game=${game} onChanged=${load} onIssued=${onIssued} />`,
            )}</ul>`
          : html`<p>No students yet. Add them one by one, or import a list.</p>`}
      </section>
      <div>
        <section class="card" aria-labelledby="add-h">
          <h2 id="add-h">Add a student</h2>
          <${AddStudent} klass=${klass} rest=${rest} onIssued=${onIssued} />
        </section>
        <section class="card" aria-labelledby="import-h">
          <h2 id="import-h">Import a list (CSV)</h2>
          <${ImportCsv} klass=${klass} rest=${rest} onIssued=${onIssued} />
        </section>
        <section class="card" aria-labelledby="message-h">
          <h2 id="message-h">Message the class</h2>
          <${MessageClass} klass=${klass} rest=${rest} game=${game} />
        </section>
      </div>
    </div>
  </div>`;
}

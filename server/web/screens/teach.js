// Teach: the teacher's classes (and a new one: name, grade level) and their lobbies.

import { html, useEffect, useState } from "../js/html.js";
import { Field, fmtDate } from "../js/ui.js";

export const GRADES = [
  [0, "Kindergarten"],
  ...Array.from({ length: 12 }, (_, i) => [i + 1, `Grade ${i + 1}`]),
  [13, "Adult / after school"],
];

export function gradeName(level) {
  const g = GRADES.find(([n]) => n === level);
  return g ? g[1] : String(level);
}

/** The server's field problems (details.fields), as "The server says: …" by field. */
export function fieldErrors(err, prefix = "") {
  const out = {};
  for (const [k, v] of Object.entries(err.fields || {})) out[prefix + k] = `${v.charAt(0).toUpperCase()}${v.slice(1)}.`;
  return out;
}

/** Why a call failed, in words for the teacher. */
export function problemText(err) {
  if (err.code === "network") return "No connection to the server. Try again in a moment.";
  if (err.code === "rate_limited") return "Too many changes in a short time. Wait a minute and try again.";
  return err.message || "That didn't work.";
}

function NewClass({ rest, onCreated }) {
  const [name, setName] = useState("");
  const [grade, setGrade] = useState("7");
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setGeneral("");
    if (!name.trim()) {
      setErrors({ name: "Give the class a name (1–60 characters)." });
      document.getElementById("class-name")?.focus();
      return;
    }
    setBusy(true);
    try {
      const created = await rest.createClass({ name: name.trim(), grade_level: Number(grade) });
      setName("");
      setErrors({});
      onCreated(created);
    } catch (err) {
      const fields = fieldErrors(err);
      setErrors(fields);
      if (!Object.keys(fields).length) setGeneral(problemText(err));
      document.getElementById(fields.name ? "class-name" : fields.grade_level ? "class-grade" : "class-general")?.focus();
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="stack-form" onSubmit=${submit} novalidate>
    <${Field} id="class-name" label="Class name" hint="1–60 characters, one line; e.g. 7B English."
      value=${name} onInput=${(e) => setName(e.currentTarget.value)} error=${errors.name} autocomplete="off" />
    <div class=${"field" + (errors.grade_level ? " has-error" : "")}>
      <label for="class-grade">Grade level</label>
      <select id="class-grade" value=${grade} onChange=${(e) => setGrade(e.currentTarget.value)}
        aria-describedby=${errors.grade_level ? "class-grade-error" : undefined}>
        ${GRADES.map(([n, label]) => html`<option key=${n} value=${String(n)}>${label}</option>`)}
      </select>
      ${errors.grade_level ? html`<p class="error" id="class-grade-error"><span aria-hidden="true">⚠ </span>${errors.grade_level}</p>` : null}
    </div>
    <p class="form-error" id="class-general" tabindex="-1" hidden=${!general}><span aria-hidden="true">⚠ </span>${general}</p>
    <button type="submit" class="button primary" disabled=${busy}>${busy ? "Creating…" : "Create class"}</button>
  </form>`;
}

export function Teach({ rest, game }) {
  const [classes, setClasses] = useState(null);
  const [lobbies, setLobbies] = useState(null);
  const [error, setError] = useState("");
  const load = () => {
    rest.classes().then((d) => setClasses(d.items), (err) => setError(problemText(err)));
    rest.lobbies().then((d) => setLobbies(d.items), () => setLobbies([]));
  };
  useEffect(load, []);
  const created = (c) => {
    game.announce(`Class ${c.name} created.`);
    game.router.go(`/teach/classes/${c.id}`);
  };
  const open = (lobbies || []).filter((l) => l.status !== "closed");
  return html`<div class="teach">
    <h1 tabindex="-1">Teach</h1>
    <p class="lead">Your classes, their students and sign-in cards, and the lobbies you run for them.</p>
    <p class="link-row"><a href="/teach/questions">Questions for you</a> <a href="/teach/reports">Reports to review</a></p>
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    <div class="teach-grid">
      <section class="card" aria-labelledby="classes-h">
        <h2 id="classes-h">Your classes</h2>
        ${classes === null
          ? html`<p class="hint">Loading…</p>`
          : classes.length
            ? html`<ul class="class-list">
                ${classes.map(
                  (c) => html`<li key=${c.id}>
                    <a href=${"/teach/classes/" + c.id} class="class-link">${c.name}</a>
                    <span class="hint">${gradeName(c.grade_level)} · ${c.student_count} ${c.student_count === 1 ? "student" : "students"}</span>
                  </li>`,
                )}
              </ul>`
            : html`<p>No classes yet. Create your first one here.</p>`}
      </section>
      <section class="card" aria-labelledby="newclass-h">
        <h2 id="newclass-h">New class</h2>
        <${NewClass} rest=${rest} onCreated=${created} />
      </section>
    </div>
    <section class="card" aria-labelledby="lobbies-h">
      <h2 id="lobbies-h">Lobbies</h2>
      <p>A lobby gives you a join code to read to the room; students join, and you start rounds and watch them write.</p>
      ${open.length
        ? html`<ul class="class-list">
            ${open.map(
              (l) => html`<li key=${l.id}>
                <a href=${"/teach/lobbies/" + l.id} class="class-link">${l.name}</a>
                <span class="hint">code <span class="mono">${l.code}</span> · ${l.status === "playing" ? "a round is playing" : "open"}${l.locked ? " · locked" : ""} · ${fmtDate(l.created_at)}</span>
              </li>`,
            )}
          </ul>`
        : lobbies === null
          ? html`<p class="hint">Loading…</p>`
          : html`<p class="hint">No open lobbies.</p>`}
      <a class="button" href="/teach/new-lobby">Open a lobby</a>
    </section>
  </div>`;
}

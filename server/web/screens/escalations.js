// Questions for the teacher: the open escalations from students of your classes (Ask my
// teacher, or a safety signal the server saw), each with its thread; your answer goes into
// the student's thread and they are notified.  Below: the tutor switch of each class.

import { html, useEffect, useState } from "../js/html.js";
import { Field, fmtDate } from "../js/ui.js";

const enc = encodeURIComponent;

function errorText(err) {
  if (err.code === "network") return "You're offline. Try again when you're connected.";
  const first = Object.values(err.fields || {})[0];
  return first ? `Your answer ${first}.` : err.message;
}

function Who({ m }) {
  if (m.author === "student") return "Student";
  if (m.author === "teacher") return `Teacher · ${m.teacher ? m.teacher.display_name : ""}`;
  return "Tutor";
}

function Item({ item, rest, game, onAnswered }) {
  const [open, setOpen] = useState(false);
  const [thread, setThread] = useState(null);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const id = "answer-" + item.id;
  const toggle = async () => {
    const next = !open;
    setOpen(next);
    if (next && !thread) {
      try {
        setThread(await rest.call("GET", `/api/v1/tutor/threads/${enc(item.thread_id)}/messages`));
      } catch (err) {
        setError(errorText(err));
      }
    }
    if (next) requestAnimationFrame(() => document.getElementById(id)?.focus());
  };
  const send = async (e) => {
    e.preventDefault();
    if (!text.trim()) {
      setError("Type your answer first.");
      document.getElementById(id)?.focus();
      return;
    }
    setBusy(true);
    setError("");
    try {
      await rest.call("POST", `/api/v1/tutor/threads/${enc(item.thread_id)}/messages`, { text: text.trim() });
      game.announce(`Answer sent to ${item.student.display_name}.`);
      onAnswered(item.id);
    } catch (err) {
      setError(errorText(err));
      document.getElementById(id)?.focus();
    } finally {
      setBusy(false);
    }
  };
  return html`<li class="card escalation" key=${item.id}>
    <h3>${item.student.display_name}
      ${item.classes.length ? html`<span class="hint"> · ${item.classes.map((c) => c.name).join(", ")}</span>` : null}
    </h3>
    ${item.reason === "safety"
      ? html`<p class="notice notice-error"><span aria-hidden="true">⚠ </span>Safety: a question in this thread may show the student needs support. Please check in with them.</p>`
      : null}
    <blockquote class="escalation-question">${item.question}</blockquote>
    <p class="hint">Asked ${fmtDate(item.created_at)}</p>
    <button type="button" class="button" aria-expanded=${open ? "true" : "false"} onClick=${toggle}>
      ${open ? "Hide the thread" : "Read the thread and answer"}
    </button>
    ${open
      ? html`<div class="escalation-thread">
          ${thread
            ? html`<ol class="tutor-messages" aria-label=${`Thread with ${item.student.display_name}`}>
                ${thread.messages.map(
                  (m) => html`<li class=${"tutor-msg from-" + m.author} key=${m.id}>
                    <p class="msg-who"><strong><${Who} m=${m} /></strong> <span class="hint">${fmtDate(m.created_at)}${m.confidence ? ` · confidence ${m.confidence}` : ""}</span></p>
                    <p class="msg-text">${m.text}</p>
                  </li>`,
                )}
              </ol>`
            : html`<p class="hint">Loading…</p>`}
          <form class="stack-form" onSubmit=${send} novalidate>
            <${Field} id=${id} label=${`Your answer to ${item.student.display_name}`} multiline rows=${4} maxlength=${4000}
              hint="It goes into the student's thread; they are notified." value=${text}
              onInput=${(e) => setText(e.currentTarget.value)} error=${error} />
            <button type="submit" class="button primary" disabled=${busy}>${busy ? "Sending…" : "Send answer"}</button>
          </form>
        </div>`
      : null}
  </li>`;
}

function Switches({ rest, game }) {
  const [classes, setClasses] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    (async () => {
      try {
        const { items } = await rest.classes();
        const withTutor = await Promise.all(
          items.map(async (k) => ({ ...k, tutor: (await rest.call("GET", `/api/v1/classes/${enc(k.id)}/tutor`)).enabled })),
        );
        setClasses(withTutor);
      } catch (err) {
        setError(errorText(err));
      }
    })();
  }, []);
  const flip = async (k, enabled) => {
    try {
      await rest.call("PUT", `/api/v1/classes/${enc(k.id)}/tutor`, { enabled });
      setClasses((all) => all.map((c) => (c.id === k.id ? { ...c, tutor: enabled } : c)));
      game.announce(`The tutor is ${enabled ? "on" : "off"} for ${k.name}.`);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return html`<section class="card" aria-labelledby="switch-h">
    <h2 id="switch-h">The tutor in your classes</h2>
    <p class="hint">When it is off, students of the class can read their threads and ask you, but not the tutor.</p>
    ${error ? html`<p class="form-error">${error}</p>` : null}
    ${classes && !classes.length ? html`<p class="hint">You have no classes yet.</p>` : null}
    ${classes
      ? html`<ul class="tutor-switches">
          ${classes.map(
            (k) => html`<li key=${k.id}>
              <label class="check">
                <input type="checkbox" checked=${k.tutor} onChange=${(e) => flip(k, e.currentTarget.checked)} />
                Tutor on for ${k.name}
              </label>
            </li>`,
          )}
        </ul>`
      : html`<p class="hint">Loading…</p>`}
  </section>`;
}

export function Escalations({ rest, game }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    rest.call("GET", "/api/v1/tutor/escalations").then(
      (d) => setItems(d.items),
      (err) => setError(err.code === "not_a_teacher" ? "Only teachers see the questions of their students." : errorText(err)),
    );
  }, []);
  return html`<div class="escalations">
    <h1 tabindex="-1">Questions for you</h1>
    <p class="lead">Students of your classes asked for you when the tutor wasn't sure. <a href="/teach">Back to Teach</a></p>
    ${error ? html`<p class="form-error">${error}</p>` : null}
    ${items && !items.length ? html`<p class="card">No open questions. Well done.</p>` : null}
    ${items && items.length
      ? html`<ul class="escalation-list" aria-label="Open questions">
          ${items.map((i) => html`<${Item} key=${i.id} item=${i} rest=${rest} game=${game}
            onAnswered=${(done) => setItems((all) => all.filter((x) => x.id !== done))} />`)}
        </ul>`
      : null}
    <${Switches} rest=${rest} game=${game} />
  </div>`;
}

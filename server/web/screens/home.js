// Home: what Quill Arena is, and the ways in (guest, sign in, create account, a code).

import { html, useState, useRef, useEffect } from "../js/html.js";
import { Field } from "../js/ui.js";
import { RULES, checkHandle, checkPassword } from "../js/rest.js";

function serverErrors(err) {
  const fields = {};
  for (const [k, v] of Object.entries(err.fields || {})) fields[k] = `The server says: ${k.replace("_", " ")} ${v}.`;
  return fields;
}

export function AccountForm({ mode, rest, onDone, submitLabel, idPrefix }) {
  const [values, setValues] = useState({ handle: "", password: "", display_name: "" });
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  const creating = mode !== "signin";
  const set = (k) => (e) => {
    setValues({ ...values, [k]: e.currentTarget.value });
    if (errors[k]) setErrors({ ...errors, [k]: undefined });
  };
  const id = (k) => `${idPrefix}-${k}`;

  const submit = async (e) => {
    e.preventDefault();
    const found = {};
    if (creating) {
      const h = checkHandle(values.handle);
      const p = checkPassword(values.password, values.handle);
      if (h) found.handle = h;
      if (p) found.password = p;
    } else {
      if (!values.handle) found.handle = "Enter your handle.";
      if (!values.password) found.password = "Enter your password.";
    }
    setErrors(found);
    setGeneral("");
    const first = Object.keys(found)[0];
    if (first) {
      document.getElementById(id(first))?.focus();
      return;
    }
    setBusy(true);
    try {
      if (mode === "signin") await rest.login(values.handle, values.password);
      else if (mode === "upgrade") await rest.upgrade(values.handle, values.password);
      else await rest.register(values.handle, values.password, values.display_name.trim());
      onDone();
    } catch (err) {
      const fields = serverErrors(err);
      setErrors(fields);
      if (!Object.keys(fields).length) {
        setGeneral(
          err.code === "invalid_credentials"
            ? "That handle and password don't match an account."
            : err.code === "rate_limited"
              ? "Too many tries. Wait a minute and try again."
              : err.message,
        );
      }
      const k = Object.keys(fields)[0];
      document.getElementById(k ? id(k) : id("general"))?.focus();
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="account-form" onSubmit=${submit} novalidate>
    <${Field}
      id=${id("handle")}
      label="Handle"
      hint=${creating ? RULES.handle : null}
      value=${values.handle}
      onInput=${set("handle")}
      autocomplete="username"
      autocapitalize="none"
      spellcheck=${false}
      error=${errors.handle}
    />
    <${Field}
      id=${id("password")}
      label="Password"
      type="password"
      hint=${creating ? RULES.password : null}
      value=${values.password}
      onInput=${set("password")}
      autocomplete=${creating ? "new-password" : "current-password"}
      error=${errors.password}
    />
    ${mode === "register"
      ? html`<${Field}
          id=${id("display_name")}
          label="Display name (optional)"
          hint="2–32 letters, digits, spaces and - _ . ' ; shown on your account, never in a match."
          value=${values.display_name}
          onInput=${set("display_name")}
          autocomplete="nickname"
          error=${errors.display_name}
        />`
      : null}
    <p class="form-error" id=${id("general")} tabindex="-1" hidden=${!general}>
      <span aria-hidden="true">⚠ </span>${general}
    </p>
    <button type="submit" class="button primary" disabled=${busy}>${busy ? "Please wait…" : submitLabel}</button>
  </form>`;
}

export function JoinCode() {
  const [code, setCode] = useState("");
  const [answer, setAnswer] = useState("");
  const submit = (e) => {
    e.preventDefault();
    const c = code.trim();
    setAnswer(
      c
        ? `No lobby has the code “${c}”. Private lobbies for classes are on their way; check the code with your teacher.`
        : "Type the code your teacher gave you.",
    );
  };
  return html`<form class="join-code" onSubmit=${submit} novalidate>
    <div class="field">
      <label for="join-code">Join with a code</label>
      <p class="hint" id="join-code-hint">For a private lobby your teacher opened.</p>
      <div class="inline">
        <input id="join-code" value=${code} onInput=${(e) => setCode(e.currentTarget.value)}
          autocomplete="off" autocapitalize="characters" spellcheck=${false} maxlength="16"
          aria-describedby=${answer ? "join-code-hint join-code-answer" : "join-code-hint"} />
        <button type="submit" class="button">Join</button>
      </div>
      ${answer ? html`<p class="answer" id="join-code-answer">${answer}</p>` : null}
    </div>
  </form>`;
}

export function Home({ rest, game }) {
  const [open, setOpen] = useState(null); // "signin" | "register"
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  useEffect(() => {
    if (open && formRef.current) formRef.current.querySelector("input")?.focus();
  }, [open]);

  const done = () => game.signedIn();
  const guest = async () => {
    setBusy(true);
    setError("");
    try {
      await rest.guest();
      done();
    } catch (err) {
      setError(err.code === "rate_limited" ? "Too many new players from here just now. Try again in a minute." : err.message);
    } finally {
      setBusy(false);
    }
  };
  const toggle = (which) => () => setOpen(open === which ? null : which);

  return html`<div class="home">
    <section class="hero" aria-labelledby="home-h">
      <h1 id="home-h" tabindex="-1">Write. Read. Get better together.</h1>
      <p class="lead">
        Quill Arena is a writing game: four to six players get the same picture and one trait of
        good writing to focus on, write for a few minutes, then read and review each other's
        pieces anonymously. An AI scores the writing and how helpful each review was, and your
        rating moves with every ranked match.
      </p>
      <div class="cta">
        <button type="button" class="button primary big" onClick=${guest} disabled=${busy}>Play as guest</button>
        <p class="hint">No sign-up needed. You can keep your progress by creating an account later.</p>
        ${error ? html`<p class="form-error"><span aria-hidden="true">⚠ </span>${error}</p>` : null}
      </div>
    </section>
    <div class="home-side">
    <section class="card" aria-labelledby="account-h">
      <h2 id="account-h">Have an account, or want one?</h2>
      <div class="choices">
        <button type="button" class="button" aria-expanded=${open === "signin"} aria-controls="signin-panel" onClick=${toggle("signin")}>Sign in</button>
        <button type="button" class="button" aria-expanded=${open === "register"} aria-controls="register-panel" onClick=${toggle("register")}>Create account</button>
      </div>
      <div id="signin-panel" hidden=${open !== "signin"} ref=${open === "signin" ? formRef : null}>
        ${open === "signin" ? html`<h3>Sign in</h3><${AccountForm} mode="signin" rest=${rest} onDone=${done} submitLabel="Sign in" idPrefix="signin" />` : null}
      </div>
      <div id="register-panel" hidden=${open !== "register"} ref=${open === "register" ? formRef : null}>
        ${open === "register" ? html`<h3>Create account</h3><${AccountForm} mode="register" rest=${rest} onDone=${done} submitLabel="Create account" idPrefix="register" />` : null}
      </div>
    </section>
    <section class="card" aria-labelledby="code-h">
      <h2 id="code-h">In a class?</h2>
      <${JoinCode} />
    </section>
    </div>
  </div>`;
}

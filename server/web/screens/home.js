// Home: what Quill Arena is, and the ways in (guest, sign in, create account, a code).

import { html, useState, useRef, useEffect } from "../js/html.js";
import { Field } from "../js/ui.js";
import { RULES, checkHandle, checkPassword, codeProblem, normalizeCode } from "../js/rest.js";

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

/** A student of a class signs in with the username and code on their card. */
export function StudentSignIn({ rest, onDone }) {
  const [values, setValues] = useState({ username: "", code: "" });
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => {
    setValues({ ...values, [k]: e.currentTarget.value });
    if (errors[k]) setErrors({ ...errors, [k]: undefined });
  };
  const submit = async (e) => {
    e.preventDefault();
    const found = {};
    if (!values.username.trim()) found.username = "Type the username on your card.";
    const p = codeProblem(values.code, 8);
    if (p) found.code = p;
    setErrors(found);
    setGeneral("");
    const first = Object.keys(found)[0];
    if (first) {
      document.getElementById("student-" + first)?.focus();
      return;
    }
    setBusy(true);
    try {
      await rest.studentLogin(values.username.trim(), normalizeCode(values.code));
      onDone();
    } catch (err) {
      const fields = {};
      for (const [k, v] of Object.entries(err.fields || {})) fields[k] = `${v.charAt(0).toUpperCase()}${v.slice(1)}.`;
      setErrors(fields);
      if (!Object.keys(fields).length) {
        setGeneral(
          err.code === "invalid_credentials"
            ? "That username and code don't match. Check both on your card, or ask your teacher."
            : err.code === "rate_limited"
              ? "Too many tries. Wait a minute and try again."
              : err.message,
        );
      }
      const k = Object.keys(fields)[0];
      document.getElementById(k ? "student-" + k : "student-general")?.focus();
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="account-form" onSubmit=${submit} novalidate>
    <${Field} id="student-username" label="Username" value=${values.username} onInput=${set("username")}
      autocomplete="username" autocapitalize="none" spellcheck=${false} error=${errors.username} />
    <${Field} id="student-code" label="Sign-in code" hint="8 letters and digits, like K7MQ-XP4R. Capitals, spaces and dashes don't matter."
      value=${values.code} onInput=${set("code")} autocomplete="off" autocapitalize="characters" spellcheck=${false}
      error=${errors.code} class="mono-input" />
    <p class="form-error" id="student-general" tabindex="-1" hidden=${!general}><span aria-hidden="true">⚠ </span>${general}</p>
    <button type="submit" class="button primary" disabled=${busy}>${busy ? "Please wait…" : "Sign in"}</button>
  </form>`;
}

const JOIN_REFUSALS = {
  lobby_not_found: "No open lobby has this code. Check it with your teacher (the lobby may be closed).",
  lobby_locked: "This lobby is locked: your teacher isn't letting anyone new in right now.",
  lobby_full: "This lobby is full.",
  not_in_class: "This lobby is for another class. Check the code with your teacher.",
  lobby_banned: "You can't join this lobby again.",
  lobby_elsewhere: "This lobby runs on another server. Ask your teacher for the right address.",
  forbidden: "You can't join this lobby with this account.",
  offline: "No connection to the server. Try again in a moment.",
};

/** Join a class lobby with the code the teacher reads out (6 symbols, K7M-QXP). */
export function JoinCode({ game }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const p = codeProblem(code, 6);
    setError(p);
    if (p) {
      document.getElementById("join-code")?.focus();
      return;
    }
    setBusy(true);
    try {
      await game.lobbies.join(normalizeCode(code));
    } catch (err) {
      setError(JOIN_REFUSALS[err.code] || err.message || "That didn't work.");
      document.getElementById("join-code")?.focus();
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="join-code" onSubmit=${submit} novalidate>
    <div class=${"field" + (error ? " has-error" : "")}>
      <label for="join-code">Lobby code</label>
      <p class="hint" id="join-code-hint">6 letters and digits, like K7M-QXP, from your teacher. Capitals, spaces and dashes don't matter.</p>
      <div class="inline">
        <input id="join-code" class="mono-input" value=${code} onInput=${(e) => setCode(e.currentTarget.value)}
          autocomplete="off" autocapitalize="characters" spellcheck=${false} maxlength="16"
          aria-invalid=${error ? "true" : undefined}
          aria-describedby=${error ? "join-code-hint join-code-error" : "join-code-hint"} />
        <button type="submit" class="button primary" disabled=${busy}>${busy ? "Joining…" : "Join"}</button>
      </div>
      ${error ? html`<p class="error" id="join-code-error"><span aria-hidden="true">⚠ </span>${error}</p>` : null}
    </div>
  </form>`;
}

export function Home({ rest, game }) {
  const [open, setOpen] = useState(null); // "signin" | "register" | "student"
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
      <p>Your teacher gave you a card with a username and a code.</p>
      <button type="button" class="button" aria-expanded=${open === "student"} aria-controls="student-panel" onClick=${toggle("student")}>Sign in with a class card</button>
      <div id="student-panel" hidden=${open !== "student"} ref=${open === "student" ? formRef : null}>
        ${open === "student" ? html`<${StudentSignIn} rest=${rest} onDone=${done} />` : null}
      </div>
      <p class="hint">Then choose <strong>Join a class lobby</strong> and type the lobby code your teacher reads out.</p>
    </section>
    </div>
  </div>`;
}

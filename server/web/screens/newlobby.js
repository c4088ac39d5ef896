// A new lobby: for which class (or anyone with the code), and its round rules — phase
// lengths, the prompt, the trait focus, reviews, party sizes, bots, ranked or practice,
// anonymous names, how parties are split.  The server's problems show next to their
// fields (details.fields: "settings.write_seconds", "settings.prompt.title"…).

import { html, useEffect, useState } from "../js/html.js";
import { Field, TRAITS } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { problemText } from "./teach.js";

const PHASES = [
  ["lobby_seconds", "Lobby (before writing starts)", "Students ready up; writing starts when all are ready or this runs out."],
  ["write_seconds", "Writing", "240 seconds is 4 minutes."],
  ["feedback_seconds", "Feedback", "Reviewing each other's pieces; 120 seconds is 2 minutes."],
  ["results_seconds", "Results", "How long the results stay up."],
];
const LEVELS = [
  ["elementary", "Elementary"],
  ["middle", "Middle school"],
  ["high", "High school"],
  ["adult", "Adult"],
];
const KINDS = [
  ["random", "Any prompt of the pack (a new one each round)"],
  ["level", "A prompt of one level (new each round)"],
  ["pack", "One prompt of the pack, by its id"],
  ["custom", "Your own prompt"],
];

/** The field's element id for a server key ("settings.prompt.title" → "lobby-prompt-title"). */
const idOf = (key) => "lobby-" + key.replace(/^settings\./, "").replace(/\./g, "-");

function ErrorText({ id, error }) {
  return error ? html`<p class="error" id=${id + "-error"}><span aria-hidden="true">⚠ </span>${error}</p>` : null;
}

function Select({ id, label, hint, value, onChange, options, error }) {
  const described = [hint ? id + "-hint" : null, error ? id + "-error" : null].filter(Boolean).join(" ") || undefined;
  return html`<div class=${"field" + (error ? " has-error" : "")}>
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${id + "-hint"}>${hint}</p>` : null}
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)} aria-describedby=${described} aria-invalid=${error ? "true" : undefined}>
      ${options.map(([v, l]) => html`<option key=${v} value=${v}>${l}</option>`)}
    </select>
    <${ErrorText} id=${id} error=${error} />
  </div>`;
}

function Check({ id, label, hint, checked, onChange, error }) {
  const described = [hint ? id + "-hint" : null, error ? id + "-error" : null].filter(Boolean).join(" ") || undefined;
  return html`<div class=${"field check" + (error ? " has-error" : "")}>
    <input type="checkbox" id=${id} checked=${checked} onChange=${(e) => onChange(e.currentTarget.checked)} aria-describedby=${described} aria-invalid=${error ? "true" : undefined} />
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${id + "-hint"}>${hint}</p>` : null}
    <${ErrorText} id=${id} error=${error} />
  </div>`;
}

export function NewLobby({ state, rest, game }) {
  const query = state.route.query;
  const [classes, setClasses] = useState(null);
  const [v, setV] = useState({
    class_id: (query && query.get("class")) || "",
    name: "",
    lobby_seconds: "",
    write_seconds: "",
    feedback_seconds: "",
    results_seconds: "",
    kind: "random",
    level: "middle",
    pack_id: "",
    title: "",
    text: "",
    image_description: "",
    focus: "",
    reviews_per_piece: "",
    party_min: "4",
    party_max: "6",
    bots: true,
    ranked: false,
    anonymous: true,
    split: "random",
  });
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    rest.classes().then((d) => setClasses(d.items), () => setClasses([]));
  }, []);
  const set = (k) => (value) => setV((prev) => ({ ...prev, [k]: value }));
  const input = (k) => (e) => set(k)(e.currentTarget.value);
  const err = (key) => errors[key];

  const body = () => {
    const settings = {};
    const local = {};
    for (const [k] of PHASES) {
      const raw = v[k].trim();
      if (!raw) continue;
      const n = Number(raw);
      if (!Number.isFinite(n)) local[`settings.${k}`] = "Write a number of seconds, or leave it empty for the usual length.";
      else settings[k] = n;
    }
    if (v.kind === "random") settings.prompt = { kind: "random" };
    else if (v.kind === "level") settings.prompt = { kind: "level", level: v.level };
    else if (v.kind === "pack") settings.prompt = { kind: "pack", id: v.pack_id.trim() };
    else {
      settings.prompt = { kind: "custom", level: v.level, title: v.title, text: v.text, image_description: v.image_description };
      if (!v.title.trim()) local["settings.prompt.title"] = "Give your prompt a title (1–80 characters).";
      if (!v.text.trim()) local["settings.prompt.text"] = "Write the prompt itself (1–1000 characters).";
    }
    if (v.kind === "pack" && !v.pack_id.trim()) local["settings.prompt.id"] = "Type the prompt's id, e.g. lighthouse-storm.";
    settings.focus = v.focus || null;
    if (v.reviews_per_piece) settings.reviews_per_piece = Number(v.reviews_per_piece);
    settings.party_min = Number(v.party_min);
    settings.party_max = Number(v.party_max);
    settings.bots = v.bots;
    settings.ranked = v.ranked;
    settings.anonymous = v.anonymous;
    settings.split = v.split;
    const out = { class_id: v.class_id || null, settings };
    if (v.name.trim()) out.name = v.name.trim();
    return { out, local };
  };

  const submit = async (e) => {
    e.preventDefault();
    setGeneral("");
    const { out, local } = body();
    if (Object.keys(local).length) {
      setErrors(local);
      focusFirst(local);
      return;
    }
    setBusy(true);
    try {
      const lobby = await rest.createLobby(out);
      game.announce(`Lobby ${lobby.name} is open. Its code is ${[...lobby.code.replace("-", "")].join(" ")}.`);
      game.router.go(`/teach/lobbies/${lobby.id}`);
    } catch (error) {
      const found = { ...(error.fields || {}) };
      for (const k of Object.keys(found)) found[k] = `${found[k].charAt(0).toUpperCase()}${found[k].slice(1)}.`;
      if (error.code === "class_not_found") found.class_id = "That class isn't among yours.";
      setErrors(found);
      const known = Object.keys(found).filter((k) => document.getElementById(idOf(k)));
      const unknown = Object.keys(found).filter((k) => !known.includes(k));
      if (!known.length) setGeneral(unknown.length ? unknown.map((k) => `${k}: ${found[k]}`).join(" ") : problemText(error));
      focusFirst(found);
    } finally {
      setBusy(false);
    }
  };
  const focusFirst = (found) => {
    requestAnimationFrame(() => {
      const el = Object.keys(found).map((k) => document.getElementById(idOf(k))).find(Boolean) || document.getElementById("lobby-general");
      el?.focus();
    });
  };

  const classOptions = [["", "Anyone signed in who has the code (no class)"], ...(classes || []).map((c) => [c.id, c.name])];
  const focusOptions = [["", "The prompt's own trait"], ...TRAITS.map((t) => [t, traitName(state.rubrics, t)])];
  const sizes = [["4", "4"], ["5", "5"], ["6", "6"]];

  return html`<div class="new-lobby">
    <p class="crumbs"><a href="/teach">Teach</a> <span aria-hidden="true">›</span> New lobby</p>
    <h1 tabindex="-1">Open a lobby</h1>
    <p class="lead">You get a join code to read to the room. Students join with it; you start the rounds.</p>
    <form class="card lobby-form" onSubmit=${submit} novalidate>
      <${Select} id="lobby-class_id" label="Who may join" value=${v.class_id} onChange=${set("class_id")} options=${classOptions}
        hint="A class lobby admits only the students of that class." error=${err("class_id")} />
      <${Field} id="lobby-name" label="Lobby name (optional)" hint="1–60 characters; left empty: “‹class› lobby”."
        value=${v.name} onInput=${input("name")} error=${err("name")} autocomplete="off" />

      <fieldset class="group">
        <legend>Time for each phase, in seconds</legend>
        <p class="hint">Leave a box empty for the server's usual length.</p>
        <div class="grid-2">
          ${PHASES.map(
            ([k, label, hint]) => html`<${Field} key=${k} id=${"lobby-" + k} label=${label} hint=${hint} type="number" inputmode="numeric" min="0" step="1"
              value=${v[k]} onInput=${input(k)} error=${err("settings." + k)} />`,
          )}
        </div>
      </fieldset>

      <fieldset class="group">
        <legend>Prompt</legend>
        ${KINDS.map(
          ([k, label]) => html`<div class="field check" key=${k}>
            <input type="radio" name="prompt-kind" id=${"lobby-kind-" + k} value=${k} checked=${v.kind === k} onChange=${() => set("kind")(k)} />
            <label for=${"lobby-kind-" + k}>${label}</label>
          </div>`,
        )}
        <${ErrorText} id="lobby-prompt-kind" error=${err("settings.prompt.kind") || err("settings.prompt")} />
        ${v.kind === "level" || v.kind === "custom"
          ? html`<${Select} id="lobby-prompt-level" label="Level" value=${v.level} onChange=${set("level")} options=${LEVELS} error=${err("settings.prompt.level")} />`
          : null}
        ${v.kind === "pack"
          ? html`<${Field} id="lobby-prompt-id" label="Prompt id" hint="As in the pack, e.g. lighthouse-storm." value=${v.pack_id}
              onInput=${input("pack_id")} error=${err("settings.prompt.id")} autocomplete="off" spellcheck=${false} autocapitalize="none" />`
          : null}
        ${v.kind === "custom"
          ? html`<${Field} id="lobby-prompt-title" label="Title" hint="1–80 characters, one line." value=${v.title} onInput=${input("title")} error=${err("settings.prompt.title")} autocomplete="off" />
            <${Field} id="lobby-prompt-text" label="The prompt" hint="1–1000 characters: what the students write about." multiline rows=${4}
              value=${v.text} onInput=${input("text")} error=${err("settings.prompt.text")} />
            <${Field} id="lobby-prompt-image_description" label="Describe the picture (optional)" multiline rows=${3}
              hint="Up to 500 characters. Read aloud to students who use a screen reader, and what the AI checks relevance against. (Uploading a picture is not available yet.)"
              value=${v.image_description} onInput=${input("image_description")} error=${err("settings.prompt.image_description")} />`
          : null}
      </fieldset>

      <fieldset class="group">
        <legend>Reviews and parties</legend>
        <div class="grid-2">
          <${Select} id="lobby-focus" label="Trait focus" value=${v.focus} onChange=${set("focus")} options=${focusOptions} error=${err("settings.focus")} />
          <${Select} id="lobby-reviews_per_piece" label="Reviews per piece" value=${v.reviews_per_piece} onChange=${set("reviews_per_piece")}
            options=${[["", "The usual (2)"], ["1", "1"], ["2", "2"], ["3", "3"]]} hint="Below the smallest party size." error=${err("settings.reviews_per_piece")} />
          <${Select} id="lobby-party_min" label="Smallest party" value=${v.party_min} onChange=${set("party_min")} options=${sizes} error=${err("settings.party_min")} />
          <${Select} id="lobby-party_max" label="Largest party" value=${v.party_max} onChange=${set("party_max")} options=${sizes} error=${err("settings.party_max")} />
        </div>
        <fieldset class="group inner">
          <legend>Splitting the class into parties</legend>
          ${[["random", "At random"], ["rating", "By rating (students of a similar level together)"]].map(
            ([k, label]) => html`<div class="field check" key=${k}>
              <input type="radio" name="split" id=${"lobby-split-" + k} value=${k} checked=${v.split === k} onChange=${() => set("split")(k)} />
              <label for=${"lobby-split-" + k}>${label}</label>
            </div>`,
          )}
          <${ErrorText} id="lobby-split" error=${err("settings.split")} />
        </fieldset>
      </fieldset>

      <fieldset class="group">
        <legend>Options</legend>
        <${Check} id="lobby-bots" label="Fill short parties with bots" checked=${v.bots} onChange=${set("bots")} error=${err("settings.bots")}
          hint="Without bots, a class that cannot be split into parties of the sizes above cannot start." />
        <${Check} id="lobby-ranked" label="Ranked (moves ladder ratings)" checked=${v.ranked} onChange=${set("ranked")} error=${err("settings.ranked")}
          hint="Off: practice — a lesson does not change anyone's rating." />
        <${Check} id="lobby-anonymous" label="Anonymous names" checked=${v.anonymous} onChange=${set("anonymous")} error=${err("settings.anonymous")}
          hint="Students see aliases, not each other's names. You always see names." />
      </fieldset>

      <p class="form-error" id="lobby-general" tabindex="-1" hidden=${!general}><span aria-hidden="true">⚠ </span>${general}</p>
      <div class="actions">
        <button type="submit" class="button primary big" disabled=${busy}>${busy ? "Opening…" : "Open the lobby"}</button>
        <a class="button" href="/teach">Cancel</a>
      </div>
    </form>
  </div>`;
}

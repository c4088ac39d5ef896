// Small shared pieces of UI: form fields, the countdown, the trait chart, formatting.

import { html, useEffect, useState } from "./html.js";
import { remainingMs, traitName } from "./game.js";
import { cpLength } from "./textops.js";

export const TRAITS = ["ideas", "organization", "voice", "word_choice", "sentence_fluency", "conventions", "presentation"];

/** A labelled input or textarea with its rule (hint) and its error next to it. */
export function Field({ id, label, hint, error, multiline = false, rows = 4, inputRef, ...rest }) {
  const described = [hint ? id + "-hint" : null, error ? id + "-error" : null].filter(Boolean).join(" ") || undefined;
  const props = { id, "aria-describedby": described, "aria-invalid": error ? "true" : undefined, ref: inputRef, ...rest };
  return html`<div class=${"field" + (error ? " has-error" : "")}>
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${id + "-hint"}>${hint}</p>` : null}
    ${multiline ? html`<textarea rows=${rows} ...${props}></textarea>` : html`<input ...${props} />`}
    ${error ? html`<p class="error" id=${id + "-error"}><span aria-hidden="true">⚠ </span>${error}</p>` : null}
  </div>`;
}

export function fmtClock(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The phase clock, drawn from the server's remaining_ms (never the local clock alone). */
export function Countdown({ match, label = "Time left", warn = true }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 500);
    return () => clearInterval(t);
  }, []);
  const left = remainingMs(match);
  if (left == null) return null;
  const low = warn && left <= 30_000;
  return html`<div class=${"countdown" + (low ? " low" : "")} role="timer">
    <span class="countdown-label">${match.paused ? "Paused" : label}</span>
    <span class="countdown-value">${fmtClock(left)}</span>
  </div>`;
}

export function ordinal(n) {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

export function fmtNumber(x, digits = 1) {
  return Number(x).toFixed(digits);
}

export function fmtDate(iso) {
  try {
    return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  } catch {
    return iso;
  }
}

/** The seven trait scores as bars; the focus trait marked by a star and a word. */
export function TraitChart({ traits, focus, rubrics }) {
  const names = TRAITS.filter((t) => t in traits);
  return html`<ul class="trait-chart">
    ${names.map(
      (t) => html`<li class=${t === focus ? "is-focus" : ""} key=${t}>
        <span class="trait-name">${traitName(rubrics, t)}${t === focus ? html` <span class="focus-tag">★ focus</span>` : null}</span>
        <svg class="bar" viewBox="0 0 60 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">
          <rect class="bar-track" x="0" y="0" width="60" height="8" rx="4"></rect>
          <rect class="bar-fill" x="0" y="0" width=${traits[t] * 10} height="8" rx="4"></rect>
        </svg>
        <span class="trait-value">${traits[t]} of 6</span>
      </li>`,
    )}
  </ul>`;
}

/** A prompt: the picture (with its description as the text alternative), title and text. */
export function PromptCard({ prompt, headingLevel = 2 }) {
  const H = `h${headingLevel}`;
  return html`<div class="prompt-card">
    ${prompt.image
      ? html`<img class="prompt-image" src=${"/prompts/" + encodeURIComponent(prompt.image)} alt=${prompt.image_description} width="800" height="600" />`
      : null}
    <${H} class="prompt-title">${prompt.title}<//>
    <p class="prompt-text">${prompt.text}</p>
  </div>`;
}

export function FocusCard({ trait, rubrics, level = 5 }) {
  const r = rubrics && rubrics[trait];
  return html`<div class="focus-card">
    <h3><span class="focus-tag">★ Focus</span> ${traitName(rubrics, trait)}</h3>
    ${r ? html`<p>${r.summary}</p>
      <p class="descriptor"><strong>A strong piece (${level}):</strong> ${r.descriptors[level - 1]}</p>
      <details>
        <summary>All six levels</summary>
        <ol class="levels">${r.descriptors.map((d, i) => html`<li key=${i}><strong>${i + 1}</strong> ${d}</li>`)}</ol>
      </details>` : null}
  </div>`;
}

export function charsProblem(text, max = 2000) {
  if (!text.trim()) return "Write at least a few words (it cannot be blank).";
  if (cpLength(text) > max) return `Keep it to ${max} characters (now ${cpLength(text)}).`;
  return "";
}

export function Notice({ notice, onClose }) {
  if (!notice) return null;
  return html`<div class=${"notice notice-" + notice.kind}>
    <p>${notice.text}</p>
    <button type="button" class="link" onClick=${onClose}>Dismiss</button>
  </div>`;
}

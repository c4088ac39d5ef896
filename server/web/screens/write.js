// Write: the prompt (picture, title, text, trait focus) and a calm editor with the
// server's countdown, the word count, the save state and the other seats' word counts.

import { html, useState } from "../js/html.js";
import { Countdown, PromptCard, FocusCard } from "../js/ui.js";
import { traitName } from "../js/game.js";

const SAVE_TEXT = {
  saved: ["✓", "Saved"],
  saving: ["…", "Saving…"],
  offline: ["⚠", "Offline — kept on this device"],
  locked: ["✓", "Submitted"],
};

export function SaveState({ status }) {
  const [icon, text] = SAVE_TEXT[status] || SAVE_TEXT.saving;
  return html`<span class=${"save-state save-" + status}><span aria-hidden="true">${icon} </span>${text}</span>`;
}

export function Write({ state, game }) {
  const m = state.match;
  const { draft, rubrics } = state;
  const [focusMode, setFocusMode] = useState(false);
  const others = m.seats.filter((s) => !s.you);
  const prompt = m.prompt;
  const limit = (state.limits && state.limits.draft_chars) || 20000;

  const onInput = (e) => {
    const type = e.inputType || "";
    game.edit(e.currentTarget.value, { paste: type === "insertFromPaste" || type === "insertFromDrop" });
  };

  return html`<section class=${"write" + (focusMode ? " focus-mode" : "")} aria-labelledby="write-h">
    <h1 id="write-h" class="sr-only">Write${prompt ? ": " + prompt.title : ""}</h1>
    <div class="write-bar">
      <${Countdown} match=${m} label="Time left" />
      <span class="words"><strong>${draft.words}</strong> ${draft.words === 1 ? "word" : "words"}</span>
      <${SaveState} status=${draft.status} />
      <button type="button" class="button small" aria-pressed=${focusMode} onClick=${() => setFocusMode(!focusMode)}>
        ${focusMode ? "Show prompt" : "Focus mode"}
      </button>
    </div>
    <div class="write-grid">
      ${prompt && !focusMode
        ? html`<aside class="prompt-side" aria-label="Prompt">
            <${PromptCard} prompt=${prompt} headingLevel=${2} />
          </aside>`
        : null}
      <div class="editor-wrap">
        <label for="editor" class="editor-label">Your piece${prompt ? html`<span class="editor-sub"> — focus on ${traitName(rubrics, prompt.focus)}</span>` : null}</label>
        <textarea
          id="editor"
          class="editor"
          value=${draft.text}
          onInput=${onInput}
          onPaste=${() => game.flushDraft()}
          onBlur=${() => game.flushDraft()}
          readonly=${draft.status === "locked"}
          maxlength=${limit}
          spellcheck=${true}
          aria-describedby="editor-help"
          data-autofocus
        ></textarea>
        <p class="hint" id="editor-help">
          Your writing is saved as you type, and kept on this device if the connection drops.
          Pasting is allowed; pasted text is marked as pasted.
        </p>
      </div>
      ${prompt && !focusMode
        ? html`<aside class="focus-side" aria-label="Trait focus">
            <${FocusCard} trait=${prompt.focus} rubrics=${rubrics} />
          </aside>`
        : null}
    </div>
    ${others.length
      ? html`<aside class="others" aria-labelledby="others-h">
          <h2 id="others-h">Other writers</h2>
          <ul>
            ${others.map(
              (s) => html`<li key=${s.alias}>
                <span class="alias">${s.alias}</span>
                <span>${s.left ? "left" : `${s.words} ${s.words === 1 ? "word" : "words"}`}${!s.connected && !s.left ? " · away" : ""}</span>
              </li>`,
            )}
          </ul>
        </aside>`
      : null}
  </section>`;
}

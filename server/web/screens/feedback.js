// Feedback: each assigned piece in turn with the review form (what works, what to
// change, a 1–6 rating of the focus trait against its rubric), checked before sending.

import { html, useState } from "../js/html.js";
import { Countdown, Field, charsProblem } from "../js/ui.js";
import { traitName } from "../js/game.js";

function ReviewForm({ assignment, focus, rubrics, status, onSend }) {
  const [strength, setStrength] = useState("");
  const [suggestion, setSuggestion] = useState("");
  const [rating, setRating] = useState(0);
  const [errors, setErrors] = useState({});
  const name = traitName(rubrics, focus);
  const descriptors = (rubrics && rubrics[focus] && rubrics[focus].descriptors) || ["", "", "", "", "", ""];
  const sending = status && status.status === "sending";
  const aid = assignment.assignment_id;
  const clear = (k) => errors[k] && setErrors({ ...errors, [k]: undefined });

  const submit = (e) => {
    e.preventDefault();
    const found = {};
    const s = charsProblem(strength);
    const g = charsProblem(suggestion);
    if (s) found.strength = s;
    if (g) found.suggestion = g;
    if (!rating) found.rating = `Choose how strong the ${name.toLowerCase()} is, from 1 to 6.`;
    setErrors(found);
    const first = Object.keys(found)[0];
    if (first) {
      document.getElementById(first === "rating" ? `rating-${aid}-1` : `${first}-${aid}`)?.focus();
      return;
    }
    onSend({ strength, suggestion, rating });
  };

  return html`<form class="review-form" onSubmit=${submit} novalidate>
    <${Field}
      id=${"strength-" + aid}
      label="What works"
      hint="Point to something specific that works, and say why. Quote a few words if you can."
      multiline
      rows=${3}
      value=${strength}
      onInput=${(e) => {
        setStrength(e.currentTarget.value);
        clear("strength");
      }}
      maxlength="2000"
      error=${errors.strength}
    />
    <${Field}
      id=${"suggestion-" + aid}
      label="What to change"
      hint="One concrete next step the writer could take."
      multiline
      rows=${3}
      value=${suggestion}
      onInput=${(e) => {
        setSuggestion(e.currentTarget.value);
        clear("suggestion");
      }}
      maxlength="2000"
      error=${errors.suggestion}
    />
    <fieldset class=${"rating" + (errors.rating ? " has-error" : "")} role="radiogroup"
      aria-describedby=${errors.rating ? `rating-${aid}-error` : undefined}
      aria-invalid=${errors.rating ? "true" : undefined}>
      <legend>${name}: how strong is it in this piece?</legend>
      ${descriptors.map(
        (d, i) => html`<label class="rating-option" key=${i} for=${`rating-${aid}-${i + 1}`}>
          <input type="radio" id=${`rating-${aid}-${i + 1}`} name=${"rating-" + aid} value=${i + 1}
            checked=${rating === i + 1} onChange=${() => {
              setRating(i + 1);
              clear("rating");
            }} />
          <span class="rating-num">${i + 1}</span>
          <span class="rating-text">${d}</span>
        </label>`,
      )}
      ${errors.rating ? html`<p class="error" id=${`rating-${aid}-error`}><span aria-hidden="true">⚠ </span>${errors.rating}</p>` : null}
    </fieldset>
    <p class="hint rules">Both answers: 1–2000 characters, not blank. Reviews are anonymous and final once sent.</p>
    ${status && status.error ? html`<p class="form-error"><span aria-hidden="true">⚠ </span>${status.error}</p>` : null}
    <button type="submit" class="button primary" disabled=${sending}>${sending ? "Sending…" : "Send review"}</button>
  </form>`;
}

export function Feedback({ state, game }) {
  const m = state.match;
  const { reviews, rubrics } = state;
  const focus = m.focus || (m.prompt && m.prompt.focus);
  const all = m.assignments || [];
  const done = (a) => reviews[a.assignment_id] && ["sent", "late"].includes(reviews[a.assignment_id].status);
  const sent = all.filter(done).length;
  const current = all.find((a) => !done(a));
  const index = current ? all.indexOf(current) + 1 : all.length;

  let body;
  if (!all.length) {
    body =
      m.reason === "nothing_to_review" || m.reason === "pieces_ready"
        ? html`<p class="lead" tabindex="-1" data-autofocus>There is nothing for you to review this time. Results come when the others finish.</p>`
        : html`<p class="wait-text" tabindex="-1" data-autofocus><span class="spinner" aria-hidden="true"></span> Getting the pieces ready (each one is checked before anyone reads it)…</p>`;
  } else if (!current) {
    body = html`<div class="all-sent" tabindex="-1" data-autofocus>
      <p class="lead"><span aria-hidden="true">✓ </span>All ${all.length} reviews sent. Thank you!</p>
      <p>Scoring starts when everyone has finished, or when the time runs out.</p>
    </div>`;
  } else {
    body = html`<div class="review" key=${current.assignment_id}>
      <article class="piece-card" aria-labelledby="piece-h">
        <h2 id="piece-h" tabindex="-1" data-autofocus>Piece ${index} of ${all.length} <span class="by">by ${current.alias}</span></h2>
        <div class="piece-text">${current.text}</div>
      </article>
      <${ReviewForm}
        key=${current.assignment_id}
        assignment=${current}
        focus=${focus}
        rubrics=${rubrics}
        status=${reviews[current.assignment_id]}
        onSend=${(r) => game.submitReview(current.assignment_id, r)}
      />
    </div>`;
  }

  return html`<section class="feedback" aria-labelledby="feedback-h">
    <div class="phase-head">
      <h1 id="feedback-h">Feedback</h1>
      <${Countdown} match=${m} label="Time left" />
    </div>
    ${all.length
      ? html`<div class="progress-line">
          <label for="review-progress">Reviews sent: ${sent} of ${all.length}</label>
          <progress id="review-progress" max=${all.length} value=${sent}></progress>
        </div>`
      : null}
    ${body}
    <p class="hint timeout-note">
      When time runs out, reviews you haven't sent don't count; a player who had pieces to
      review and sent none gets the lowest review score.
    </p>
  </section>`;
}

// Goals on Me: "Voice to 4 by June" — the form to set one, and the list with a progress
// bar toward each (from the average when it was set to the target). docs/progress.md.

import { html, useEffect, useState } from "../js/html.js";
import { fmtNumber, TRAITS } from "../js/ui.js";
import { traitName } from "../js/game.js";

const TARGETS = [1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6];
const STATUS = { open: "In progress", late: "Past its date", met: "Met" };

function dayText(iso) {
  return new Date(iso + "T12:00:00Z").toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" });
}

export function goalText(goal, rubrics) {
  return `${traitName(rubrics, goal.trait)} to ${fmtNumber(goal.target)}${goal.due ? ` by ${dayText(goal.due)}` : ""}`;
}

function GoalItem({ goal, rubrics, onDelete, busy }) {
  const name = goalText(goal, rubrics);
  const pct = Math.round(goal.progress * 100);
  const barId = "goal-" + goal.id;
  return html`<li class=${"goal is-" + goal.status}>
    <div class="goal-head">
      <h3 class="goal-title">${name}</h3>
      <span class=${"tag tag-" + goal.status}>${STATUS[goal.status]}</span>
    </div>
    <div class="goal-bar">
      <label for=${barId}>${goal.status === "met" ? "Reached" : `${pct}% of the way`}</label>
      <progress id=${barId} max="100" value=${pct}>${pct}%</progress>
      <span class="hint">now ${goal.recent == null ? "no score yet" : fmtNumber(goal.recent)} · target ${fmtNumber(goal.target)}${goal.baseline == null ? "" : ` · started at ${fmtNumber(goal.baseline)}`}</span>
    </div>
    <p class="hint">${goal.set_by.self ? "Set by you" : `Set by ${goal.set_by.display_name || "your teacher"}`}</p>
    <button type="button" class="button small" disabled=${busy} aria-label=${`Delete goal: ${name}`} onClick=${() => onDelete(goal)}>Delete</button>
  </li>`;
}

/** The goals of ``path`` (default: yours); ``onChanged`` after a set or a delete. */
export function GoalsSection({ rest, rubrics, game, path = "/api/v1/goals/me", refresh = 0, suggest = null, onChanged }) {
  const [list, setList] = useState(null);
  const [trait, setTrait] = useState("");
  const [target, setTarget] = useState("4");
  const [due, setDue] = useState("");
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);

  const load = () =>
    rest.call("GET", path).then(setList, (err) => setErrors({ form: err.code === "network" ? "You're offline, so your goals can't load right now." : err.message }));
  useEffect(() => {
    load();
  }, [path, refresh]);
  useEffect(() => {
    if (suggest && !trait) setTrait(suggest);
  }, [suggest]);

  const submit = async (e) => {
    e.preventDefault();
    const chosen = trait || suggest || TRAITS[0];
    setBusy(true);
    setErrors({});
    try {
      const body = { trait: chosen, target: Number(target) };
      if (due) body.due = due;
      const goal = await rest.call("POST", path, body);
      game.announce(`Goal set: ${goalText(goal, rubrics)}.`);
      setDue("");
      await load();
      if (onChanged) onChanged();
    } catch (err) {
      const fields = (err.details && err.details.fields) || {};
      setErrors(Object.keys(fields).length ? fields : { form: err.message });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (goal) => {
    setBusy(true);
    try {
      await rest.call("DELETE", `/api/v1/goals/${goal.id}`);
      game.announce(`Goal deleted: ${goalText(goal, rubrics)}.`);
      await load();
      if (onChanged) onChanged();
    } catch (err) {
      setErrors({ form: err.message });
    } finally {
      setBusy(false);
    }
  };

  const items = list ? list.items : [];
  const full = list && list.open >= list.max_open;
  return html`<section class="card" aria-labelledby="goals-h">
    <h2 id="goals-h">Goals</h2>
    ${list && !items.length ? html`<p class="hint">No goals yet. Pick a trait and the average you want to reach.</p>` : null}
    ${items.length ? html`<ul class="goals">${items.map((g) => html`<${GoalItem} key=${g.id} goal=${g} rubrics=${rubrics} onDelete=${remove} busy=${busy} />`)}</ul>` : null}
    <form class="goal-form" onSubmit=${submit} noValidate>
      <h3>Set a goal</h3>
      ${errors.form ? html`<p class="form-error" role="alert">${errors.form}</p>` : null}
      <div class="goal-fields">
        <div class="field">
          <label for="goal-trait">Trait</label>
          <select id="goal-trait" value=${trait || suggest || TRAITS[0]} onChange=${(e) => setTrait(e.target.value)}
            aria-invalid=${errors.trait ? "true" : undefined} aria-describedby=${errors.trait ? "goal-trait-err" : undefined}>
            ${TRAITS.map((t) => html`<option key=${t} value=${t}>${traitName(rubrics, t)}</option>`)}
          </select>
          ${errors.trait ? html`<p class="error" id="goal-trait-err">${errors.trait}</p>` : null}
        </div>
        <div class="field">
          <label for="goal-target">Target average</label>
          <select id="goal-target" value=${target} onChange=${(e) => setTarget(e.target.value)}
            aria-invalid=${errors.target ? "true" : undefined} aria-describedby=${errors.target ? "goal-target-err" : undefined}>
            ${TARGETS.map((v) => html`<option key=${v} value=${String(v)}>${fmtNumber(v)} of 6</option>`)}
          </select>
          ${errors.target ? html`<p class="error" id="goal-target-err">${errors.target}</p>` : null}
        </div>
        <div class="field">
          <label for="goal-due">By (optional)</label>
          <input id="goal-due" type="date" value=${due} onInput=${(e) => setDue(e.target.value)}
            aria-invalid=${errors.due ? "true" : undefined} aria-describedby=${errors.due ? "goal-due-err" : undefined} />
          ${errors.due ? html`<p class="error" id="goal-due-err">${errors.due}</p>` : null}
        </div>
      </div>
      <button type="submit" class="button primary" disabled=${busy || full}>Set goal</button>
      ${full ? html`<p class="hint">You have ${list.max_open} open goals: delete one to set another.</p>` : null}
    </form>
  </section>`;
}

// A teacher's page of one student: their progress (rating and traits over time, tier,
// streaks, bests, what to practise next) and their goals, which the teacher may set too.

import { html, useState } from "../js/html.js";
import { ProgressSection } from "./progress.js";
import { GoalsSection } from "./goals.js";

export function StudentPage({ state, rest, game, userId }) {
  const [name, setName] = useState("");
  const [changed, setChanged] = useState(0);
  return html`<div class="student-page">
    <p class="hint"><a href="/teach">Back to Teach</a></p>
    <h1 tabindex="-1">${name ? `${name}'s progress` : "A student's progress"}</h1>
    <p class="lead">What ${name || "this student"} has written lately, how it is going, and the goals they are working towards. Only you, the student and the school's admins see this page.</p>
    <p class="link-row"><a href=${"/portfolio?user=" + userId}>${name ? `${name}'s portfolio` : "Portfolio"}: every piece, with scores and reviews</a></p>
    <${ProgressSection} rest=${rest} rubrics=${state.rubrics} path=${"/api/v1/progress/" + userId} own=${false}
      refresh=${changed} onLoad=${(p) => setName(p.user.display_name)} />
    <${GoalsSection} rest=${rest} rubrics=${state.rubrics} game=${game} path=${"/api/v1/goals/users/" + userId}
      onChanged=${() => setChanged((n) => n + 1)} />
  </div>`;
}

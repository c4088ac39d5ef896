// The teacher's live view of a round: every writer of every party (draft as it grows,
// words, pastes, submitted, reviews), each party's clock, the moderation flags, and the
// safety alerts (`safety: true`) the frame shows on every screen until seen.

import { html } from "../js/html.js";
import { Countdown } from "../js/ui.js";

const PHASES = { lobby: "Lobby", write: "Writing", feedback: "Feedback", scoring: "Scoring", results: "Results", closed: "Finished" };
const REASONS = {
  self_harm: "self-harm signal",
  profanity: "profanity",
  harassment: "harassment",
  email: "an e-mail address",
  phone: "a phone number",
};

export const reasonText = (reasons) => (reasons || []).map((r) => REASONS[r] || r.replace(/_/g, " ")).join(", ");
/** Who wrote the flagged text: the student's name and alias; a bot has only its alias. */
const who = (f) => (f.name ? html`<strong>${f.name}</strong> (${f.alias})` : html`<strong>${f.alias}</strong> (bot)`);
const phaseName = (f) => (PHASES[f.phase] ? PHASES[f.phase].toLowerCase() : f.phase);
const where = (f) =>
  f.source === "draft"
    ? `the draft they are still writing, party ${f.party}`
    : `${f.source === "review" ? "a review" : "their piece"}, party ${f.party}, ${phaseName(f)}`;

/** Safety signals: an alert the teacher cannot miss, on any screen, until marked seen. */
export function SafetyAlerts({ watch, game, route }) {
  if (!watch) return null;
  const open = (watch.flags || []).filter((f) => f.safety && !watch.acknowledged.includes(f.key));
  if (!open.length) return null;
  const here = route.name === "hosting" && route.params[0] === watch.lobbyId;
  return html`<div class="safety-alert" role="alert">
    <h2><span aria-hidden="true">⚠ </span>Safety alert — please check on ${open.length === 1 ? "this student" : "these students"} now</h2>
    <ul>
      ${open.map(
        (f) => html`<li key=${f.key}>
          <p>${who(f)} wrote, in ${where(f)}:</p>
          <blockquote class="flag-text">${f.text}</blockquote>
          <p class="hint-strong">Flagged for: ${reasonText(f.reasons)}.</p>
          <button type="button" class="button small" onClick=${() => game.lobbies.acknowledge(f.key)}>I have seen this alert</button>
        </li>`,
      )}
    </ul>
    ${here ? null : html`<p><a href=${"/teach/lobbies/" + watch.lobbyId}>Open the lobby</a></p>`}
  </div>`;
}

/** Every moderation flag of the lobby (safety first), however far the round is. */
export function Flags({ flags }) {
  if (!flags || !flags.length) return null;
  const sorted = [...flags].sort((a, b) => Number(b.safety) - Number(a.safety) || b.at - a.at);
  return html`<section class="card flags" aria-labelledby="flags-h">
    <h2 id="flags-h"><span aria-hidden="true">⚑ </span>Needs a look: ${flags.length} moderation ${flags.length === 1 ? "flag" : "flags"}</h2>
    <ul>
      ${sorted.map(
        (f) => html`<li key=${f.key} class=${f.safety ? "is-safety" : ""}>
          <p>${f.safety ? html`<strong class="tag-danger">Safety</strong> ` : null}${who(f)} — ${where(f)}; flagged for ${reasonText(f.reasons)}.</p>
          <blockquote class="flag-text">${f.text}</blockquote>
        </li>`,
      )}
    </ul>
  </section>`;
}

function status(w) {
  const out = [];
  if (w.left) out.push("left the match");
  else if (!w.connected) out.push("away (no connection)");
  if (w.phase === "lobby") out.push(w.ready ? "✓ ready" : "not ready yet");
  else if (w.submitted) out.push("✓ submitted");
  else if (w.phase === "write") out.push("writing");
  if (w.reviews_assigned) out.push(`reviews ${w.reviews_done} of ${w.reviews_assigned}${w.reviews_done >= w.reviews_assigned ? " ✓" : ""}`);
  return out;
}

function WriterCard({ player, writer }) {
  const w = writer;
  return html`<li class="writer">
    <h4 class="writer-name">${player.name} <span class="alias-sub">as ${player.alias}</span></h4>
    ${w
      ? html`<p class="writer-stats">
          <span><strong class="num">${w.words}</strong> ${w.words === 1 ? "word" : "words"}</span>
          ${status(w).map((s) => html`<span key=${s}>${s}</span>`)}
          ${w.pastes ? html`<span class="paste-flag"><span aria-hidden="true">⚠ </span>pasted ${w.pastes}× (${w.pasted_chars} characters)</span>` : null}
        </p>
        <div class="draft" tabindex="0" role="region" aria-label=${`Draft of ${player.name}`}>
          ${w.text ? w.text : html`<span class="hint">Nothing written yet.</span>`}
        </div>`
      : html`<p class="hint">Not in the match yet.</p>`}
  </li>`;
}

/** The round's parties, each with its clock and its writers' cards. */
export function LiveView({ watch }) {
  const round = watch.round;
  if (!round) return null;
  return html`<section class="live" aria-labelledby="live-h">
    <div class="phase-head">
      <h2 id="live-h">Round ${round.round}${round.status === "ended" ? " — finished" : ""}</h2>
      ${round.status === "ended"
        ? html`<a class="button primary" href=${"/teach/lobbies/" + watch.lobbyId + "/results"}>Results of round ${round.round}</a>`
        : null}
    </div>
    ${round.skipped && round.skipped.length
      ? html`<p class="hint">Sitting this round out (playing a match elsewhere): ${round.skipped.map((s) => s.name || s).join(", ")}.</p>`
      : null}
    ${(round.parties || []).map((p) => {
      const m = watch.matches[p.match_id];
      return html`<section class="party card" key=${p.match_id} aria-labelledby=${"party-h-" + p.party}>
        <div class="phase-head">
          <h3 id=${"party-h-" + p.party}>Party ${p.party}${p.bots ? html` <span class="hint">+ ${p.bots} ${p.bots === 1 ? "bot" : "bots"}</span>` : null}</h3>
          ${m
            ? html`<p class="party-clock"><span class="phase-tag">${PHASES[m.phase] || m.phase}${m.paused ? " · paused" : ""}</span>
                ${["lobby", "write", "feedback"].includes(m.phase) ? html`<${Countdown} match=${m} label="Left" warn=${false} />` : null}</p>`
            : null}
        </div>
        <ul class="writers">
          ${p.players.map((pl) => html`<${WriterCard} key=${pl.player_id} player=${pl} writer=${watch.writers[pl.player_id]} />`)}
        </ul>
      </section>`;
    })}
  </section>`;
}

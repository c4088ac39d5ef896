// A lobby the teacher runs: the join code (large, grouped, to read aloud), the roster as
// students join (kick, ban), lock/unlock, a message to the lobby, Start round; while a
// round plays, Pause / Resume / Extend and the live view; the moderation flags always;
// once a round has finished, the way to its results (lobbyresults.js).

import { html, useEffect, useState } from "../js/html.js";
import { Field } from "../js/ui.js";
import { Flags, LiveView } from "./live.js";
import { problemText } from "./teach.js";

const REFUSALS = {
  cannot_split: null, // the server's message says what to change
  too_many_actions: "Too many actions in a short time. Wait a few seconds.",
  wrong_phase: "No match of the round is in a phase this applies to.",
  paused: "The round is paused already.",
  not_paused: "The round isn't paused.",
};

function refusal(err) {
  if (err.code === "offline") return "Not connected to the server. Reconnecting; try again in a moment.";
  return REFUSALS[err.code] || err.message || err.code;
}

/** The join code, grouped and large; spelled out for screen readers. */
export function JoinCodeBig({ code }) {
  const groups = code.split("-");
  const spelled = [...code.replace(/-/g, "")].join(" ");
  return html`<div class="big-code-box">
    <p class="big-code-label" id="join-code-label">Join code</p>
    <p class="big-code" aria-hidden="true">${groups.map((g, i) => html`<span class="code-group" key=${i}>${g}</span>`)}</p>
    <p class="sr-only">Join code: ${spelled}</p>
    <p class="hint">Students sign in, then choose <strong>Join a class lobby</strong> on the Play page and type this code. Case, spaces and dashes don't matter.</p>
  </div>`;
}

function Roster({ watch, game, onError }) {
  const [confirm, setConfirm] = useState(null);
  const kick = (m, ban) =>
    game.lobbies
      .control("lobby.kick", { player_id: m.player_id, ban })
      .then(() => setConfirm(null))
      .catch((err) => onError(refusal(err)));
  const members = watch.members || [];
  return html`<section class="card" aria-labelledby="roster-h">
    <h2 id="roster-h">In the lobby: ${members.length}</h2>
    ${members.length
      ? html`<ul class="lobby-roster">
          ${members.map(
            (m) => html`<li key=${m.player_id}>
              <span class="member-name">${m.name}</span>
              <span class=${"presence " + (m.connected ? "on" : "off")}>
                <span aria-hidden="true">${m.connected ? "● " : "○ "}</span>${m.connected ? "online" : "away"}${m.match_id ? " · in a match" : ""}
              </span>
              ${confirm === m.player_id
                ? html`<span class="inline" role="group" aria-label=${`Ban ${m.name}?`}>
                    <button type="button" class="button small danger-solid" onClick=${() => kick(m, true)}>Ban ${m.name}</button>
                    <button type="button" class="button small" onClick=${() => setConfirm(null)}>Cancel</button>
                  </span>`
                : html`<span class="inline">
                    <button type="button" class="button small" onClick=${() => kick(m, false)} aria-label=${`Remove ${m.name} from the lobby`}>Remove</button>
                    <button type="button" class="button small danger" onClick=${() => setConfirm(m.player_id)} aria-label=${`Ban ${m.name}…`}>Ban…</button>
                  </span>`}
            </li>`,
          )}
        </ul>`
      : html`<p>Nobody yet. Read the code to the room.</p>`}
  </section>`;
}

function Message({ watch, game }) {
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const send = async (e) => {
    e.preventDefault();
    if (!text.trim()) {
      setError("Write a message first (up to 500 characters).");
      document.getElementById("lobby-message")?.focus();
      return;
    }
    setBusy(true);
    setError("");
    try {
      await game.lobbies.control("lobby.message", { text: text.trim() });
      setText("");
      game.announce("Message sent to the lobby.");
    } catch (err) {
      setError(refusal(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card" aria-labelledby="message-h">
    <h2 id="message-h">Message to the lobby</h2>
    <form onSubmit=${send} novalidate>
      <${Field} id="lobby-message" label="Message" hint="Up to 500 characters; everyone in the lobby sees it at once."
        value=${text} onInput=${(e) => setText(e.currentTarget.value)} error=${error} maxlength="500" autocomplete="off" />
      <button type="submit" class="button" disabled=${busy}>Send message</button>
    </form>
    ${watch.notices && watch.notices.length
      ? html`<h3 class="sub-h">Sent</h3><ul class="notices">${watch.notices.map((n) => html`<li key=${n.at}>${n.text}</li>`)}</ul>`
      : null}
  </section>`;
}

export function Hosting({ state, rest, game, lobbyId }) {
  const watch = state.watch && state.watch.lobbyId === lobbyId ? state.watch : null;
  const [info, setInfo] = useState(null);
  const [actionError, setActionError] = useState("");
  const [busy, setBusy] = useState("");
  useEffect(() => {
    game.lobbies.watch(lobbyId);
    rest.lobby(lobbyId).then(setInfo, () => {});
  }, [lobbyId]);

  const act = (label, type, d = null, said = "") => {
    setBusy(label);
    setActionError("");
    game.lobbies
      .control(type, d)
      .then(() => said && game.announce(said))
      .catch((err) => setActionError(refusal(err)))
      .finally(() => setBusy(""));
  };

  if (!watch || (watch.loading && !watch.lobby)) {
    return html`<div class="card"><h1 tabindex="-1">Lobby</h1>
      ${watch && watch.error ? html`<p class="form-error">${watch.error}</p><a href="/teach">Back to Teach</a>` : html`<p class="hint">Connecting to the lobby…</p>`}</div>`;
  }
  if (watch.error && !watch.lobby) {
    return html`<div class="card"><h1 tabindex="-1">Lobby</h1><p class="form-error">${watch.error}</p><a href="/teach">Back to Teach</a></div>`;
  }
  const lobby = watch.lobby;
  const round = watch.round;
  const playing = round && round.status === "playing";
  const matches = Object.values(watch.matches);
  const anyPaused = matches.some((m) => m.paused);
  const anyLobbyPhase = matches.some((m) => m.phase === "lobby");
  const closed = lobby.status === "closed";
  const settings = info && info.lobby && info.lobby.settings;
  // Rounds whose results are in (the one playing is not); the results screen has them.
  const finished = Math.max(0, (lobby.round || 0) - (playing ? 1 : 0), info && info.rounds ? info.rounds.filter((r) => r.ended_at).length : 0);

  return html`<div class="hosting">
    <p class="crumbs"><a href="/teach">Teach</a> <span aria-hidden="true">›</span> ${lobby.name}</p>
    <div class="phase-head">
      <h1 tabindex="-1">${lobby.name}</h1>
      <p class="lobby-status">
        ${closed ? "Closed" : playing ? `Round ${round.round} playing` : lobby.round ? `${lobby.round} ${lobby.round === 1 ? "round" : "rounds"} played` : "Open, no round yet"}
        ${lobby.locked ? html` · locked` : null}
      </p>
    </div>
    <${Flags} flags=${watch.flags} />
    <div class="host-top">
      <section class="card code-card" aria-labelledby="join-code-label">
        <${JoinCodeBig} code=${lobby.code} />
        <p class=${"lock-state" + (lobby.locked ? " is-locked" : "")}>
          ${lobby.locked ? html`<strong>Locked:</strong> nobody new can join.` : "Open: students with the code can join."}
        </p>
      </section>
      <section class="card controls" aria-labelledby="controls-h">
        <h2 id="controls-h">Round</h2>
        ${settings
          ? html`<p class="hint">Writing ${Math.round(settings.write_seconds)} s · feedback ${Math.round(settings.feedback_seconds)} s · parties of ${settings.party_min}–${settings.party_max}${settings.bots ? " · bots on" : " · no bots"} · ${settings.ranked ? "ranked" : "practice"}${settings.anonymous ? " · anonymous" : ""}</p>`
          : null}
        <div class="actions">
          ${!playing
            ? html`<button type="button" class="button primary big" onClick=${() => act("start", "teacher.start", null, "Starting the round…")} disabled=${!!busy || closed}>
                ${busy === "start" ? "Starting…" : lobby.round ? "Start the next round" : "Start round"}</button>`
            : html`
                ${anyLobbyPhase ? html`<button type="button" class="button primary" onClick=${() => act("now", "teacher.start", null, "Writing starts now.")} disabled=${!!busy}>Start writing now</button>` : null}
                ${anyPaused
                  ? html`<button type="button" class="button primary" onClick=${() => act("resume", "teacher.resume", null, "The round goes on.")} disabled=${!!busy}>Resume</button>`
                  : html`<button type="button" class="button" onClick=${() => act("pause", "teacher.pause", null, "The round is paused.")} disabled=${!!busy}>Pause</button>`}
                <button type="button" class="button" onClick=${() => act("extend", "teacher.extend", { seconds: 60 }, "One more minute for everyone.")} disabled=${!!busy}>Extend (+1 min)</button>
              `}
          <button type="button" class="button" onClick=${() => act("lock", "lobby.lock", { locked: !lobby.locked }, lobby.locked ? "The lobby is open again." : "The lobby is locked.")} disabled=${!!busy || closed}>
            ${lobby.locked ? "Unlock the lobby" : "Lock the lobby"}
          </button>
          ${finished > 0 ? html`<a class="button" href=${"/teach/lobbies/" + lobbyId + "/results"}>Results, scores and CSV</a>` : null}
        </div>
        ${actionError ? html`<p class="form-error" role="alert"><span aria-hidden="true">⚠ </span>${actionError}</p>` : null}
      </section>
    </div>
    <${LiveView} watch=${watch} />
    <div class="teach-grid">
      <${Roster} watch=${watch} game=${game} onError=${setActionError} />
      <${Message} watch=${watch} game=${game} />
    </div>
  </div>`;
}

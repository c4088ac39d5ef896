// Study pods (docs/pods.md): when you are free and your goals; the pods that fit you or
// the waitlist; your pod with its members and weekly session in your time zone; the
// session's agenda and its Join button while it is open; the check-in after it, the
// streak; leaving, or a rematch, with a reason.

import { html, useEffect, useState } from "../js/html.js";
import { TRAITS, PromptCard, fmtDate } from "../js/ui.js";
import { traitName } from "../js/game.js";
import { normalizeCode } from "../js/rest.js";

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const LENGTHS = [30, 45, 60, 90, 120, 180, 240, 360, 480, 720];
const MAX_WINDOWS = 14;
const MAX_GOALS = 3;

function zones() {
  try {
    const all = Intl.supportedValuesOf("timeZone");
    return all.includes("UTC") ? all : ["UTC", ...all];
  } catch {
    return ["UTC", "Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney", "Pacific/Tongatapu", "Pacific/Pago_Pago"];
  }
}

function localZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

const hhmm = (minute) => `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
const minutesOf = (text) => {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text || "");
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
};
const lengthLabel = (n) => (n < 60 ? `${n} minutes` : n % 60 ? `${Math.floor(n / 60)} h ${n % 60} min` : `${n / 60} ${n === 60 ? "hour" : "hours"}`);
const sessionText = (s) => `${DAYS[s.day]}s at ${hhmm(s.start)} (${s.time_zone}), ${s.minutes} minutes`;

function problem(err, fallback = "That didn't work.") {
  if (!err) return "";
  if (err.code === "network") return "You're offline. Try again when you're back online.";
  return err.message || fallback;
}

// --- the profile form -------------------------------------------------------------------

function ProfileForm({ rest, game, profile, rubrics, onSaved }) {
  const [zone, setZone] = useState(profile ? profile.time_zone : localZone());
  const [windows, setWindows] = useState(profile ? profile.windows : [{ day: 1, start: 17 * 60, minutes: 90 }]);
  const [goals, setGoals] = useState(profile ? profile.goals : []);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const all = zones();

  const change = (i, key, value) => setWindows(windows.map((w, j) => (j === i ? { ...w, [key]: value } : w)));
  const toggle = (trait) => setGoals(goals.includes(trait) ? goals.filter((g) => g !== trait) : [...goals, trait]);
  const submit = async (e) => {
    e.preventDefault();
    const local = {};
    windows.forEach((w, i) => {
      if (w.start == null) local[`windows[${i}].start`] = "Give a time like 18:30.";
    });
    if (goals.length > MAX_GOALS) local.goals = `Choose at most ${MAX_GOALS} goals.`;
    setErrors(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const saved = await rest.call("PUT", "/api/v1/pods/me/profile", { time_zone: zone, windows, goals });
      game.announce("Saved when you are free.");
      onSaved(saved);
    } catch (err) {
      setErrors({ form: problem(err), ...err.fields });
    } finally {
      setBusy(false);
    }
  };
  const err = (k) => errors[k];
  return html`<form onSubmit=${submit} novalidate>
    ${errors.form ? html`<p class="form-error" role="alert">${errors.form}</p>` : null}
    <div class=${"field" + (err("time_zone") ? " has-error" : "")}>
      <label for="pod-zone">Your time zone</label>
      <select id="pod-zone" value=${zone} onChange=${(e) => setZone(e.currentTarget.value)} aria-invalid=${err("time_zone") ? "true" : undefined}>
        ${all.map((z) => html`<option key=${z} value=${z}>${z.replace(/_/g, " ")}</option>`)}
      </select>
      ${err("time_zone") ? html`<p class="error">${err("time_zone")}</p>` : null}
    </div>
    <fieldset class="group">
      <legend>When you are free each week</legend>
      <p class="hint">In your own time. Your pod meets for 45 minutes inside a time all of you share.</p>
      ${windows.map(
        (w, i) => html`<div class="pod-window" key=${i} role="group" aria-label=${`Free time ${i + 1}`}>
          <div class="field">
            <label for=${`pod-day-${i}`}>Day</label>
            <select id=${`pod-day-${i}`} value=${String(w.day)} onChange=${(e) => change(i, "day", Number(e.currentTarget.value))}>
              ${DAYS.map((d, n) => html`<option key=${n} value=${String(n)}>${d}</option>`)}
            </select>
          </div>
          <div class=${"field" + (err(`windows[${i}].start`) ? " has-error" : "")}>
            <label for=${`pod-start-${i}`}>From</label>
            <input id=${`pod-start-${i}`} type="time" step="60" value=${w.start == null ? "" : hhmm(w.start)}
              onInput=${(e) => change(i, "start", minutesOf(e.currentTarget.value))}
              aria-invalid=${err(`windows[${i}].start`) ? "true" : undefined}
              aria-describedby=${err(`windows[${i}].start`) ? `pod-start-${i}-error` : undefined} />
            ${err(`windows[${i}].start`) ? html`<p class="error" id=${`pod-start-${i}-error`}>${err(`windows[${i}].start`)}</p>` : null}
          </div>
          <div class="field">
            <label for=${`pod-len-${i}`}>For</label>
            <select id=${`pod-len-${i}`} value=${String(w.minutes)} onChange=${(e) => change(i, "minutes", Number(e.currentTarget.value))}>
              ${[...new Set([...LENGTHS, w.minutes])].sort((a, b) => a - b).map((n) => html`<option key=${n} value=${String(n)}>${lengthLabel(n)}</option>`)}
            </select>
          </div>
          ${windows.length > 1
            ? html`<button type="button" class="button small" onClick=${() => setWindows(windows.filter((_, j) => j !== i))}
                aria-label=${`Remove free time ${i + 1}`}>Remove</button>`
            : null}
        </div>`,
      )}
      ${err("windows") ? html`<p class="error">${err("windows")}</p>` : null}
      ${windows.length < MAX_WINDOWS
        ? html`<button type="button" class="button small" onClick=${() => setWindows([...windows, { day: 3, start: 17 * 60, minutes: 90 }])}>Add a time</button>`
        : null}
    </fieldset>
    <fieldset class=${"group" + (err("goals") ? " has-error" : "")} aria-describedby="pod-goals-hint">
      <legend>What you want to get better at</legend>
      <p class="hint" id="pod-goals-hint">Up to ${MAX_GOALS} traits. Pods with shared goals share an agenda.</p>
      <div class="grid-2">
        ${TRAITS.map(
          (t) => html`<div class="field check" key=${t}>
            <input type="checkbox" id=${"pod-goal-" + t} checked=${goals.includes(t)} onChange=${() => toggle(t)}
              disabled=${!goals.includes(t) && goals.length >= MAX_GOALS} />
            <label for=${"pod-goal-" + t}>${traitName(rubrics, t)}</label>
          </div>`,
        )}
      </div>
      ${err("goals") ? html`<p class="error">${err("goals")}</p>` : null}
    </fieldset>
    <button type="submit" class="button primary" disabled=${busy}>${profile ? "Save changes" : "Save"}</button>
  </form>`;
}

// --- finding a pod ----------------------------------------------------------------------

function Finding({ rest, game, placed, onPlaced }) {
  const [offers, setOffers] = useState(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    rest.call("GET", "/api/v1/pods/suggestions").then(setOffers, (err) => setError(problem(err)));
  }, [placed.waitlisted]);

  const join = async (pod) => {
    setBusy(true);
    setError("");
    try {
      await rest.call("POST", `/api/v1/pods/${pod.pod_id}/join`);
      game.announce(`You joined ${pod.name}.`);
      onPlaced();
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  };
  const wait = async () => {
    setBusy(true);
    setError("");
    try {
      const res = await rest.call("POST", "/api/v1/pods/waitlist");
      game.announce(res.pod ? `A pod was formed with you: ${res.pod.name}.` : "You are on the waitlist.");
      onPlaced();
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card" aria-labelledby="pod-find-h">
    <h2 id="pod-find-h">Pods that fit you</h2>
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    ${!offers ? html`<p class="hint">Loading…</p>` : null}
    ${offers && offers.items.length
      ? html`<ul class="pod-offers">
          ${offers.items.map(
            (o) => html`<li key=${o.pod_id} class="pod-offer">
              <h3>${o.name}</h3>
              <p>${o.members} ${o.members === 1 ? "writer" : "writers"} · meets ${sessionText(o.session)} · fit ${Math.round(o.score * 100)}%</p>
              ${o.reasons.length ? html`<ul class="reasons">${o.reasons.map((r) => html`<li key=${r}>${r}</li>`)}</ul>` : null}
              <button type="button" class="button primary" disabled=${busy} onClick=${() => join(o)} aria-label=${`Join ${o.name}`}>Join</button>
            </li>`,
          )}
        </ul>`
      : null}
    ${offers && !offers.items.length && !placed.waitlisted
      ? html`<p>No open pod fits your times yet.</p>`
      : null}
    ${placed.waitlisted
      ? html`<p class="notice notice-info" role="status">You are on the waitlist. A pod is formed as soon as enough writers share your times; you'll find it here.</p>`
      : html`<p class="hint">Or wait for a new pod with writers like you:</p>
          <button type="button" class="button" disabled=${busy} onClick=${wait}>Join the waitlist</button>`}
  </section>`;
}

// --- my pod -----------------------------------------------------------------------------

function Agenda({ session, rubrics, game }) {
  const [error, setError] = useState("");
  const join = async () => {
    setError("");
    try {
      await game.lobbies.join(normalizeCode(session.lobby_code));
    } catch (err) {
      setError(problem(err, "Could not join the session."));
    }
  };
  return html`<section class="card pod-session" aria-labelledby="pod-session-h">
    <p class="eyebrow">Session open now</p>
    <h2 id="pod-session-h">This week's agenda</h2>
    <p>From ${fmtDate(session.starts_at)} to ${fmtDate(session.ends_at)}. ${session.started ? "The round is playing now." : `The round starts at ${fmtDate(session.round_starts_at)} with everyone in the lobby.`}</p>
    <p><span class="focus-tag">★ Focus</span> <strong>${traitName(rubrics, session.focus)}</strong>: the trait most of you are working on.</p>
    ${session.prompt ? html`<${PromptCard} prompt=${session.prompt} headingLevel=${3} />` : null}
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    <p class="hint">Lobby code <strong class="mono">${session.lobby_code}</strong></p>
    <button type="button" class="button primary big" onClick=${join}>Join the session</button>
  </section>`;
}

function CheckIn({ rest, game, checkins, me, onDone }) {
  const [attended, setAttended] = useState(true);
  const [win, setWin] = useState("");
  const [change, setChange] = useState("");
  const [errors, setErrors] = useState({});
  const latest = checkins.latest_session;
  const mine = latest && checkins.items.find((c) => c.user_id === me && c.session_start === latest);
  const submit = async (e) => {
    e.preventDefault();
    try {
      await rest.call("POST", "/api/v1/pods/me/checkins", { attended, win: win.trim(), change: change.trim() });
      game.announce("Checked in. Thank you.");
      onDone();
    } catch (err) {
      setErrors({ form: problem(err), ...err.fields });
    }
  };
  return html`<section class="card" aria-labelledby="pod-checkin-h">
    <h2 id="pod-checkin-h">Check-ins</h2>
    <p class="pod-streak"><strong>${checkins.streak}</strong> ${checkins.streak === 1 ? "session" : "sessions"} in a row kept by the pod</p>
    <p class="hint">A session is kept when at least half the pod checks in as having been there. Next session ${fmtDate(checkins.next_session)}.</p>
    ${!latest ? html`<p>Check in here after your pod's first session.</p>` : null}
    ${latest && mine ? html`<p role="status">You checked in for the session of ${fmtDate(latest)}.</p>` : null}
    ${latest && !mine
      ? html`<form class="pod-checkin-form" onSubmit=${submit} novalidate aria-labelledby="pod-checkin-form-h">
          <h3 id="pod-checkin-form-h">After the session of ${fmtDate(latest)}</h3>
          ${errors.form ? html`<p class="form-error" role="alert">${errors.form}</p>` : null}
          <fieldset class="group">
            <legend>Were you there?</legend>
            <div class="field check">
              <input type="radio" name="attended" id="pod-att-yes" checked=${attended} onChange=${() => setAttended(true)} />
              <label for="pod-att-yes">Yes, I was there</label>
            </div>
            <div class="field check">
              <input type="radio" name="attended" id="pod-att-no" checked=${!attended} onChange=${() => setAttended(false)} />
              <label for="pod-att-no">No, I missed it</label>
            </div>
          </fieldset>
          <div class=${"field" + (errors.win ? " has-error" : "")}>
            <label for="pod-win">One win</label>
            <textarea id="pod-win" rows="2" maxlength="300" value=${win} onInput=${(e) => setWin(e.currentTarget.value)}></textarea>
            ${errors.win ? html`<p class="error">${errors.win}</p>` : null}
          </div>
          <div class=${"field" + (errors.change ? " has-error" : "")}>
            <label for="pod-change">One thing to change</label>
            <textarea id="pod-change" rows="2" maxlength="300" value=${change} onInput=${(e) => setChange(e.currentTarget.value)}></textarea>
            ${errors.change ? html`<p class="error">${errors.change}</p>` : null}
          </div>
          <button type="submit" class="button primary">Check in</button>
        </form>`
      : null}
    ${checkins.items.length
      ? html`<h3>Recent check-ins</h3>
          <ul class="pod-checkins">
            ${checkins.items.map(
              (c) => html`<li key=${c.user_id + c.session_start}>
                <strong>${c.display_name}</strong> · ${fmtDate(c.session_start)} · ${c.attended ? "was there" : "missed it"}
                ${c.win ? html`<p>Win: ${c.win}</p>` : null}
                ${c.change ? html`<p>To change: ${c.change}</p>` : null}
              </li>`,
            )}
          </ul>`
      : null}
  </section>`;
}

function Leave({ rest, game, pod, onLeft }) {
  const [reason, setReason] = useState("");
  const [rematch, setRematch] = useState(true);
  const [errors, setErrors] = useState({});
  const submit = async (e) => {
    e.preventDefault();
    if (!reason.trim()) {
      setErrors({ reason: "Say why in a few words (only admins read it)." });
      document.getElementById("pod-reason")?.focus();
      return;
    }
    try {
      const res = await rest.call("POST", "/api/v1/pods/me/leave", { reason: reason.trim(), rematch });
      game.announce(res.pod ? `You left ${pod.name} and joined ${res.pod.name}.` : `You left ${pod.name}.`);
      onLeft();
    } catch (err) {
      setErrors({ form: problem(err), ...err.fields });
    }
  };
  return html`<details class="card pod-leave">
    <summary>Leave this pod</summary>
    <form onSubmit=${submit} novalidate>
      ${errors.form ? html`<p class="form-error" role="alert">${errors.form}</p>` : null}
      <div class=${"field" + (errors.reason ? " has-error" : "")}>
        <label for="pod-reason">Why are you leaving?</label>
        <textarea id="pod-reason" rows="2" maxlength="500" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}
          aria-invalid=${errors.reason ? "true" : undefined} aria-describedby=${errors.reason ? "pod-reason-error" : undefined}></textarea>
        ${errors.reason ? html`<p class="error" id="pod-reason-error">${errors.reason}</p>` : null}
      </div>
      <div class="field check">
        <input type="checkbox" id="pod-rematch" checked=${rematch} onChange=${(e) => setRematch(e.currentTarget.checked)} />
        <label for="pod-rematch">Find me another pod (never with these members again)</label>
      </div>
      <button type="submit" class="button danger">Leave ${pod.name}</button>
    </form>
  </details>`;
}

function MyPod({ rest, game, state, pod, onChanged }) {
  const [session, setSession] = useState(null);
  const [checkins, setCheckins] = useState(null);
  const load = () => {
    rest.call("GET", "/api/v1/pods/me/session").then(setSession, () => setSession({ session: null }));
    rest.call("GET", "/api/v1/pods/me/checkins").then(setCheckins, () => setCheckins(null));
  };
  useEffect(load, [pod.id]);
  const me = state.user && state.user.id;
  return html`<div>
    <section class="card" aria-labelledby="pod-mine-h">
      <p class="eyebrow">Your pod</p>
      <h2 id="pod-mine-h">${pod.name}</h2>
      <p>Meets <strong>${sessionText(pod.session)}</strong>.</p>
      <h3>Members</h3>
      <ul class="pod-members">
        ${pod.members.map((m) => html`<li key=${m.user_id}>${m.display_name}${m.user_id === me ? html`<span class="hint"> · you</span>` : null}</li>`)}
      </ul>
      <p><a href="/boards">Your pod's leaderboard</a></p>
    </section>
    ${session && session.session ? html`<${Agenda} session=${session.session} rubrics=${state.rubrics} game=${game} />` : null}
    ${checkins ? html`<${CheckIn} rest=${rest} game=${game} checkins=${checkins} me=${me} onDone=${load} />` : null}
    <${Leave} rest=${rest} game=${game} pod=${pod} onLeft=${onChanged} />
  </div>`;
}

export function Pods({ state, rest, game }) {
  const [profile, setProfile] = useState(undefined); // undefined: loading; null: none yet
  const [placed, setPlaced] = useState(null);
  const [error, setError] = useState("");
  const [editing, setEditing] = useState(false);
  const load = () => {
    rest.call("GET", "/api/v1/pods/me").then(setPlaced, (err) => setError(problem(err)));
  };
  useEffect(() => {
    rest.call("GET", "/api/v1/pods/me/profile").then(setProfile, (err) => (err.status === 404 ? setProfile(null) : setError(problem(err))));
    load();
  }, []);

  const user = state.user;
  if (user && user.guest) {
    return html`<div class="pods"><h1 tabindex="-1">Study pod</h1>
      <section class="card"><p>A study pod is a standing group that meets every week, so it needs an account that lasts. <a href="/me">Create one on Me</a>.</p></section></div>`;
  }
  return html`<div class="pods">
    <h1 tabindex="-1">Study pod</h1>
    <p class="lead">A small group of 3–6 writers at your level who meet once a week for a round together, then check in.</p>
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    ${profile === undefined || !placed ? html`<p class="hint">Loading…</p>` : null}
    ${placed && placed.pod ? html`<${MyPod} rest=${rest} game=${game} state=${state} pod=${placed.pod} onChanged=${load} />` : null}
    ${placed && !placed.pod && profile ? html`<${Finding} rest=${rest} game=${game} placed=${placed} onPlaced=${load} />` : null}
    ${profile !== undefined
      ? html`<section class="card" aria-labelledby="pod-profile-h">
          <h2 id="pod-profile-h">When you are free</h2>
          ${profile && !editing
            ? html`<p>${profile.time_zone.replace(/_/g, " ") + " · "}
                ${profile.windows.map((w) => `${DAYS[w.day]} ${hhmm(w.start)} for ${lengthLabel(w.minutes)}`).join("; ")}
                ${profile.goals.length ? html`<br />Goals: ${profile.goals.map((g) => traitName(state.rubrics, g)).join(", ")}` : null}</p>
                <button type="button" class="button small" onClick=${() => setEditing(true)}>Change</button>`
            : html`<${ProfileForm} rest=${rest} game=${game} profile=${profile} rubrics=${state.rubrics}
                onSaved=${(p) => { setProfile(p); setEditing(false); load(); }} />`}
        </section>`
      : null}
  </div>`;
}

// The application frame: header and navigation, the current screen, the connection
// banner, and the one polite live region every announcement goes through.

import { html, useEffect, useRef } from "./html.js";
import { Notice } from "./ui.js";
import { Home } from "../screens/home.js";
import { Play } from "../screens/play.js";
import { Match } from "../screens/match.js";
import { Me, PastMatch } from "../screens/me.js";
import { Watch } from "../screens/watch.js";
import { Boards } from "../screens/boards.js";
import { Spectate } from "../screens/spectate.js";
import { Replay } from "../screens/replay.js";
import { Join } from "../screens/join.js";
import { Teach } from "../screens/teach.js";
import { ClassPage } from "../screens/class.js";
import { StudentPage } from "../screens/student.js";
import { NewLobby } from "../screens/newlobby.js";
import { Hosting } from "../screens/hosting.js";
import { LobbyResults } from "../screens/lobbyresults.js";
import { SafetyAlerts } from "../screens/live.js";
import { Pods } from "../screens/pods.js";
import { Practice } from "../screens/practice.js";
import { Portfolio } from "../screens/portfolio.js";
import { ReviewQueue } from "../screens/reports.js";
import { Tutor } from "../screens/tutor.js";
import { Escalations } from "../screens/escalations.js";
import { isTeacher } from "./rest.js";
import { Notifications, UnreadBadge, useUnread } from "../screens/notifications.js";

const TITLES = {
  home: "Welcome",
  play: "Play",
  match: "Match",
  me: "Me",
  past: "Past match",
  watch: "Watch",
  boards: "Leaderboards",
  notifications: "Notifications",
  pods: "Study pod",
  practice: "Practice",
  portfolio: "Portfolio",
  reports: "Review queue",
  tutor: "Tutor",
  tutorthread: "Tutor",
  escalations: "Questions for you",
  spectate: "Watching",
  replay: "Replay",
  join: "Class lobby",
  teach: "Teach",
  class: "Class",
  student: "Student",
  newlobby: "New lobby",
  hosting: "Lobby",
  lobbyresults: "Lobby results",
  notfound: "Not found",
};
const TEACH_ROUTES = new Set(["teach", "class", "student", "newlobby", "hosting", "lobbyresults", "reports", "escalations"]);
const ME_ROUTES = new Set(["me", "past", "portfolio"]);
const PHASE_TITLES = { lobby: "Lobby", write: "Write", feedback: "Feedback", scoring: "Scoring", results: "Results", closed: "Results" };

function focusKey(state) {
  const m = state.match;
  const r = state.route;
  if (r.name !== "match" || !m) return r.path + (state.queue ? ":q" : "");
  const me = (m.seats || []).find((s) => s.you);
  const sent = Object.values(state.reviews || {}).filter((x) => x.status === "sent").length;
  return [r.path, m.match_id, m.phase, me && me.ready, (m.assignments || []).length, sent, !!m.results].join(":");
}

function NetBanner({ net, match, game }) {
  if (!net || net.status === "online" || net.status === "stopped") return null;
  if (net.status === "replaced") {
    return html`<div class="net-banner"><p>This game is open in another tab or window.</p>
      <button type="button" class="button small" onClick=${() => game.useHere()}>Use it here</button></div>`;
  }
  if (!net.wasOnline && net.status === "connecting") return null;
  return html`<div class="net-banner offline"><p><span aria-hidden="true">⚠ </span>
    ${match && match.phase === "write" ? "Offline — your writing is kept on this device. Reconnecting…" : "Offline. Reconnecting…"}</p></div>`;
}

function Live({ announcement }) {
  return html`<div class="sr-only" role="status" aria-live="polite" aria-atomic="true">${announcement ? announcement.text : ""}</div>`;
}

export function App({ state, game, rest }) {
  const { route, user, match } = state;
  const mainRef = useRef(null);
  const key = focusKey(state);
  const first = useRef(true);
  useUnread(user, game, rest); // the header's unread count (screens/notifications.js)

  useEffect(() => {
    const title = route.name === "match" && match ? PHASE_TITLES[match.phase] || "Match" : TITLES[route.name];
    document.title = `${title} — Quill Arena`;
  });
  useEffect(() => {
    if (first.current) {
      first.current = false;
      if (route.name === "home") return; // a fresh visit starts at the top of the page
    }
    const main = mainRef.current;
    if (!main) return;
    const target = main.querySelector("[data-autofocus]") || main.querySelector("h1") || main;
    if (target && document.activeElement !== target) target.focus({ preventScroll: false });
  }, [key]);
  useEffect(() => {
    if (state.notice) game.announce(state.notice.text);
  }, [state.notice && state.notice.text]);

  let screen;
  switch (route.name) {
    case "home":
      screen = html`<${Home} rest=${rest} game=${game} />`;
      break;
    case "play":
      screen = html`<${Play} state=${state} game=${game} />`;
      break;
    case "match":
      screen = html`<${Match} state=${state} game=${game} />`;
      break;
    case "me":
      screen = html`<${Me} state=${state} rest=${rest} game=${game} />`;
      break;
    case "notifications":
      screen = html`<${Notifications} state=${state} rest=${rest} game=${game} />`;
      break;
    case "boards":
      screen = html`<${Boards} rest=${rest} />`;
      break;
    case "pods":
      screen = html`<${Pods} state=${state} rest=${rest} game=${game} />`;
      break;
    case "practice":
      screen = html`<${Practice} state=${state} rest=${rest} game=${game} />`;
      break;
    case "portfolio":
      screen = html`<${Portfolio} state=${state} rest=${rest} game=${game} />`;
      break;
    case "reports":
      screen = html`<${ReviewQueue} state=${state} rest=${rest} game=${game} />`;
      break;
    case "tutor":
    case "tutorthread":
      screen = html`<${Tutor} state=${state} rest=${rest} game=${game} threadId=${route.params[0]} />`;
      break;
    case "escalations":
      screen = html`<${Escalations} state=${state} rest=${rest} game=${game} />`;
      break;
    case "watch":
      screen = html`<${Watch} state=${state} rest=${rest} game=${game} />`;
      break;
    case "spectate":
      screen = html`<${Spectate} state=${state} game=${game} matchId=${route.params[0]} />`;
      break;
    case "replay":
      screen = html`<${Replay} state=${state} rest=${rest} game=${game} matchId=${route.params[0]} />`;
      break;
    case "past":
      screen = html`<${PastMatch} state=${state} rest=${rest} game=${game} matchId=${route.params[0]} />`;
      break;
    case "join":
      screen = html`<${Join} state=${state} game=${game} />`;
      break;
    case "teach":
      screen = html`<${Teach} state=${state} rest=${rest} game=${game} />`;
      break;
    case "class":
      screen = html`<${ClassPage} state=${state} rest=${rest} game=${game} classId=${route.params[0]} />`;
      break;
    case "student":
      screen = html`<${StudentPage} state=${state} rest=${rest} game=${game} userId=${route.params[0]} />`;
      break;
    case "newlobby":
      screen = html`<${NewLobby} state=${state} rest=${rest} game=${game} />`;
      break;
    case "hosting":
      screen = html`<${Hosting} state=${state} rest=${rest} game=${game} lobbyId=${route.params[0]} />`;
      break;
    case "lobbyresults":
      screen = html`<${LobbyResults} state=${state} rest=${rest} game=${game} lobbyId=${route.params[0]} />`;
      break;
    default:
      screen = html`<div class="card"><h1 tabindex="-1">Not found</h1><p>There is no page here.</p><a href="/">Home</a></div>`;
  }
  // A teacher reading a student's portfolio (/portfolio?user=…) is in Teach, not in Me.
  const othersPortfolio = route.name === "portfolio" && !!route.query && route.query.has("user");
  const section = othersPortfolio ? "teach" : ME_ROUTES.has(route.name) ? "me" : TEACH_ROUTES.has(route.name) ? "teach" : route.name;
  const inMatch = match && !["results", "closed"].includes(match.phase) && route.name !== "match";
  const writing = route.name === "match" && match && match.phase === "write";

  return html`<div class=${"app" + (writing ? " is-writing" : "")}>
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href=${user ? "/play" : "/"}><img src="/app/icon.svg" alt="" width="28" height="28" /> Quill Arena</a>
      ${user
        ? html`<nav aria-label="Main">
            <ul>
              <li><a href="/play" aria-current=${route.name === "play" ? "page" : undefined}>Play</a></li>
              <li><a href="/practice" aria-current=${route.name === "practice" ? "page" : undefined}>Practice</a></li>
              <li><a href="/me" aria-current=${section === "me" ? "page" : undefined}>Me</a></li>
              <li><a href="/pods" aria-current=${route.name === "pods" ? "page" : undefined}>Pod</a></li>
              <li><a href="/tutor" aria-current=${["tutor", "tutorthread"].includes(route.name) ? "page" : undefined}>Tutor</a></li>
              <li><a href="/boards" aria-current=${route.name === "boards" ? "page" : undefined}>Boards</a></li>
              <li><a href="/watch" aria-current=${route.name === "watch" || route.name === "spectate" ? "page" : undefined}>Watch</a></li>
              ${isTeacher(user)
                ? html`<li><a href="/teach" aria-current=${section === "teach" ? "page" : undefined}>Teach</a></li>`
                : null}
              <li><a href="/notifications" class="nav-notes" aria-current=${route.name === "notifications" ? "page" : undefined}><svg class="bell" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"><path d="M12 3a6 6 0 0 0-6 6v3.6L4.3 16h15.4L18 12.6V9a6 6 0 0 0-6-6Zm-2.2 15a2.2 2.2 0 0 0 4.4 0Z"></path></svg><span class="sr-only">Notifications</span><${UnreadBadge} count=${state.unread} /></a></li>
            </ul>
          </nav>
          <div class="account">
            <span class="who">${user.display_name}${user.guest ? " (guest)" : ""}</span>
            <button type="button" class="button small" onClick=${() => game.signOut()}>Sign out</button>
          </div>`
        : null}
    </header>
    <${NetBanner} net=${state.net} match=${match} game=${game} />
    ${inMatch ? html`<div class="net-banner"><p>You are in a match.</p><a class="button small" href="/match">Return to match</a></div>` : null}
    <${SafetyAlerts} watch=${state.watch} game=${game} route=${route} />
    <main id="main" ref=${mainRef} tabindex="-1">
      <${Notice} notice=${state.notice} onClose=${() => game.clearNotice()} />
      ${screen}
    </main>
    <footer class="foot"><p>Quill Arena · writing is better with readers</p></footer>
    <${Live} announcement=${state.announcement} />
  </div>`;
}

// Boot: the store, REST (tokens), the game (socket), the router, and the first render.

import { html, render } from "./html.js";
import { createStore } from "./store.js";
import { Rest } from "./rest.js";
import { Game } from "./game.js";
import { createRouter } from "./router.js";
import { App } from "./app.js";
import { isTeacher } from "./rest.js";

const store = createStore({
  route: { name: "home", path: "/", params: [] },
  user: null,
  net: { status: "stopped" },
  rubrics: null,
  queue: null,
  pending: null,
  notice: null,
  match: null,
  draft: { text: "", status: "saved", words: 0 },
  reviews: {},
  readySending: false,
  limits: null,
  announcement: null,
  lobby: null, // a student's class lobby (lobby.state + the teacher's notices)
  watch: null, // the lobby a teacher watches (roster, round, live view, flags)
});

let game = null;
const rest = new Rest({
  onAuthChange: (user) => {
    store.set({ user });
    if (!user && game) game.signedOut(); // signed out here, in another tab, or revoked
  },
});

const SIGNED_OUT_OK = new Set(["home", "notfound"]);
const TEACHERS_ONLY = new Set(["teach", "class", "newlobby", "hosting", "lobbyresults"]);

function guard(route) {
  if (!rest.signedIn && !SIGNED_OUT_OK.has(route.name)) return "/";
  if (rest.signedIn && route.name === "home") return store.get().match ? "/match" : "/play";
  if (route.name === "match" && !store.get().match) return "/play";
  if (TEACHERS_ONLY.has(route.name) && !isTeacher(rest.user)) return "/play";
  return null;
}

const router = createRouter((route) => {
  const redirect = guard(route);
  if (redirect && redirect !== route.path) {
    router.go(redirect, { replace: true });
    return;
  }
  store.set({ route });
});

game = new Game({ store, rest, router });

store.set({ user: rest.user });
fetch("/app/rubrics.json")
  .then((r) => r.json())
  .then((rubrics) => store.set({ rubrics }))
  .catch(() => {});

const root = document.getElementById("root");
// Render from state, once per burst of changes (never re-entrantly from inside a render).
let queued = false;
const draw = () => {
  queued = false;
  render(html`<${App} state=${store.get()} game=${game} rest=${rest} />`, root);
};
store.subscribe(() => {
  if (queued) return;
  queued = true;
  queueMicrotask(draw);
});
router.go(location.pathname + location.search, { replace: true });
draw();
if (rest.signedIn) game.start();

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

// Single-page routing with real paths (the server answers index.html for each of them).

const ROUTES = [
  ["home", /^\/$/],
  ["play", /^\/play$/],
  ["match", /^\/match$/],
  ["me", /^\/me$/],
  ["watch", /^\/watch$/],
  ["boards", /^\/boards$/],
  ["notifications", /^\/notifications$/],
  ["spectate", /^\/watch\/([0-9a-fA-F-]{36})$/],
  ["replay", /^\/replays\/([0-9a-fA-F-]{36})$/],
  ["past", /^\/me\/matches\/([0-9a-fA-F-]{36})$/],
  ["join", /^\/join$/],
  ["teach", /^\/teach$/],
  ["class", /^\/teach\/classes\/([0-9a-fA-F-]{36})$/],
  ["student", /^\/teach\/students\/([0-9a-fA-F-]{36})$/],
  ["newlobby", /^\/teach\/new-lobby$/],
  ["hosting", /^\/teach\/lobbies\/([0-9a-fA-F-]{36})$/],
  ["lobbyresults", /^\/teach\/lobbies\/([0-9a-fA-F-]{36})\/results$/],
  ["pods", /^\/pods$/],
  ["practice", /^\/practice$/],
  ["portfolio", /^\/portfolio$/],
  ["reports", /^\/teach\/reports$/],
  ["tutor", /^\/tutor$/],
  ["tutorthread", /^\/tutor\/([0-9a-fA-F-]{36})$/],
  ["escalations", /^\/teach\/questions$/],
];

export function parse(full) {
  const [path, search = ""] = full.split("?");
  const query = new URLSearchParams(search);
  for (const [name, re] of ROUTES) {
    const m = re.exec(path);
    if (m) return { name, path, params: m.slice(1), query };
  }
  return { name: "notfound", path, params: [], query };
}

export function createRouter(onRoute) {
  const here = () => location.pathname + location.search;
  const go = (path, { replace = false } = {}) => {
    if (path !== here()) {
      if (replace) history.replaceState(null, "", path);
      else history.pushState(null, "", path);
    }
    onRoute(parse(here()));
  };
  window.addEventListener("popstate", () => onRoute(parse(here())));
  // Same-origin links inside the app are routed here instead of reloading the page.
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest && e.target.closest("a[href]");
    if (!a || a.target || a.hasAttribute("download")) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/prompts/")) return;
    e.preventDefault();
    go(url.pathname + url.search);
  });
  return { go, current: () => parse(here()) };
}

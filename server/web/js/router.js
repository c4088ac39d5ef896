// Single-page routing with real paths (the server answers index.html for each of them).

const ROUTES = [
  ["home", /^\/$/],
  ["play", /^\/play$/],
  ["match", /^\/match$/],
  ["me", /^\/me$/],
  ["past", /^\/me\/matches\/([0-9a-fA-F-]{36})$/],
];

export function parse(path) {
  for (const [name, re] of ROUTES) {
    const m = re.exec(path);
    if (m) return { name, path, params: m.slice(1) };
  }
  return { name: "notfound", path, params: [] };
}

export function createRouter(onRoute) {
  const go = (path, { replace = false } = {}) => {
    if (path !== location.pathname) {
      if (replace) history.replaceState(null, "", path);
      else history.pushState(null, "", path);
    }
    onRoute(parse(location.pathname));
  };
  window.addEventListener("popstate", () => onRoute(parse(location.pathname)));
  // Same-origin links inside the app are routed here instead of reloading the page.
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest && e.target.closest("a[href]");
    if (!a || a.target || a.hasAttribute("download")) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/prompts/")) return;
    e.preventDefault();
    go(url.pathname);
  });
  return { go, current: () => parse(location.pathname) };
}

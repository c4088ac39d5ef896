// The service worker: keeps the application shell (every file of the client) and the
// prompt images, so that a reload without network still opens the editor with the
// draft kept in localStorage.  The server fills in SHELL and VERSION (server/webapp.py).
const VERSION = "__VERSION__";
const SHELL = "__SHELL__";
const SHELL_CACHE = `quill-shell-${VERSION}`;
const IMAGE_CACHE = "quill-prompts-v1";
// Every screen of the client (written in by the server from server/webapp.py SCREENS):
// offline, each opens the shell, which says it is offline.
const SCREENS = new RegExp("__SCREENS__");

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("quill-shell-") && k !== SHELL_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Shell: the network first (always the newest release), the cache when offline.
async function shell(request, key) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const fresh = await fetch(request);
    if (fresh.ok) cache.put(key, fresh.clone());
    return fresh;
  } catch {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw new Error("offline and not cached");
  }
}

// Prompt images never change under the same name: the cache first.
async function image(request) {
  const cache = await caches.open(IMAGE_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const fresh = await fetch(request);
  if (fresh.ok) cache.put(request, fresh.clone());
  return fresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/prompts/")) {
    event.respondWith(image(request));
  } else if (request.mode === "navigate" && SCREENS.test(url.pathname)) {
    event.respondWith(shell(request, "/"));
  } else if (url.pathname.startsWith("/app/")) {
    event.respondWith(shell(request, url.pathname));
  }
});

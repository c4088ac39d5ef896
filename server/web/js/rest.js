// The companion REST API (/api/v1, docs/api.md) and the tokens: the only module that
// holds them.  The access token is refreshed a minute before it expires, and once more
// when a call is answered 401 token_expired; refresh tokens are single-use, so one
// refresh at a time (and a newer pair written by another tab is adopted, not reused).

import { local } from "./store.js";

const KEY = "auth";
const EARLY_MS = 60_000; // refresh this long before the access token expires (at most)

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? "network" : "http_" + status);
    this.details = e.details || {};
    this.fields = this.details.fields || {};
  }
}

export class Rest {
  constructor({ onAuthChange } = {}) {
    this.onAuthChange = onAuthChange || (() => {});
    this.auth = local.get(KEY); // {access_token, refresh_token, expires_at, user}
    this._refreshing = null;
    this._timer = null;
    this._schedule();
    window.addEventListener("storage", (e) => {
      if (e.key === "quill." + KEY) {
        this.auth = local.get(KEY);
        this._schedule();
        this.onAuthChange(this.user);
      }
    });
  }

  get user() {
    return this.auth ? this.auth.user : null;
  }

  get signedIn() {
    return !!this.auth;
  }

  _store(body) {
    this.auth = {
      access_token: body.access_token,
      refresh_token: body.refresh_token,
      expires_at: Date.now() + body.expires_in * 1000,
      lifetime_ms: body.expires_in * 1000,
      user: body.user,
    };
    local.set(KEY, this.auth);
    this._schedule();
    this.onAuthChange(this.user);
  }

  _forget() {
    this.auth = null;
    local.remove(KEY);
    clearTimeout(this._timer);
    this.onAuthChange(null);
  }

  /** How long before expiry to refresh: a minute, or a quarter of a short lifetime. */
  get _early() {
    const lifetime = (this.auth && this.auth.lifetime_ms) || 15 * 60_000;
    return Math.min(EARLY_MS, lifetime / 4);
  }

  _schedule() {
    clearTimeout(this._timer);
    if (!this.auth) return;
    const wait = Math.max(1000, this.auth.expires_at - Date.now() - this._early);
    this._timer = setTimeout(() => this.refresh().catch(() => {}), wait);
  }

  /** A usable access token (refreshed first when it is about to expire). */
  async accessToken() {
    if (!this.auth) throw new ApiError(401, { error: { code: "missing_token" } });
    if (this.auth.expires_at - Date.now() < this._early / 2) {
      try {
        await this.refresh();
      } catch (err) {
        if (err.code === "network") return this.auth && this.auth.access_token;
        throw err;
      }
    }
    return this.auth.access_token;
  }

  refresh() {
    if (this._refreshing) return this._refreshing;
    const held = this.auth;
    this._refreshing = (async () => {
      const stored = local.get(KEY);
      if (stored && held && stored.refresh_token !== held.refresh_token) {
        this.auth = stored; // another tab refreshed already
        this._schedule();
        return;
      }
      if (!held) throw new ApiError(401, { error: { code: "missing_token" } });
      try {
        const body = await this._fetch("POST", "/api/v1/auth/refresh", {
          body: { refresh_token: held.refresh_token },
        });
        this._store(body);
      } catch (err) {
        if (err.status === 401) this._forget();
        throw err;
      }
    })().finally(() => {
      this._refreshing = null;
    });
    return this._refreshing;
  }

  async _fetch(method, path, { body, token, blob = false, accept } = {}) {
    const headers = { Accept: accept || (blob ? "text/html" : "application/json") };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    let resp;
    try {
      resp = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, { error: { code: "network", message: "No connection to the server." } });
    }
    if (resp.status === 204) return null;
    if (blob && resp.ok) return resp.blob();
    let data = null;
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
    if (!resp.ok) throw new ApiError(resp.status, data);
    return data;
  }

  /** An authenticated call; refreshes and retries once on 401 token_expired. */
  async call(method, path, body, { blob = false, accept } = {}) {
    const token = await this.accessToken();
    try {
      return await this._fetch(method, path, { body, token, blob, accept });
    } catch (err) {
      if (err.status === 401 && err.code === "token_expired") {
        await this.refresh();
        return this._fetch(method, path, { body, token: this.auth.access_token, blob, accept });
      }
      if (err.status === 401 && ["session_revoked", "invalid_token"].includes(err.code)) {
        this._forget();
      }
      throw err;
    }
  }

  // --- auth ---------------------------------------------------------------------------

  async guest() {
    this._store(await this._fetch("POST", "/api/v1/auth/guest", { body: {} }));
    return this.user;
  }

  async login(handle, password) {
    this._store(await this._fetch("POST", "/api/v1/auth/login", { body: { handle, password } }));
    return this.user;
  }

  async register(handle, password, displayName) {
    const body = { handle, password };
    if (displayName) body.display_name = displayName;
    this._store(await this._fetch("POST", "/api/v1/auth/register", { body }));
    return this.user;
  }

  /** A guest becomes an account with a handle; same user id, history kept. */
  async upgrade(handle, password) {
    this._store(await this.call("POST", "/api/v1/auth/upgrade", { handle, password }));
    return this.user;
  }

  /** A student of a class: the username and sign-in code on their card. */
  async studentLogin(username, code) {
    this._store(await this._fetch("POST", "/api/v1/auth/student", { body: { username, code } }));
    return this.user;
  }

  async logout() {
    try {
      if (this.auth) await this.call("POST", "/api/v1/auth/logout");
    } finally {
      this._forget();
    }
  }

  async me() {
    const user = await this.call("GET", "/api/v1/auth/me");
    if (this.auth) {
      this.auth = { ...this.auth, user };
      local.set(KEY, this.auth);
      this.onAuthChange(user);
    }
    return user;
  }

  // --- me -----------------------------------------------------------------------------

  myMatches(cursor) {
    const q = new URLSearchParams({ limit: "20" });
    if (cursor) q.set("cursor", cursor);
    return this.call("GET", `/api/v1/me/matches?${q}`);
  }

  myMatch(matchId) {
    return this.call("GET", `/api/v1/me/matches/${encodeURIComponent(matchId)}`);
  }

  // --- watching (docs/replays.md; the live list) ---------------------------------------

  replay(matchId) {
    return this.call("GET", `/api/v1/replays/${enc(matchId)}`);
  }

  liveMatches(cursor) {
    const q = new URLSearchParams({ limit: "20" });
    if (cursor) q.set("cursor", cursor);
    return this.call("GET", `/api/v1/matches/live?${q}`);
  }

  // --- classes (docs/classes.md) ------------------------------------------------------

  classes() {
    return this.call("GET", "/api/v1/classes");
  }

  createClass(body) {
    return this.call("POST", "/api/v1/classes", body);
  }

  updateClass(classId, patch) {
    return this.call("PATCH", `/api/v1/classes/${enc(classId)}`, patch);
  }

  roster(classId) {
    return this.call("GET", `/api/v1/classes/${enc(classId)}/students`);
  }

  addStudent(classId, body) {
    return this.call("POST", `/api/v1/classes/${enc(classId)}/students`, body);
  }

  importStudents(classId, csv, dryRun) {
    return this.call("POST", `/api/v1/classes/${enc(classId)}/students/import`, { csv, dry_run: dryRun });
  }

  updateStudent(classId, studentId, patch) {
    return this.call("PATCH", `/api/v1/classes/${enc(classId)}/students/${enc(studentId)}`, patch);
  }

  removeStudent(classId, studentId) {
    return this.call("DELETE", `/api/v1/classes/${enc(classId)}/students/${enc(studentId)}`);
  }

  resetCode(classId, studentId) {
    return this.call("POST", `/api/v1/classes/${enc(classId)}/students/${enc(studentId)}/code`);
  }

  /** The server's printable sign-in cards (roster.html) for a sheet, as a Blob. */
  rosterSheet(classId, sheet) {
    return this.call("POST", `/api/v1/classes/${enc(classId)}/roster.html`, sheet, { blob: true });
  }

  // --- lobbies (docs/lobbies.md) ------------------------------------------------------

  lobbies() {
    return this.call("GET", "/api/v1/lobbies");
  }

  createLobby(body) {
    return this.call("POST", "/api/v1/lobbies", body);
  }

  lobby(lobbyId) {
    return this.call("GET", `/api/v1/lobbies/${enc(lobbyId)}`);
  }

  closeLobby(lobbyId) {
    return this.call("POST", `/api/v1/lobbies/${enc(lobbyId)}/close`);
  }

  /** Every round of the lobby: each match's seats, pieces, scores, reviews and flags. */
  lobbyResults(lobbyId) {
    return this.call("GET", `/api/v1/lobbies/${enc(lobbyId)}/results`);
  }

  /** A teacher's override of a piece's score: `{reason, traits?, overall?}` → `{override, match}`. */
  overrideScore(lobbyId, matchId, playerId, body) {
    return this.call("PUT", `/api/v1/lobbies/${enc(lobbyId)}/matches/${enc(matchId)}/pieces/${enc(playerId)}/score`, body);
  }

  /** The lobby's results.csv as a Blob (the route needs the token: no plain link). */
  resultsCsv(lobbyId) {
    return this.call("GET", `/api/v1/lobbies/${enc(lobbyId)}/results.csv`, undefined, { blob: true, accept: "text/csv" });
  }
}

const enc = encodeURIComponent;

/** Teachers and admins see the Teach screens. */
export function isTeacher(user) {
  return !!user && (user.role === "teacher" || user.role === "admin");
}

/** The sign-in alphabet (docs/classes.md): no 0/O, 1/I/L, which look alike on paper. */
export const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/** A typed code without case, spaces or dashes; and what is wrong with it, if anything. */
export function normalizeCode(typed) {
  return (typed || "").toUpperCase().replace(/[\s\-‐‑–—_.]/g, "");
}

export function codeProblem(typed, length) {
  const c = normalizeCode(typed);
  if (!c) return "Type the code.";
  const lookAlikes = [...new Set([...c].filter((ch) => "01OIL".includes(ch)))];
  if (lookAlikes.length) {
    return `Codes never hold ${lookAlikes.map((x) => `“${x}”`).join(" or ")}: they have no 0, O, 1, I or L, which look alike. Did you mean ${lookAlikes.map((x) => (x === "0" || x === "O" ? "Q or D" : "7 or J")).join(", ")}? Check the letters on the card or the board.`;
  }
  const bad = [...new Set([...c].filter((ch) => !CODE_ALPHABET.includes(ch)))];
  if (bad.length) return `A code holds only letters and digits (not ${bad.map((x) => `“${x}”`).join(", ")}).`;
  if (length && c.length !== length) return `A code has ${length} letters and digits (this has ${c.length}).`;
  return "";
}

/** The account rules as docs/api.md states them, checked before a form is sent. */
export const RULES = {
  handle: "3–24 letters, digits, _ . or -, starting with a letter or digit.",
  password: "8–128 characters, not only spaces, and not the same as your handle.",
};

export function checkHandle(handle) {
  if (!handle) return "Enter a handle.";
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{2,23}$/.test(handle)) return RULES.handle;
  return "";
}

export function checkPassword(password, handle) {
  if (!password) return "Enter a password.";
  if (password.length < 8 || password.length > 128) return "Use 8–128 characters.";
  if (!password.trim()) return "A password cannot be only spaces.";
  if (handle && password.toLowerCase() === handle.toLowerCase()) {
    return "Your password cannot be your handle.";
  }
  return "";
}

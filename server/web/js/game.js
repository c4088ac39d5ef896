// The game controller: turns server events into app state (the match as the server
// last described it, plus the local draft) and the player's intents into messages.
// Screens read the store and call these methods; only protocol.js touches the socket.

import { GameSocket, DraftSync, defaultUrl } from "./protocol.js";
import { local } from "./store.js";
import { wordCount } from "./textops.js";
import { Lobbies } from "./lobbies.js";
import { spectateApply, spectateView } from "./replay.js";
import { onNotification } from "../screens/notifications.js";

const FINAL = new Set(["results", "closed"]);
const THRESHOLDS = [60, 30, 10];
const ABORTS = {
  not_enough_players: "Not enough players came, so the match was called off.",
  no_players: "The match ended because no player was left in it.",
  aborted: "The match was stopped.",
  internal_error: "The match stopped after a problem on the server. Sorry!",
};

export function remainingMs(match, now = performance.now()) {
  if (!match || match.remaining_ms == null) return null;
  if (match.paused) return match.remaining_ms;
  return Math.max(0, match.remaining_ms - (now - match.clockAt));
}

export function traitName(rubrics, trait) {
  if (rubrics && rubrics[trait]) return rubrics[trait].name;
  return (trait || "").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function spoken(seconds) {
  if (seconds >= 120) return `${Math.round(seconds / 60)} minutes`;
  if (seconds === 60) return "1 minute";
  return `${seconds} seconds`;
}

export class Game {
  constructor({ store, rest, router }) {
    this.store = store;
    this.rest = rest;
    this.router = router;
    this.socket = new GameSocket({
      url: local.get("node_url") || defaultUrl(),
      token: () => this.rest.accessToken(),
      onEvent: (e) => this._event(e),
      onStatus: (s, info) => this._status(s, info),
      onHandshakeFailed: () => this._checkAuth(),
    });
    this.draft = new DraftSync(this.socket, {
      onChange: (d) => this.store.set({ draft: { ...d, words: wordCount(d.text) } }),
    });
    this.lobbies = new Lobbies(this);
    this._lastAnnounced = null;
    this._clock = setInterval(() => this._tick(), 250);
    this._restore();
  }

  get match() {
    return this.store.get().match;
  }

  // --- life ---------------------------------------------------------------------------

  start() {
    this.socket.start();
  }

  stop() {
    this.socket.stop();
  }

  announce(text) {
    const prev = this.store.get().announcement;
    this.store.set({ announcement: { text, n: (prev ? prev.n : 0) + 1 } });
  }

  /** After a reload (even offline): draw the last known match with the local draft. */
  _restore() {
    const saved = local.get("match");
    if (!saved || !saved.match || saved.match.phase === "closed") return;
    const m = saved.match;
    const elapsed = Date.now() - saved.savedAt;
    const restored = {
      ...m,
      remaining_ms: m.remaining_ms == null ? null : Math.max(0, m.remaining_ms - (m.paused ? 0 : elapsed)),
      clockAt: performance.now(),
      stale: true,
    };
    this.store.set({ match: restored });
    this.draft.reset(m.match_id);
    if (m.phase === "write" && m.draft && !m.draft.locked) {
      this.draft.started = true;
      this.draft.ackedText = m.draft.text;
    } else if (m.phase !== "write") {
      this.draft.locked = true;
    }
    this.draft.connectionChanged();
  }

  _persist() {
    const m = this.match;
    if (!m) {
      local.remove("match");
      return;
    }
    const { clockAt, stale, ...wire } = m;
    local.set("match", { match: { ...wire, remaining_ms: remainingMs(m) }, savedAt: Date.now() });
  }

  _setMatch(match) {
    this.store.set({ match });
    this._persist();
  }

  // --- socket status ------------------------------------------------------------------

  _status(status, info) {
    const prev = this.store.get().net;
    this.store.set({ net: { status, lagMs: this.socket.lagMs } });
    this.draft.connectionChanged();
    if (status === "online") {
      if (prev && prev.status === "offline" && prev.wasOnline) this.announce("Back online.");
      this.store.set({ net: { status, lagMs: this.socket.lagMs, wasOnline: true }, limits: info.limits });
      this._welcomed(info);
    } else if (status === "offline" && prev && prev.status === "online") {
      this.store.set({ net: { status, wasOnline: true } });
      this.announce("Connection lost. Your writing is kept on this device; reconnecting…");
    } else if (status === "replaced") {
      this.store.set({ notice: { kind: "info", text: "This game is open in another tab or window." } });
    } else if (status === "stopped" && info && info.reason === "signed_out") {
      this.signedOut();
    } else if (prev && prev.wasOnline) {
      this.store.set({ net: { status, wasOnline: true } });
    }
  }

  async _checkAuth() {
    try {
      await this.rest.me();
    } catch (err) {
      if (err.status === 401) this.signedOut();
    }
  }

  _welcomed(welcome) {
    this.lobbies.welcomed();
    this._serverClock = { ms: welcome.server_time, perf: performance.now() };
    const sp = this.store.get().spectate;
    if (sp && (sp.status === "joining" || sp.status === "watching")) {
      // After the socket has settled what it held from before (it refuses every
      // unanswered message that is not resent), so this join's answer finds its sender.
      queueMicrotask(() => this._sendSpectate(sp.matchId));
    }
    const m = this.match;
    const seat = local.get("seat");
    if (welcome.match_id) return; // the server re-attaches the seat: match.state follows
    const queue = this.store.get().queue;
    if (queue && queue.status === "queued") {
      // The dropped socket took us out of the queue (docs/protocol.md): queue again.
      this.store.set({ pending: queue.mode === "ranked" ? "ranked" : "quick" });
    }
    if (seat && (!m || m.match_id === seat.match_id) && !(m && m.phase === "closed")) {
      this._join(seat.seat_token);
      return;
    }
    if (m && !FINAL.has(m.phase)) {
      this._setMatch(null);
      this.draft.reset(null);
      if (this.store.get().route.name === "match") {
        this.store.set({ notice: { kind: "info", text: "That match is over." } });
        this.router.go("/play", { replace: true });
      }
    }
    this._runPending();
  }

  _join(seatToken) {
    this.socket
      .send("match.join", { seat_token: seatToken })
      .catch((err) => {
        if (err.code === "bad_seat" || err.code === "match_closed") {
          local.remove("seat");
          const m = this.match;
          if (m && !FINAL.has(m.phase)) {
            this._setMatch(null);
            this.store.set({ notice: { kind: "info", text: "That match is over." } });
            if (this.store.get().route.name === "match") this.router.go("/play", { replace: true });
          }
        }
      })
      .finally(() => {
          });
  }

  // --- server events --------------------------------------------------------------------

  _event(e) {
    const d = e.d || {};
    const m = this.match;
    if (e.t.startsWith("lobby.")) return this.lobbies.event(e);
    if (e.t.startsWith("spectate.")) return this._spectateEvent(e);
    if (e.t === "notification") return onNotification(this, d); // screens/notifications.js
    switch (e.t) {
      case "queue.status":
        return this._queueStatus(d);
      case "match.state":
        return this._matchState(d);
      case "match.phase": {
        if (!m) return;
        const phaseChanged = m.phase !== d.phase;
        this._setMatch({
          ...m,
          phase: d.phase,
          deadline: d.deadline,
          remaining_ms: d.remaining_ms,
          paused: d.paused,
          reason: d.reason,
          clockAt: performance.now(),
        });
        if (d.phase !== "write" && d.phase !== "lobby") this.draft.lock();
        if (phaseChanged || d.reason === "pieces_ready") this._announcePhase();
        if (d.phase === "closed") this._closed(d.reason);
        return;
      }
      case "match.prompt":
        if (!m) return;
        this._setMatch({ ...m, prompt: d.prompt, draft: m.draft || { seq: 0, text: "", locked: false } });
        this.draft.begin();
        this._announcePhase();
        return;
      case "match.seat": {
        if (!m) return;
        const seats = m.seats.map((s) => (s.alias === d.seat.alias ? { ...d.seat, you: s.you } : s));
        this._setMatch({ ...m, seats });
        return;
      }
      case "match.progress": {
        if (!m) return;
        const seats = m.seats.map((s) => (s.alias in d.words ? { ...s, words: d.words[s.alias] } : s));
        this._setMatch({ ...m, seats });
        return;
      }
      case "draft.snapshot_needed":
        this.draft.snapshotNeeded(d.have_seq);
        return;
      case "review.assignments":
        if (!m) return;
        this._setMatch({ ...m, assignments: d.assignments, focus: d.focus });
        this._syncReviews(d.assignments);
        this._announcePhase();
        return;
      case "match.results":
        if (!m) return;
        this._setMatch({ ...m, results: d });
        return;
      case "match.report":
        if (!m) return;
        this._setMatch({ ...m, report: d });
        this._announceResults();
        return;
      case "error":
        if (d.ref == null && d.code === "internal_error") {
          this.store.set({ notice: { kind: "error", text: "Something went wrong on the server. The game goes on." } });
        }
        return;
      default:
        return;
    }
  }

  _matchState(d) {
    const prev = this.match;
    const fresh = !prev || prev.match_id !== d.match_id;
    if (fresh || this.draft.matchId !== d.match_id) this.draft.reset(d.match_id);
    const match = {
      ...d,
      focus: d.prompt ? d.prompt.focus : prev && !fresh ? prev.focus : null,
      clockAt: performance.now(),
    };
    if (prev && !fresh) {
      match.results = d.results || prev.results;
      match.report = d.report || prev.report;
    }
    this.store.set({ queue: null, pending: null });
    this._setMatch(match);
    if (d.draft) this.draft.rebase(d.draft);
    if (d.phase !== "write" && d.phase !== "lobby") this.draft.lock();
    this._syncReviews(d.assignments || []);
    const route = this.store.get().route.name;
    if (route !== "match" && (fresh || ["home", "play"].includes(route)) && d.phase !== "closed") {
      this.router.go("/match");
    }
    if (fresh || !prev || prev.phase !== d.phase || prev.stale) this._announcePhase();
    if (d.report) this._announceResults();
  }

  _syncReviews(assignments) {
    const reviews = { ...this.store.get().reviews };
    for (const a of assignments) {
      if (a.submitted) reviews[a.assignment_id] = { status: "sent" };
    }
    this.store.set({ reviews });
  }

  _queueStatus(d) {
    if (d.status === "queued") {
      this.store.set({ queue: { status: "queued", mode: d.mode, estimate: d.estimate_seconds, at: performance.now() } });
    } else if (d.status === "matched") {
      this.store.set({ queue: { status: "matched", mode: d.mode } });
      local.set("seat", { match_id: d.match_id, seat_token: d.seat_token, node_url: d.node_url });
      this.announce("Match found. Joining…");
      const target = d.node_url || this.socket.url;
      if (target !== this.socket.url) {
        this.socket.moveTo(target).then(() => this._join(d.seat_token));
      } else {
        this._join(d.seat_token);
      }
    } else if (d.status === "expired") {
      this.store.set({ queue: null, notice: { kind: "info", text: "Your place in the queue ran out. Try again?" } });
    } else {
      this.store.set({ queue: null });
    }
  }

  _closed(reason) {
    const m = this.match;
    local.remove("seat");
    if (m) local.remove("draft." + m.match_id);
    if (m && !m.results && ABORTS[reason]) {
      this.store.set({ notice: { kind: "info", text: ABORTS[reason] } });
      this._setMatch(null);
      this.draft.reset(null);
      if (this.store.get().route.name === "match") this.router.go("/play", { replace: true });
    }
    this._runPending();
  }

  // --- spectating (docs/protocol.md "Spectating"; the view is folded in js/replay.js) ----

  /** The server's clock now, in seconds (from `welcome`), or null before the first one. */
  serverNow() {
    const c = this._serverClock;
    return c && c.ms ? (c.ms + performance.now() - c.perf) / 1000 : null;
  }

  _spectateEvent(e) {
    const d = e.d || {};
    const sp = this.store.get().spectate;
    if (!sp || d.match_id !== sp.matchId) return;
    if (e.t === "spectate.state") {
      this.store.set({ spectate: { ...sp, status: "watching", error: null, view: spectateView(d, performance.now()) } });
    } else if (e.t === "spectate.events" && sp.view) {
      this.store.set({ spectate: { ...sp, view: spectateApply(sp.view, d.events) } });
    } else if (e.t === "spectate.left") {
      this.store.set({ spectate: { ...sp, status: "left", reason: d.reason } });
    }
  }

  _sendSpectate(matchId) {
    this.socket.send("spectate.join", { match_id: matchId }).catch((err) => {
      if (err.code === "offline" || err.code === "stopped") return; // sent again once back
      const sp = this.store.get().spectate;
      if (sp && sp.matchId === matchId) this.store.set({ spectate: { ...sp, status: "error", error: err.code } });
    });
  }

  /** Watch a live match on this socket (spectate.join; again after every reconnect). */
  spectate(matchId) {
    this.store.set({ spectate: { matchId, status: "joining", view: null, error: null, reason: null } });
    if (this.socket.status === "stopped") this.socket.start();
    if (this.socket.status === "online") this._sendSpectate(matchId);
  }

  /** Stop watching (leaving the screen): spectate.leave unless the match already let go. */
  unspectate(matchId) {
    const sp = this.store.get().spectate;
    if (!sp || sp.matchId !== matchId) return;
    if ((sp.status === "joining" || sp.status === "watching") && this.socket.status === "online") {
      this.socket.send("spectate.leave").catch(() => {});
    }
    this.store.set({ spectate: null });
  }

  // --- announcements (one polite live region; see app.js) ------------------------------

  /** Say the phase once per change (and once more when its prompt or pieces arrive). */
  _announcePhase() {
    const m = this.match;
    if (!m) return;
    const key = `${m.match_id}:${m.phase}:${m.prompt ? 1 : 0}:${(m.assignments || []).length}`;
    if (key === this._lastAnnounced) return;
    this._lastAnnounced = key;
    const rubrics = this.store.get().rubrics;
    const left = remainingMs(m);
    const time = left == null ? "" : ` You have ${spoken(Math.round(left / 1000))}.`;
    switch (m.phase) {
      case "lobby":
        this.announce("You are in the lobby. Press Ready when you are.");
        break;
      case "write":
        if (m.prompt) {
          this.announce(`Writing has started: ${m.prompt.title}. Focus on ${traitName(rubrics, m.prompt.focus)}.${time}`);
        }
        break;
      case "feedback": {
        const n = (m.assignments || []).length;
        if (n) this.announce(`Time to give feedback: ${n === 1 ? "one piece" : n + " pieces"} to review.${time}`);
        else this.announce("Writing time is over. Getting the pieces ready for feedback…");
        break;
      }
      case "scoring":
        this.announce("Feedback is over. Scoring every piece…");
        break;
      default:
        break;
    }
  }

  _announceResults() {
    const m = this.match;
    if (!m || !m.results || this._resultsAnnounced === m.match_id) return;
    this._resultsAnnounced = m.match_id;
    const row = m.results.ranking.find((r) => r.alias === m.you);
    const n = m.results.ranking.length;
    this.announce(row ? `Results are in. You placed ${row.rank} of ${n}.` : "Results are in.");
  }

  _tick() {
    const m = this.match;
    if (!m || !["write", "feedback"].includes(m.phase) || m.paused) return;
    const left = remainingMs(m);
    if (left == null) return;
    const key = `${m.match_id}:${m.phase}`;
    if (this._thresholdKey !== key) {
      this._thresholdKey = key;
      this._passed = new Set(THRESHOLDS.filter((t) => left <= t * 1000));
    }
    for (const t of THRESHOLDS) {
      if (left <= t * 1000 && !this._passed.has(t)) {
        this._passed.add(t);
        this.announce(`${spoken(t)} left.`);
        if (t === 10 && m.phase === "write") this.draft.flush();
      }
    }
  }

  // --- intents --------------------------------------------------------------------------

  clearNotice() {
    this.store.set({ notice: null });
  }

  _runPending() {
    const pending = this.store.get().pending;
    if (!pending || this.socket.status !== "online") return;
    const m = this.match;
    if (m && m.phase !== "closed") return;
    this.store.set({ pending: null });
    if (pending === "quick") this.quickplay();
    else if (pending === "ranked") this.ranked();
  }

  _busyMatch() {
    const m = this.match;
    return m && m.phase !== "closed" ? m : null;
  }

  quickplay() {
    this._play("match.quickplay", null, "quick");
  }

  ranked() {
    this._play("queue.join", { mode: "ranked" }, "ranked");
  }

  _play(type, d, mode, attempt = 0) {
    clearTimeout(this._retryPlay);
    if (attempt > 0 && !this.store.get().queue) return; // cancelled meanwhile
    this.clearNotice();
    const busy = this._busyMatch();
    if (busy && !FINAL.has(busy.phase)) {
      this.router.go("/match");
      return;
    }
    if (busy) {
      // The results are in: leaving now just detaches (docs/protocol.md), and frees the
      // player for the next match.  Should the server still say already_queued, the
      // request is repeated until the last match lets go (see the catch below).
      this.socket.send("match.leave").catch(() => {});
      local.remove("seat");
    }
    if (this.match) {
      this._setMatch(null);
      this.draft.reset(null);
    }
    if (this.socket.status !== "online") {
      // Not connected yet (or reconnecting): ask as soon as the socket is back.
      this.store.set({ pending: mode, queue: { status: "starting", mode } });
      this.socket.start();
      return;
    }
    this.store.set({ queue: { status: "starting", mode } });
    this.socket.send(type, d).catch((err) => {
      const q = this.store.get().queue;
      if (q && q.status === "matched") return;
      if (err.code === "already_queued" && attempt < 40) {
        // The last match still holds the seat while it closes: ask again shortly.
        this.store.set({ queue: { status: "waiting", mode } });
        this._retryPlay = setTimeout(() => this._play(type, d, mode, attempt + 1), 1500);
        return;
      }
      const text =
        err.code === "unavailable"
          ? mode === "ranked"
            ? "Ranked matchmaking isn't running on this server right now. Try Quick play."
            : "Quick play isn't available on this server right now."
          : err.code === "offline"
            ? "No connection to the server. Try again in a moment."
            : err.message || "That didn't work.";
      this.store.set({ queue: null, notice: { kind: "error", text } });
    });
  }

  cancelQueue() {
    clearTimeout(this._retryPlay);
    const q = this.store.get().queue;
    this.store.set({ pending: null });
    if (!q || q.status === "waiting") {
      this.store.set({ queue: null });
      return;
    }
    this.socket.send("queue.leave").finally(() => this.store.set({ queue: null }));
    this.announce("You left the queue.");
  }

  ready() {
    const m = this.match;
    if (!m || m.phase !== "lobby") return;
    this.store.set({ readySending: true });
    this.socket
      .send("match.ready", null, {
        until: (e) =>
          (e.t === "match.seat" && e.d.seat.alias === m.you && e.d.seat.ready) ||
          e.t === "match.phase" ||
          e.t === "match.state",
      })
      .then(() => this.announce("You are ready. Waiting for the others…"))
      .catch(() => {})
      .finally(() => this.store.set({ readySending: false }));
  }

  edit(text, opts) {
    this.draft.input(text, opts);
  }

  flushDraft() {
    this.draft.flush();
  }

  submitReview(assignmentId, review) {
    const reviews = this.store.get().reviews;
    this.store.set({ reviews: { ...reviews, [assignmentId]: { status: "sending" } } });
    const done = (status, error) =>
      this.store.set({ reviews: { ...this.store.get().reviews, [assignmentId]: { status, error } } });
    return this.socket
      .send("review.submit", { assignment_id: assignmentId, ...review })
      .then(() => {
        done("sent");
        const m = this.match;
        const all = (m && m.assignments) || [];
        const sent = all.filter((a) => this.store.get().reviews[a.assignment_id]?.status === "sent").length;
        this.announce(sent >= all.length ? "All your reviews are sent." : `Review sent: ${sent} of ${all.length}.`);
      })
      .catch((err) => {
        if (err.code === "already_reviewed") done("sent");
        else if (err.code === "deadline_passed" || err.code === "wrong_phase") done("late", "Time ran out before this review arrived.");
        else done("error", err.message || "The review could not be sent.");
      });
  }

  leave() {
    const m = this.match;
    if (!m) return;
    this.socket.send("match.leave").catch(() => {});
    local.remove("seat");
    local.remove("draft." + m.match_id);
    this._setMatch(null);
    this.draft.reset(null);
    this.router.go("/play");
  }

  playAgain() {
    const m = this.match;
    if (m && m.phase === "closed") {
      this._setMatch(null);
      this.draft.reset(null);
    }
    const lobby = this.store.get().lobby;
    if (lobby && lobby.you === "in") {
      this.router.go("/join"); // back to the class lobby for the next round
      this.announce("Back in the lobby. Wait for your teacher to start the next round.");
      return;
    }
    this.router.go("/play");
    this.announce("Choose your next match.");
  }

  /** Signed in (guest, account or upgrade): connect and go and play. */
  signedIn() {
    this.store.set({ user: this.rest.user, notice: null });
    this.socket.start();
    const m = this._busyMatch();
    this.router.go(m ? "/match" : "/play");
  }

  useHere() {
    this.clearNotice();
    this.socket.reconnect();
  }

  async signOut() {
    try {
      await this.rest.logout();
    } catch {
      /* signed out on this device anyway */
    }
    this.signedOut();
    this.announce("You are signed out.");
  }

  /** Forget everything of this player on this device (sign out, or signed out). */
  signedOut() {
    this.socket.stop();
    for (const key of local.keys()) if (key !== "auth") local.remove(key);
    this.draft.reset(null);
    this.lobbies.forget();
    this.store.set({ match: null, queue: null, pending: null, reviews: {}, user: null, notice: null, spectate: null });
    this.router.go("/", { replace: true });
  }
}

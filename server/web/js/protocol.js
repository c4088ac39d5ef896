// The wire protocol (docs/protocol.md, quill.v1.json): the only code that touches the
// WebSocket.  It knows the envelope, the message ids, acks and answers, what to resend
// after a drop, the ping schedule, reconnecting with backoff and jitter, resuming the
// session, following a seat to another node, and the draft's seqs and snapshot repair
// (DraftSync).  Screens never see a socket: they get events and call send().

import { local } from "./store.js";
import { diffOp, cpLength } from "./textops.js";

const SUBPROTOCOL = "quill.v1.json";
const BACKOFF_MIN_MS = 400;
const BACKOFF_MAX_MS = 15_000;

/** Which server event answers (settles) a client message besides `ack` and `error`. */
const ANSWERED_BY = {
  "match.join": ["match.state"],
  "queue.join": ["queue.status"],
  "queue.leave": ["queue.status"],
  "match.quickplay": ["queue.status"],
  "session.resume": ["welcome"],
  ping: ["pong"],
  "lobby.join": ["lobby.state"],
  "lobby.leave": ["lobby.state"],
  "lobby.watch": ["lobby.roster"],
  "spectate.join": ["spectate.state"],
  "spectate.leave": ["spectate.left"],
};

/** Messages the server acknowledges with `ack` (docs/protocol.md). */
const ACKED = new Set([
  "draft.edit",
  "review.submit",
  "lobby.kick",
  "lobby.lock",
  "lobby.message",
  "teacher.start",
  "teacher.pause",
  "teacher.resume",
  "teacher.extend",
]);

/** Messages that are resent after a reconnect while unanswered (others are dropped). */
const RESEND = new Set(["match.join", "match.ready", "review.submit", "queue.join", "queue.leave"]);

/** Refusals of a draft edit after which sending more cannot help. */
const FINAL_REFUSALS = new Set(["deadline_passed", "left_match", "wrong_phase", "not_in_match", "not_seated", "match_closed"]);

export class ProtocolError extends Error {
  constructor(d) {
    super(d.message || d.code);
    this.code = d.code;
    this.path = d.path;
    this.retryAfterMs = d.retry_after_ms;
  }
}

export function defaultUrl() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

/**
 * One logical connection to the game server, across sockets.
 *
 * options: url, token (async () => access token), onEvent(event), onStatus(status, info),
 * onHandshakeFailed() (a socket closed before `welcome`: maybe the token).
 * status: "connecting" | "online" | "offline" | "replaced" | "stopped".
 */
export class GameSocket {
  constructor({ url, token, onEvent, onStatus, onHandshakeFailed }) {
    this.url = url || local.get("node_url") || defaultUrl();
    this.token = token;
    this.onEvent = onEvent;
    this.onStatus = onStatus || (() => {});
    this.onHandshakeFailed = onHandshakeFailed || (async () => {});
    this.ws = null;
    this.status = "stopped";
    this.nextId = 1;
    this.outbox = new Map(); // id -> {t, d, answers, resolve, reject, until}
    this.attempt = 0;
    this.heartbeat = 20;
    this.lagMs = null;
    this.welcome = null;
    this._retry = null;
    this._ping = null;
    this._watch = null;
    this._lastFrame = 0;
    this._waiters = [];
    this._onOnline = () => {
      if (this.status === "offline" || this.status === "connecting") this._reconnectNow();
    };
    this._onOffline = () => {
      if (this.ws) this.ws.close(4000, "offline");
    };
    window.addEventListener("online", this._onOnline);
    window.addEventListener("offline", this._onOffline);
  }

  // --- life ---------------------------------------------------------------------------

  start() {
    if (this.status !== "stopped" && this.status !== "replaced") return;
    this._open();
  }

  stop() {
    this._setStatus("stopped");
    clearTimeout(this._retry);
    this._stopTimers();
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
    for (const entry of this.outbox.values()) entry.reject(new ProtocolError({ code: "stopped" }));
    this.outbox.clear();
  }

  /** Follow a seat to the node at `url` (queue.status matched with another node_url). */
  moveTo(url) {
    if (url === this.url) return Promise.resolve(this.welcome);
    this.url = url;
    local.set("node_url", url);
    clearTimeout(this._retry);
    this.attempt = 0;
    if (this.ws) {
      const old = this.ws;
      this.ws = null;
      old.close(1000, "moving to another node");
    }
    this._open();
    return this.welcomed();
  }

  /** Resolves with the next `welcome` (or at once when this socket has one). */
  welcomed() {
    if (this.status === "online") return Promise.resolve(this.welcome);
    return new Promise((resolve) => this._waiters.push(resolve));
  }

  get sessionToken() {
    return (local.get("sessions") || {})[this.url] || "new";
  }

  set sessionToken(token) {
    const sessions = local.get("sessions") || {};
    sessions[this.url] = token;
    local.set("sessions", sessions);
  }

  forgetSession() {
    const sessions = local.get("sessions") || {};
    delete sessions[this.url];
    local.set("sessions", sessions);
  }

  _setStatus(status, info) {
    this.status = status;
    this.onStatus(status, info);
  }

  async _open() {
    clearTimeout(this._retry);
    this._setStatus("connecting");
    let token;
    try {
      token = await this.token();
    } catch (err) {
      if (err && err.status === 401) {
        this._setStatus("stopped", { reason: "signed_out" });
        return;
      }
      token = null;
    }
    if (this.status !== "connecting") return;
    if (!token || navigator.onLine === false) {
      this._scheduleReconnect();
      return;
    }
    let ws;
    try {
      ws = new WebSocket(`${this.url}?token=${encodeURIComponent(token)}`, SUBPROTOCOL);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    let welcomed = false;
    ws.onopen = () => {
      this._lastFrame = Date.now();
      this._raw({ t: "session.resume", id: this.nextId++, d: { session_token: this.sessionToken } });
    };
    ws.onmessage = (msg) => {
      if (ws !== this.ws) return;
      this._lastFrame = Date.now();
      let event;
      try {
        event = JSON.parse(msg.data);
      } catch {
        return;
      }
      if (event.t === "welcome") welcomed = true;
      this._receive(event);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this._stopTimers();
      if (this.status === "stopped") return;
      if (!welcomed) this.onHandshakeFailed().catch(() => {});
      const reason = e.reason || "";
      if (e.code === 1000 && /replaced|another connection/i.test(reason)) {
        this._setStatus("replaced", { reason });
        return;
      }
      if (e.code === 1008 && /session/i.test(reason)) this.forgetSession();
      this._scheduleReconnect(e.code === 1008 ? 5 : 0);
    };
  }

  _scheduleReconnect(extraSteps = 0) {
    if (this.status === "stopped") return;
    this._setStatus("offline");
    const step = Math.min(this.attempt + extraSteps, 10);
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** step);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter"
    this.attempt++;
    clearTimeout(this._retry);
    this._retry = setTimeout(() => this._open(), delay);
  }

  _reconnectNow() {
    clearTimeout(this._retry);
    this.attempt = 0;
    if (!this.ws) this._open();
  }

  /** Resume now (e.g. the user pressed "Use here" after another tab took over). */
  reconnect() {
    this._reconnectNow();
  }

  _stopTimers() {
    clearInterval(this._ping);
    clearInterval(this._watch);
  }

  _startTimers() {
    this._stopTimers();
    const every = Math.max(1000, (this.heartbeat * 1000) / 2);
    this._ping = setInterval(() => this.ping(), every);
    // No frame for a whole heartbeat and a half (pongs included): the socket is dead.
    this._watch = setInterval(() => {
      if (this.ws && Date.now() - this._lastFrame > this.heartbeat * 1500) {
        this.ws.close(4001, "no answer");
      }
    }, 1000);
  }

  // --- frames -------------------------------------------------------------------------

  _raw(envelope) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(envelope));
    return true;
  }

  /**
   * Send a message; resolves with its answer (`ack`, or the event in ANSWERED_BY, or what
   * `until(event)` accepts), rejects with a ProtocolError.  Unanswered messages in RESEND
   * are sent again after a reconnect; `resend: false` keeps one out of that (drafts).
   */
  send(t, d = null, { until = null, resend = RESEND.has(t) } = {}) {
    const id = this.nextId++;
    const envelope = d === null ? { t, id } : { t, id, d };
    const promise = new Promise((resolve, reject) => {
      this.outbox.set(id, { envelope, answers: ANSWERED_BY[t] || [], resolve, reject, until, resend });
    });
    promise.id = id;
    promise.catch(() => {}); // a caller may ignore the answer
    const answered = ACKED.has(t) || (ANSWERED_BY[t] || []).length > 0 || until !== null;
    if (this.status === "online") {
      this._raw(envelope);
      if (!answered) this._settle(id, true, null); // nothing answers it (match.leave)
    } else if (!resend || !answered) {
      this._settle(id, false, new ProtocolError({ code: "offline", message: "not connected" }));
    }
    return promise;
  }

  ping() {
    if (this.status !== "online") return;
    this._raw({ t: "ping", d: { client_time: Date.now() } });
  }

  _settle(id, ok, value) {
    const entry = this.outbox.get(id);
    if (!entry) return;
    this.outbox.delete(id);
    if (ok) entry.resolve(value);
    else entry.reject(value);
  }

  _receive(event) {
    const d = event.d || {};
    switch (event.t) {
      case "welcome":
        this.welcome = d;
        this.heartbeat = d.heartbeat || 20;
        this.sessionToken = d.session_token;
        this.attempt = 0;
        this._setStatus("online", d);
        this._startTimers();
        for (const resolve of this._waiters.splice(0)) resolve(d);
        for (const [id, entry] of [...this.outbox]) {
          if (entry.resend) this._raw(entry.envelope);
          else this._settle(id, false, new ProtocolError({ code: "offline", message: "connection lost" }));
        }
        break;
      case "pong":
        if (d.client_time) this.lagMs = Date.now() - d.client_time;
        break;
      case "ack":
        this._settle(d.id, true, event);
        break;
      case "error":
        if (d.ref != null) this._settle(d.ref, false, new ProtocolError(d));
        break;
      default:
        for (const [id, entry] of this.outbox) {
          if (entry.answers.includes(event.t) || (entry.until && entry.until(event))) {
            this._settle(id, true, event);
            break;
          }
        }
    }
    this.onEvent(event);
  }
}

/**
 * The seat's draft as the protocol wants it (docs/protocol.md "Drafts"): debounced
 * `draft.edit` ops with code-point positions and consecutive seqs; on
 * `draft.snapshot_needed` (or a resume whose text differs) a whole-text snapshot with a
 * seq above every seq used.  The text is also kept in localStorage on every keystroke.
 *
 * onChange({text, status}) — status: "saved" | "saving" | "offline" | "locked".
 */
const realTimers = {
  now: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (id) => clearTimeout(id),
};

export class DraftSync {
  constructor(
    socket,
    { debounceMs = 400, maxWaitMs = 1000, onChange = () => {}, maxChars = 20000, timers = realTimers } = {},
  ) {
    this.socket = socket;
    this.timers = timers; // {now, set, clear}: injected so a test runs on a fake clock
    this.debounceMs = debounceMs;
    // Typing without a pause still sends at least this often: one edit of a whole
    // sentence would be more than the server's paste_chars and flagged as a paste.
    this.maxWaitMs = maxWaitMs;
    this._dueBy = null;
    this.onChange = onChange;
    this.maxChars = maxChars;
    this.matchId = null;
    this.reset(null);
  }

  reset(matchId) {
    this._cancel();
    this.matchId = matchId;
    const saved = matchId ? local.get("draft." + matchId) : null;
    this.text = saved ? saved.text : "";
    this.seq = saved ? saved.seq : 0; // the highest seq ever used for this seat
    this.sentText = null; // what the server will hold once every sent edit lands (null: unknown)
    this.ackedText = null;
    this.pending = new Map(); // message id -> {seq, text}
    this.locked = false;
    this.started = false;
    this.pasteNext = false;
    this.hasLocal = !!saved;
    this._notify();
  }

  _persist() {
    if (this.matchId) local.set("draft." + this.matchId, { text: this.text, seq: this.seq, at: Date.now() });
  }

  get status() {
    if (this.locked) return "locked";
    if (this.ackedText !== null && this.ackedText === this.text) return "saved";
    if (!this.started && !this.text) return "saved";
    return this.socket.status === "online" ? "saving" : "offline";
  }

  _notify() {
    this.onChange({ text: this.text, status: this.status });
  }

  /** The server's view of the draft (match.state): adopt it, or rebase ours by snapshot. */
  rebase(draft) {
    if (!draft) return;
    this.started = true;
    this.seq = Math.max(this.seq, draft.seq);
    this.pending.clear();
    if (draft.locked) {
      this.locked = true;
      this.text = draft.text;
      this.sentText = this.ackedText = draft.text;
      this._persist();
      this._notify();
      return;
    }
    this.locked = false;
    this.ackedText = draft.text;
    if (!this.hasLocal || this.text === draft.text) {
      this.text = draft.text;
      this.sentText = draft.text;
      this.hasLocal = true;
      this._persist();
      this._notify();
      return;
    }
    this._snapshot(); // ours is newer: typed offline, or not yet acknowledged
  }

  /** The write phase opened (match.prompt) for a seat with no server draft yet. */
  begin() {
    if (this.started) return;
    this.started = true;
    this.sentText = "";
    this.ackedText = "";
    if (this.text) this._schedule(0);
    this._notify();
  }

  lock() {
    this._cancel();
    this.locked = true;
    this._notify();
  }

  /** The editor's whole text after an input event. */
  input(text, { paste = false } = {}) {
    if (this.locked) return;
    this.text = text;
    this.hasLocal = true;
    if (paste) this.pasteNext = true;
    this._persist();
    this._schedule(paste ? 0 : this.debounceMs);
    this._notify();
  }

  /** Send what is waiting now (before a paste, on blur, at a deadline). */
  flush() {
    this._cancel();
    if (this.locked || !this.started || this.socket.status !== "online") return;
    if (this.sentText === null) {
      this._snapshot();
      return;
    }
    const op = diffOp(this.sentText, this.text);
    if (!op) return;
    this.seq += 1;
    const d = { seq: this.seq, ops: [op] };
    if (this.pasteNext) d.paste = true;
    this.pasteNext = false;
    this._send(d, this.text);
  }

  _schedule(ms) {
    const now = this.timers.now();
    if (this._dueBy === null) this._dueBy = now + this.maxWaitMs;
    else ms = Math.min(ms, Math.max(0, this._dueBy - now));
    this.timers.clear(this._timer);
    this._timer = this.timers.set(() => this.flush(), ms);
  }

  _cancel() {
    this.timers.clear(this._timer);
    this._timer = null;
    this._dueBy = null;
  }

  _snapshot() {
    this._cancel();
    if (this.locked || this.socket.status !== "online") return;
    this.seq += 1;
    const d = { seq: this.seq, snapshot: this.text };
    if (this.pasteNext) d.paste = true;
    this.pasteNext = false;
    this._send(d, this.text);
  }

  _send(d, text) {
    this.sentText = text;
    this._persist();
    const promise = this.socket.send("draft.edit", d, { resend: false });
    this.pending.set(promise.id, { seq: d.seq, text });
    promise.then(
      (ack) => this._acked(promise.id, ack.d.seq),
      (err) => this._refused(promise.id, err),
    );
    this._notify();
  }

  _acked(id, heldSeq) {
    const sent = this.pending.get(id);
    this.pending.delete(id);
    if (sent && heldSeq === sent.seq) this.ackedText = sent.text;
    this.seq = Math.max(this.seq, heldSeq);
    for (const [other, p] of this.pending) if (p.seq <= heldSeq) this.pending.delete(other);
    this._persist();
    this._notify();
  }

  _refused(id, err) {
    this.pending.delete(id);
    if (FINAL_REFUSALS.has(err.code)) {
      this.lock(); // a later match.state (resume) rebases and unlocks if writing goes on
      return;
    }
    if (err.code === "offline" || err.code === "stopped") {
      this.sentText = null; // unknown now: the next resume rebases by snapshot
    } else {
      this.sentText = null; // draft_too_long, unavailable...: resync by snapshot later
      if (err.code !== "draft_too_long") this._schedule(Math.max(250, err.retryAfterMs || 0));
    }
    this._notify();
  }

  /** draft.snapshot_needed: the server ignores op edits until a snapshot arrives. */
  snapshotNeeded(haveSeq) {
    this.seq = Math.max(this.seq, haveSeq);
    this.pending.clear();
    this._snapshot();
  }

  /** The socket came back, or went: only the status text changes here. */
  connectionChanged() {
    this._notify();
  }

  get length() {
    return cpLength(this.text);
  }
}

// Private lobbies (docs/lobbies.md) on the game socket, for both sides: a student's lobby
// (lobby.state, lobby.notice, lobby.seat → match.join) and the teacher's watched lobby
// (lobby.roster, lobby.member, lobby.round, lobby.match, lobby.writer, lobby.flag) with
// the teacher's controls.  Part of the controller (game.js owns it): events → state,
// intents → messages; only protocol.js touches the socket.

import { local } from "./store.js";

const GONE = {
  left: "You left the lobby.",
  kicked: "Your teacher took you out of the lobby.",
  banned: "Your teacher took you out of the lobby, and you can't join it again.",
  closed: "Your teacher closed the lobby.",
};
const CHANGES = {
  joined: "joined",
  left: "left",
  kicked: "was removed",
  banned: "was removed and banned",
  connected: "is back online",
  disconnected: "lost their connection",
};
const MAX_NOTICES = 20;

/** The key a flag is known by (the server sends the last 200 again on every watch). */
function flagKey(f) {
  return [f.match_id, f.player_id, f.source, f.phase, f.text].join("\u0000");
}

export class Lobbies {
  constructor(game) {
    this.game = game;
    this.store = game.store;
  }

  get student() {
    return this.store.get().lobby;
  }

  get watching() {
    return this.store.get().watch;
  }

  _setWatch(patch) {
    const w = this.watching;
    if (!w) return;
    this.store.set({ watch: { ...w, ...patch } });
  }

  // --- the socket came (back) ---------------------------------------------------------

  welcomed() {
    const w = this.watching;
    // After the socket has settled what it held from before the reconnect (it refuses
    // every unanswered message that is not resent), so this watch's answer finds it.
    if (w && w.lobbyId) queueMicrotask(() => this._sendWatch(w.lobbyId));
  }

  // --- events -------------------------------------------------------------------------

  event(e) {
    const d = e.d || {};
    switch (e.t) {
      case "lobby.state":
        return this._state(d);
      case "lobby.seat":
        return this._seat(d);
      case "lobby.notice":
        return this._notice(d);
      case "lobby.roster":
        return this._onWatch(d, () => this._setWatch({ lobby: d.lobby, members: d.members, loading: false, error: null }));
      case "lobby.member":
        return this._onWatch(d, () => this._member(d));
      case "lobby.round":
        return this._onWatch(d, () => this._round(d));
      case "lobby.match":
        return this._onWatch(d, () => {
          const w = this.watching;
          this._setWatch({ matches: { ...w.matches, [d.match_id]: { ...d, clockAt: performance.now() } } });
        });
      case "lobby.writer":
        return this._onWatch(d, () => {
          const w = this.watching;
          this._setWatch({ writers: { ...w.writers, [d.player_id]: d } });
        });
      case "lobby.flag":
        return this._onWatch(d, () => this._flag(d));
      default:
        return undefined;
    }
  }

  _onWatch(d, apply) {
    const w = this.watching;
    if (!w || w.lobbyId !== (d.lobby_id || (d.lobby && d.lobby.lobby_id))) return;
    apply();
  }

  _state(d) {
    const prev = this.student;
    const same = prev && prev.lobby.lobby_id === d.lobby.lobby_id;
    this.store.set({ lobby: { ...d, notices: same ? prev.notices : [] } });
    if (d.you !== "in" && (!same || prev.you === "in")) {
      this.game.announce(GONE[d.you] || "You are no longer in the lobby.");
      local.remove("lobby");
    } else if (d.you === "in") {
      local.set("lobby", { lobby_id: d.lobby.lobby_id, code: d.lobby.code });
      if (!same) this.game.announce(`You are in ${d.lobby.name}. Wait for your teacher to start.`);
      else if (prev.lobby.locked !== d.lobby.locked) {
        this.game.announce(d.lobby.locked ? "The lobby is locked: nobody new can join." : "The lobby is open again.");
      }
    }
  }

  _seat(d) {
    local.set("seat", { match_id: d.match_id, seat_token: d.seat_token, node_url: d.node_url });
    this.game.announce("The round is starting. Joining your match…");
    // The seat is always on the lobby's node, which is the node this socket is on.
    this.game._join(d.seat_token);
  }

  _notice(d) {
    const item = { text: d.text, teacher: d.teacher, at: Date.now() };
    const s = this.student;
    if (s && s.lobby.lobby_id === d.lobby_id) {
      this.store.set({ lobby: { ...s, notices: [item, ...s.notices].slice(0, MAX_NOTICES) } });
      this.game.announce(`Message from ${d.teacher}: ${d.text}`);
    }
    const w = this.watching;
    if (w && w.lobbyId === d.lobby_id) {
      this._setWatch({ notices: [item, ...w.notices].slice(0, MAX_NOTICES) });
    }
  }

  _member(d) {
    const w = this.watching;
    const others = (w.members || []).filter((m) => m.player_id !== d.member.player_id);
    const gone = ["left", "kicked", "banned"].includes(d.change);
    const members = gone ? others : [...others, d.member].sort((a, b) => a.name.localeCompare(b.name));
    const lobby = w.lobby ? { ...w.lobby, members: d.members } : w.lobby;
    this._setWatch({ members, lobby });
    this.game.announce(`${d.member.name} ${CHANGES[d.change] || d.change}. ${d.members} in the lobby.`);
  }

  _round(d) {
    const w = this.watching;
    const fresh = !w.round || w.round.round !== d.round;
    this._setWatch({
      round: d,
      matches: fresh ? {} : w.matches,
      writers: fresh ? {} : w.writers,
      lobby: w.lobby ? { ...w.lobby, status: d.status === "playing" ? "playing" : "open", round: d.round } : w.lobby,
    });
    if (d.status === "playing" && fresh) {
      const n = (d.parties || []).length;
      this.game.announce(`Round ${d.round} started: ${n === 1 ? "one party" : n + " parties"}.`);
    } else if (d.status === "ended") {
      this.game.announce(`Round ${d.round} is over.`);
    }
  }

  _flag(d) {
    const w = this.watching;
    const key = flagKey(d);
    const flags = w.flags || [];
    if (flags.some((f) => f.key === key)) return;
    const flag = { ...d, key, at: Date.now() };
    // The finished piece of a draft already flagged for the same reasons takes the
    // draft's place (one alert per student, not two), seen if the draft's alert was.
    const draft = d.source === "piece" && flags.find((f) => f.source === "draft" && f.match_id === d.match_id && f.player_id === d.player_id && d.reasons.every((r) => f.reasons.includes(r)));
    if (draft) {
      const seen = w.acknowledged.includes(draft.key);
      this._setWatch({
        flags: [flag, ...flags.filter((f) => f !== draft)],
        acknowledged: seen ? [...w.acknowledged, key] : w.acknowledged,
      });
      return;
    }
    this._setWatch({ flags: [flag, ...flags] });
    if (!d.safety) this.game.announce(`Moderation flag: ${d.name}'s ${d.source === "review" ? "review" : d.source === "draft" ? "draft" : "piece"} needs a look.`);
  }

  // --- a student's intents ------------------------------------------------------------

  /** lobby.join; resolves with the lobby.state, rejects with the server's refusal. */
  async join(code) {
    const socket = this.game.socket;
    if (socket.status === "stopped") socket.start();
    if (socket.status !== "online") await socket.welcomed();
    const answer = await socket.send("lobby.join", { code });
    this.game.router.go("/join");
    return answer;
  }

  leave() {
    const s = this.student;
    this.game.socket.send("lobby.leave").catch(() => {});
    if (s) this.store.set({ lobby: { ...s, you: "left" } });
    local.remove("lobby");
  }

  // --- the teacher's intents ----------------------------------------------------------

  watch(lobbyId) {
    const w = this.watching;
    if (w && w.lobbyId === lobbyId && !w.error) {
      if (this.game.socket.status === "online" && w.loading) this._sendWatch(lobbyId);
      return;
    }
    this.store.set({
      watch: {
        lobbyId,
        loading: true,
        error: null,
        lobby: null,
        members: [],
        round: null,
        matches: {},
        writers: {},
        flags: [],
        notices: [],
        acknowledged: [],
      },
    });
    const socket = this.game.socket;
    if (socket.status === "stopped") socket.start();
    if (socket.status === "online") this._sendWatch(lobbyId);
  }

  _sendWatch(lobbyId) {
    this.game.socket.send("lobby.watch", { lobby_id: lobbyId }).catch((err) => {
      if (err.code === "offline" || err.code === "stopped") return; // sent again once back
      const w = this.watching;
      if (w && w.lobbyId === lobbyId) this._setWatch({ loading: false, error: err.message || err.code });
    });
  }

  /** A teacher action on the socket: resolves on its ack, rejects with the refusal. */
  control(type, d = null) {
    return this.game.socket.send(type, d);
  }

  acknowledge(flagKeyValue) {
    const w = this.watching;
    if (w) this._setWatch({ acknowledged: [...w.acknowledged, flagKeyValue] });
  }

  forget() {
    this.store.set({ lobby: null, watch: null });
  }
}

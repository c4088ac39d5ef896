// Replays and live spectating drawn by the same code (docs/replays.md, docs/protocol.md
// "Spectator events"): a seat's text with its pasted passages, applying one edit to it,
// the reference seek of docs/replays.md (`seek` in server/replays/build.py), a replay's
// timeline (seek from the last keyframe at or before a moment, then play forward), the
// phase at a moment, and a spectator's view folded from spectate.state and its events.
// Pure: no DOM, no clock of its own (callers pass every time in).

export const FORMAT = "quill.replay";
export const VERSION = 1;

export const PHASE_NAMES = {
  lobby: "Lobby",
  write: "Writing",
  feedback: "Feedback",
  scoring: "Scoring",
  results: "Results",
  closed: "Finished",
};

/** Words as the server counts them (docs/protocol.md "Drafts": U+FEFF is no separator). */
export function countWords(text) {
  return text.split(/[^\S\uFEFF]+/).filter(Boolean).length;
}

// --- a seat's text --------------------------------------------------------------------

/**
 * A seat's text as the protocol counts it, in code points, each flagged when it came
 * from a paste: `{text, cps, pasted}`.  Never changed in place: every edit makes a new one.
 */
export function makePiece(text = "", pasted = null) {
  const cps = Array.from(text);
  return { text, cps, pasted: pasted && pasted.length === cps.length ? pasted : new Array(cps.length).fill(false) };
}

function fromParts(cps, pasted) {
  return { text: cps.join(""), cps, pasted };
}

/**
 * One logged edit applied to a piece: `ops` (`[[pos, delete, insert]]`, code points,
 * left to right, each on the result of the previous) or a whole-text `snapshot`.
 * Inserted text is flagged when `paste` is set; a snapshot keeps the flags of what it
 * leaves unchanged (its common start and end with the old text).
 */
export function applyEdit(p, ops, snapshot, paste = false) {
  if (snapshot != null) {
    const next = Array.from(snapshot);
    const max = Math.min(p.cps.length, next.length);
    let pre = 0;
    while (pre < max && p.cps[pre] === next[pre]) pre++;
    let suf = 0;
    while (suf < max - pre && p.cps[p.cps.length - 1 - suf] === next[next.length - 1 - suf]) suf++;
    const mid = next.length - pre - suf;
    const pasted = p.pasted.slice(0, pre).concat(new Array(mid).fill(!!paste), p.pasted.slice(p.cps.length - suf));
    return fromParts(next, pasted);
  }
  let cps = p.cps;
  let pasted = p.pasted;
  for (const [pos, del, insert] of ops || []) {
    const at = Math.min(Math.max(0, pos), cps.length); // every logged op is in range
    const end = Math.min(cps.length, at + Math.max(0, del));
    const ins = Array.from(insert || "");
    cps = cps.slice(0, at).concat(ins, cps.slice(end));
    pasted = pasted.slice(0, at).concat(new Array(ins.length).fill(!!paste), pasted.slice(end));
  }
  return fromParts(cps, pasted);
}

/** The piece as runs of plain and pasted text: `[{text, pasted}]`. */
export function segments(p) {
  const out = [];
  let start = 0;
  for (let i = 1; i <= p.cps.length; i++) {
    if (i === p.cps.length || p.pasted[i] !== p.pasted[start]) {
      out.push({ text: p.cps.slice(start, i).join(""), pasted: p.pasted[start] });
      start = i;
    }
  }
  return out;
}

// --- the reference seek ---------------------------------------------------------------

/** The index of the last item whose `at` ≤ `t` (-1 when none): `bisect_right - 1`. */
export function lastAt(items, t) {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid].at <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * Every seat's text at server time `t` (docs/replays.md "Seeking"), exactly as
 * `seek()` in server/replays/build.py: the last keyframe at or before `t`, then each
 * seat's edits from that keyframe's `next` while their `at` ≤ `t`.
 */
export function seek(doc, t) {
  const frames = doc.keyframes;
  const i = lastAt(frames, t);
  const n = doc.seats.length;
  const texts = [];
  for (let s = 0; s < n; s++) {
    let cps = Array.from(i >= 0 ? frames[i].texts[s] : "");
    const edits = doc.edits[s] || [];
    for (let j = i >= 0 ? frames[i].next[s] : 0; j < edits.length; j++) {
      const [at, , ops, snapshot] = edits[j];
      if (at > t) break;
      if (snapshot != null) cps = Array.from(snapshot);
      else for (const [pos, del, insert] of ops) cps = cps.slice(0, pos).concat(Array.from(insert), cps.slice(pos + del));
    }
    texts.push(cps.join(""));
  }
  return texts;
}

// --- a replay's timeline --------------------------------------------------------------

export class ReplayError extends Error {}

/**
 * A replay document made playable.  A cursor is `{at, index, pieces}`: the moment shown,
 * per seat the index of its next edit, and its piece (text + pasted flags) at `at`.
 * `seekTo(t)` starts from the last keyframe at or before `t`; `advance(cursor, t)` plays
 * forward from a cursor (or seeks, when going back or past a later keyframe).
 */
export class Timeline {
  constructor(doc) {
    if (!doc || doc.format !== FORMAT) throw new ReplayError("This is not a Quill Arena replay.");
    if (doc.version !== VERSION) throw new ReplayError(`This replay is in version ${doc.version}, which this page cannot play.`);
    this.doc = doc;
    this.start = doc.start;
    this.end = Math.max(doc.end, doc.start);
    this.frames = doc.keyframes;
    this.seatCount = doc.seats.length;
    this.edits = doc.seats.map((_, s) => doc.edits[s] || []);
    this.frameFlags = this._flagKeyframes();
  }

  /** Keyframes hold texts but not which parts were pasted: walk every edit once to know. */
  _flagKeyframes() {
    const flags = this.frames.map(() => []);
    for (let s = 0; s < this.seatCount; s++) {
      let p = makePiece("");
      let i = 0;
      const edits = this.edits[s];
      this.frames.forEach((k, f) => {
        while (i < edits.length && edits[i][0] <= k.at) {
          const [, , ops, snapshot, paste] = edits[i];
          p = applyEdit(p, ops, snapshot, paste);
          i++;
        }
        // Only when the walk agrees with the keyframe (it always should) are its flags used.
        flags[f][s] = p.text === k.texts[s] && i === k.next[s] ? p.pasted : null;
      });
    }
    return flags;
  }

  clamp(t) {
    return Math.min(this.end, Math.max(this.start, t));
  }

  seekTo(t) {
    const f = lastAt(this.frames, t);
    const index = [];
    const pieces = [];
    for (let s = 0; s < this.seatCount; s++) {
      if (f >= 0) {
        pieces.push(makePiece(this.frames[f].texts[s], this.frameFlags[f][s]));
        index.push(this.frames[f].next[s]);
      } else {
        pieces.push(makePiece(""));
        index.push(0);
      }
    }
    return this._forward({ at: t, index, pieces }, t);
  }

  advance(cursor, t) {
    if (!cursor || t < cursor.at) return this.seekTo(t);
    const f = lastAt(this.frames, t);
    if (f >= 0 && this.frames[f].at > cursor.at) return this.seekTo(t); // a keyframe is nearer
    return this._forward(cursor, t);
  }

  _forward(cursor, t) {
    let index = cursor.index;
    let pieces = cursor.pieces;
    for (let s = 0; s < this.seatCount; s++) {
      const edits = this.edits[s];
      let i = index[s];
      let p = pieces[s];
      while (i < edits.length && edits[i][0] <= t) {
        const [, , ops, snapshot, paste] = edits[i];
        p = applyEdit(p, ops, snapshot, paste);
        i++;
      }
      if (i !== index[s]) {
        if (index === cursor.index) index = index.slice();
        if (pieces === cursor.pieces) pieces = pieces.slice();
        index[s] = i;
        pieces[s] = p;
      }
    }
    return { at: t, index, pieces };
  }

  /** The phase mark in force at `t` (the last with `at` ≤ `t`), or the first one. */
  phaseAt(t) {
    const phases = this.doc.phases || [];
    const i = lastAt(phases, t);
    return phases[Math.max(0, i)] || null;
  }

  /** Reviews and scores are shown from their `at` on. */
  outcomeAt(t) {
    const { scores, reviews } = this.doc;
    return {
      scores: scores && scores.at <= t ? scores : null,
      reviews: reviews && reviews.at <= t ? reviews : null,
    };
  }
}

// --- a live match, as a spectator sees it ----------------------------------------------

/** spectate.state → the view a spectator screen draws (`clock` anchors the match's time). */
export function spectateView(d, perfNow) {
  return {
    match_id: d.match_id,
    delay: d.delay,
    ranked: d.ranked,
    focus: d.focus,
    prompt: d.prompt,
    start: d.start,
    phase: d.phase,
    deadline: d.deadline,
    paused: d.paused,
    remaining: d.remaining == null ? null : d.remaining,
    seats: d.seats.map((s) => ({ ...s, piece: makePiece(s.text_shown ? s.text || "" : "") })),
    results: d.results || null,
    closed: !!d.closed,
    spectators: d.spectators,
    clock: { at: d.at, perf: perfNow },
    last: d.at,
  };
}

/** The match's time a spectator sees at `perfNow` (server seconds: `at` of the state plus
 *  the time since it came; the server holds each event back by `delay`). */
export function viewTime(view, perfNow) {
  return view.clock.at + (perfNow - view.clock.perf) / 1000;
}

/** Seats whose piece moderation withheld from this spectator (`hide`) lose their text. */
function hidden(seats, hide) {
  if (!hide || !hide.length) return seats;
  const out = new Set(hide);
  return seats.map((s, i) => (out.has(i) ? { ...s, text_shown: false, piece: makePiece("") } : s));
}

/** The view with one spectate.events batch applied (kinds: phase, edit, left, reviewed,
 *  results, closed); unknown kinds are skipped, so a newer server can send more. */
export function spectateApply(view, events) {
  let v = view;
  for (const ev of events || []) {
    v = { ...v, last: Math.max(v.last, ev.at) };
    switch (ev.k) {
      case "phase":
        v = { ...v, phase: ev.phase, deadline: ev.deadline, paused: !!ev.paused, remaining: ev.remaining == null ? null : ev.remaining };
        break;
      case "edit": {
        const seat = v.seats[ev.seat];
        if (!seat || !seat.text_shown) break;
        const seats = v.seats.slice();
        seats[ev.seat] = { ...seat, piece: applyEdit(seat.piece, ev.ops, ev.snapshot, ev.paste) };
        v = { ...v, seats };
        break;
      }
      case "left":
      case "reviewed": {
        const seat = v.seats[ev.seat];
        if (!seat) break;
        const seats = v.seats.slice();
        seats[ev.seat] = ev.k === "left" ? { ...seat, left: true } : { ...seat, reviews_given: (seat.reviews_given || 0) + 1 };
        v = { ...v, seats };
        break;
      }
      case "results": {
        const results = { provisional: ev.provisional, scores: ev.scores, reviews: ev.reviews, hide: ev.hide || [] };
        v = { ...v, results, seats: hidden(v.seats, results.hide) };
        break;
      }
      case "closed":
        v = { ...v, closed: true };
        break;
      default:
        break;
    }
  }
  return v;
}

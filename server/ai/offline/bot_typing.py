"""How a bot types: words per minute for a skill, and a timeline of edits for a text.

A timeline is a list of :class:`~server.ai.types.TypingEvent`.  Applying an event to the
current text deletes ``delete`` characters at ``pos`` and inserts ``insert`` there
(:func:`apply_event`); replaying the whole timeline on ``""`` gives exactly the final text.

The model: typing speed is 15 words per minute at skill 0 up to 45 at skill 1 (5 characters
a word), in bursts of one to five words.  The writer pauses before each burst — longer at a
sentence start, longer again at a paragraph and at the very start (planning), and now and
then gets stuck for several seconds.  About one burst in ten has a typo that is noticed
at once: the wrong letters are typed, there is a short pause, they are deleted and the rest
is typed.  Skilled writers also proofread: a slipped word is left for a few bursts, then
the cursor goes back and fixes it.  The whole timeline is squeezed, if needed, to end by
97% of the time allowed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from server.ai.types import TypingEvent

CHARS_PER_WORD = 5.0  # the typing-speed convention: one "word" is five keystrokes
TEXT_CHARS_PER_WORD = 6.0  # what a word of bot prose costs with its space and punctuation
FINISH_SHARE = 0.97  # the last edit lands by this share of the time allowed

_TOKEN = re.compile(r"\S+\s*|\s+")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+$")
_KEYS = "qwertyuiopasdfghjklzxcvbnm"


def clamp(skill: float) -> float:
    return 0.0 if skill != skill else min(1.0, max(0.0, skill))


def words_per_minute(skill: float) -> float:
    return 15.0 + 30.0 * clamp(skill)


def word_budget(skill: float, seconds_allowed: float) -> int:
    """How many words a writer of this skill puts down in the time allowed."""
    s = clamp(skill)
    minutes = max(0.0, seconds_allowed) / 60.0
    typing_share = 0.70 + 0.05 * s  # the rest of the time goes to pauses and fixes
    effort = 0.72 + 0.28 * s  # weaker writers also stop earlier
    keystrokes = words_per_minute(s) * CHARS_PER_WORD * minutes * typing_share * effort
    return max(5, round(keystrokes / TEXT_CHARS_PER_WORD))


def apply_event(text: str, event: TypingEvent) -> str:
    if not 0 <= event.pos <= len(text) or event.pos + event.delete > len(text):
        raise ValueError(f"edit at {event.pos} (delete {event.delete}) outside {len(text)} chars")
    return text[: event.pos] + event.insert + text[event.pos + event.delete :]


def replay(events: Iterable[TypingEvent], start: str = "") -> str:
    text = start
    for event in events:
        text = apply_event(text, event)
    return text


def _slip(word: str, rng: random.Random) -> str:
    """The word with two neighbouring letters swapped, or one letter doubled."""
    letters = [i for i in range(1, len(word) - 1) if word[i].isalpha() and word[i + 1].isalpha()]
    if letters and rng.random() < 0.6:
        i = rng.choice(letters)
        if word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = rng.randrange(1, len(word))
    return word[:i] + word[i - 1] + word[i:]


class _Typist:
    def __init__(self, skill: float, rng: random.Random) -> None:
        self.skill = skill
        self.rng = rng
        self.cps = words_per_minute(skill) * CHARS_PER_WORD / 60.0 * rng.uniform(0.9, 1.1)
        self.buf = ""
        self.t = 0.0
        self.events: list[TypingEvent] = []
        self.pending: tuple[int, str, str, int] | None = None  # pos, wrong, right, bursts left

    def type(self, text: str) -> None:
        self.t += len(text) / self.cps * self.rng.uniform(0.85, 1.15)
        self.edit(len(self.buf), insert=text)

    def edit(self, pos: int, insert: str = "", delete: int = 0) -> None:
        event = TypingEvent(at=self.t, pos=pos, insert=insert, delete=delete)
        self.buf = apply_event(self.buf, event)
        self.events.append(event)

    def pause(self) -> None:
        rng, s = self.rng, self.skill
        if not self.buf:
            gap = rng.uniform(2.0, 5.0) + 6.0 * s  # planning before the first word
        elif self.buf.endswith("\n"):
            gap = rng.uniform(3.0, 7.0) * (1.2 - 0.4 * s)
        elif _SENTENCE_END.search(self.buf):
            gap = rng.uniform(0.8, 2.5)
        else:
            gap = rng.uniform(0.15, 0.7)
        if rng.random() < 0.05 * (1.0 - s):
            gap += rng.uniform(5.0, 12.0)  # stuck
        self.t += gap

    def burst(self, text: str) -> None:
        rng = self.rng
        self.pause()
        words = [m for m in re.finditer(r"[A-Za-z]{4,}", text)]
        if words and self.pending is None and rng.random() < 0.07 * self.skill:
            # Slip on a word now, come back to it a few bursts later.
            m = rng.choice(words)
            wrong = _slip(m.group(), rng)
            if wrong != m.group():
                start = len(self.buf) + m.start()
                self.type(text[: m.start()] + wrong + text[m.end() :])
                self.pending = (start, wrong, m.group(), rng.randint(1, 3))
                return
        if words and rng.random() < 0.10:
            # A typo noticed at once: wrong letters, a beat, backspace, carry on.
            m = rng.choice(words)
            cut = m.start() + rng.randint(1, len(m.group()) - 1)
            wrong_key = rng.choice([k for k in _KEYS if k != text[cut].lower()])
            typed = text[:cut] + wrong_key + text[cut + 1 : cut + 1 + rng.randint(0, 2)]
            base = len(self.buf)
            self.type(typed)
            self.t += rng.uniform(0.3, 1.0)
            self.edit(base + cut, delete=len(typed) - cut)
            self.type(text[cut:])
            return
        self.type(text)

    def tick(self) -> None:
        """After a burst: maybe go back and fix the slipped word."""
        if self.pending is None:
            return
        pos, wrong, right, left = self.pending
        if left > 1:
            self.pending = (pos, wrong, right, left - 1)
            return
        self.flush()

    def flush(self) -> None:
        if self.pending is None:
            return
        pos, wrong, right, _ = self.pending
        self.pending = None
        self.t += self.rng.uniform(0.6, 1.8) + len(right) / self.cps
        self.edit(pos, insert=right, delete=len(wrong))


def _bursts(text: str, skill: float, rng: random.Random) -> list[str]:
    out: list[str] = []
    current = ""
    size = 0
    limit = rng.randint(1, 2 + round(3 * skill))
    for token in _TOKEN.findall(text):
        current += token
        size += 1
        if size >= limit or "\n" in token or _SENTENCE_END.search(token):
            out.append(current)
            current, size = "", 0
            limit = rng.randint(1, 2 + round(3 * skill))
    if current:
        out.append(current)
    return out


def typing_timeline(
    text: str, skill: float, seconds_allowed: float, rng: random.Random
) -> tuple[TypingEvent, ...]:
    """A realistic timeline of edits that types ``text`` within ``seconds_allowed``."""
    if not text:
        return ()
    s = clamp(skill)
    typist = _Typist(s, rng)
    for chunk in _bursts(text, s, rng):
        typist.burst(chunk)
        typist.tick()
    typist.flush()
    if typist.buf != text:  # pragma: no cover - the construction guarantees it
        raise RuntimeError("typing timeline does not rebuild the text")
    limit = max(0.0, seconds_allowed) * FINISH_SHARE
    last = typist.events[-1].at
    scale = limit / last if last > limit and last > 0 else 1.0
    return tuple(
        TypingEvent(at=round(e.at * scale, 3), pos=e.pos, insert=e.insert, delete=e.delete)
        for e in typist.events
    )

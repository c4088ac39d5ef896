"""A typist's edits, as ``draft.edit`` ops: pure (no I/O, no clock; the caller sleeps).

Each :meth:`Typist.step` returns the pause before the next edit and that edit's ops, and
applies them to :attr:`Typist.text`.  Edits come about once a second (a client debounces
keystrokes) with bursts (short gaps, more characters), pauses (a few seconds of
thinking), corrections (delete the last few characters, then type them again) and
insertions in the middle.  Positions count code points, so some words hold a character
outside the BMP (an emoji), which a UTF-16 client would count twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_TEXT = (
    "the keeper counted every step aloud while storm light rolled over glass and water "
    "nobody came that night but the lamp kept turning slow and patient above a dark sea "
    "gulls slept under the rail salt crusted the door and old maps curled on the table "
    "she wrote letters she never sent café naïve façade 🌊 ⚓ 灯台 fjord"
)
WORDS = tuple(_TEXT.split())


@dataclass(frozen=True, slots=True)
class Op:
    pos: int
    delete: int = 0
    insert: str = ""

    def wire(self) -> dict[str, object]:
        out: dict[str, object] = {"pos": self.pos}
        if self.delete:
            out["delete"] = self.delete
        if self.insert:
            out["insert"] = self.insert
        return out


def apply(text: str, ops: list[Op]) -> str:
    """``text`` after ``ops`` (as the server applies them: delete at pos, then insert)."""
    for op in ops:
        if op.pos < 0 or op.pos + op.delete > len(text):
            raise ValueError(f"op {op} reaches past a text of {len(text)} code points")
        text = text[: op.pos] + op.insert + text[op.pos + op.delete :]
    return text


class Typist:
    def __init__(self, rng: random.Random, weights: dict[str, float], max_chars: int = 4000):
        self.rng = rng
        self.text = ""
        self.max_chars = max_chars
        self._actions = list(weights)
        self._weights = [weights[a] for a in self._actions]
        self._pending = ""  # words already chosen, not yet typed

    def _words(self, n: int) -> str:
        return "".join(self.rng.choice(WORDS) + " " for _ in range(n))

    def step(self) -> tuple[float, list[Op]]:
        """The pause (seconds) before the next edit, and its ops (never empty)."""
        action = self.rng.choices(self._actions, self._weights)[0]
        if len(self.text) >= self.max_chars:
            action = "correct"
        if action == "correct" and len(self.text) >= 4:
            k = self.rng.randint(1, min(8, len(self.text) - 1))  # never empty again
            ops = [Op(len(self.text) - k, delete=k)]
            retype = self.text[-k:]
            if self.rng.random() < 0.5:  # fixed in the same edit
                ops.append(Op(len(self.text) - k, insert=retype))
            else:
                self._pending = retype + self._pending
            return self._apply(self.rng.uniform(0.6, 1.4), ops)
        if action == "insert_middle" and " " in self.text:
            spaces = [i for i, c in enumerate(self.text) if c == " "]
            pos = self.rng.choice(spaces) + 1
            return self._apply(self.rng.uniform(0.8, 1.6), [Op(pos, insert=self._words(1))])
        delay = self.rng.uniform(0.8, 1.3)
        if action == "pause":
            delay = self.rng.uniform(2.0, 6.0)
        burst = self.rng.random() < 0.2
        if burst:
            delay = self.rng.uniform(0.3, 0.6)
        chars = self.rng.randint(4, 14 if burst else 9)
        while len(self._pending) < chars:
            self._pending += self._words(2)
        typed, self._pending = self._pending[:chars], self._pending[chars:]
        return self._apply(delay, [Op(len(self.text), insert=typed)])

    def _apply(self, delay: float, ops: list[Op]) -> tuple[float, list[Op]]:
        self.text = apply(self.text, ops)
        return delay, ops

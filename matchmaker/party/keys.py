"""A sorted set of ``(float, str)`` keys kept in short runs, so edits stay cheap at 100k keys.

One flat list with ``bisect.insort`` moves half the list on every insert or delete; here
the keys live in runs of ``load``–``2·load`` keys (the layout of ``sortedcontainers``),
so an insert or delete costs a bisect over the run maxima plus a move inside one run.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

Key = tuple[float, str]


class SortedKeys:
    """Unique keys in ascending order with cheap add, remove, head and neighbourhood."""

    __slots__ = ("_len", "_lists", "_load", "_maxes")

    def __init__(self, load: int = 512) -> None:
        if load < 2:
            raise ValueError("load must be at least 2")
        self._load = load
        self._lists: list[list[Key]] = []
        self._maxes: list[Key] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Key]:
        for run in self._lists:
            yield from run

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple):
            return False
        return self._find(key) is not None

    def add(self, key: Key) -> None:
        """Insert ``key``; adding a key that is already present is a no-op."""
        lists, maxes = self._lists, self._maxes
        if not maxes:
            lists.append([key])
            maxes.append(key)
            self._len = 1
            return
        pos = bisect_left(maxes, key)
        if pos == len(maxes):
            pos -= 1
            lists[pos].append(key)
            maxes[pos] = key
        else:
            run = lists[pos]
            i = bisect_left(run, key)
            if run[i] == key:
                return
            run.insert(i, key)
        self._len += 1
        if len(lists[pos]) > 2 * self._load:
            self._split(pos)

    def remove(self, key: Key) -> bool:
        """Delete ``key``; return whether it was present."""
        found = self._find(key)
        if found is None:
            return False
        self._delete(found[0], found[1], 1)
        return True

    def remove_span(self, first: Key, count: int) -> None:
        """Delete ``first`` and the ``count − 1`` keys after it (one search, not ``count``).

        Raises ``KeyError`` if ``first`` is absent or fewer than ``count`` keys follow.
        """
        found = self._find(first)
        if found is None:
            raise KeyError(first)
        pos, i = found
        lists = self._lists
        available = len(lists[pos]) - i + sum(len(run) for run in lists[pos + 1 : pos + 1 + count])
        if available < count:
            raise KeyError(first)
        self._delete(pos, i, count)

    def _delete(self, pos: int, i: int, count: int) -> None:
        lists, maxes, load = self._lists, self._maxes, self._load
        self._len -= count
        first = pos
        while count:
            run = lists[pos]
            take = min(count, len(run) - i)
            del run[i : i + take]
            count -= take
            if run:
                maxes[pos] = run[-1]
                pos += 1
            else:
                del lists[pos]
                del maxes[pos]
            i = 0
        # The runs that lost keys and survive are lists[first:pos]; merge the short ones.
        p = min(pos, len(lists)) - 1
        while p >= first and len(lists) > 1:
            if len(lists[p]) < load // 2:
                left = p - 1 if p > 0 else p
                lists[left].extend(lists[left + 1])
                maxes[left] = lists[left][-1]
                del lists[left + 1]
                del maxes[left + 1]
                if len(lists[left]) > 2 * load:
                    self._split(left)
            p -= 1

    def head(self, count: int) -> list[Key]:
        """The ``count`` smallest keys, ascending."""
        return self.after(None, count)

    def after(self, key: Key | None, count: int) -> list[Key]:
        """Up to ``count`` keys greater than ``key`` (present or not), ascending.

        With ``key=None``, from the smallest.  Returns a new list, so callers may edit
        the set while they walk through it chunk by chunk.
        """
        lists = self._lists
        if key is None:
            pos, i = 0, 0
        else:
            pos = bisect_right(self._maxes, key)
            if pos == len(lists):
                return []
            i = bisect_right(lists[pos], key)
        out: list[Key] = []
        while pos < len(lists) and len(out) < count:
            out.extend(lists[pos][i : i + count - len(out)])
            pos += 1
            i = 0
        return out

    def around(self, key: Key, radius: int) -> tuple[list[Key], int]:
        """Up to ``radius`` keys either side of ``key``, with ``key``; and its index there.

        Raises ``KeyError`` if ``key`` is not present.
        """
        found = self._find(key)
        if found is None:
            raise KeyError(key)
        pos, i = found
        lists = self._lists
        run = lists[pos]
        start = max(0, i - radius)
        left = run[start:i]
        p = pos - 1
        while len(left) < radius and p >= 0:
            need = radius - len(left)
            left = lists[p][-need:] + left
            p -= 1
        right = run[i + 1 : i + 1 + radius]
        p = pos + 1
        while len(right) < radius and p < len(lists):
            right.extend(lists[p][: radius - len(right)])
            p += 1
        left.append(key)
        left.extend(right)
        return left, len(left) - len(right) - 1

    def _find(self, key: Key) -> tuple[int, int] | None:
        maxes = self._maxes
        pos = bisect_left(maxes, key)
        if pos == len(maxes):
            return None
        run = self._lists[pos]
        i = bisect_left(run, key)
        if run[i] != key:
            return None
        return pos, i

    def _split(self, pos: int) -> None:
        run = self._lists[pos]
        half = run[self._load :]
        del run[self._load :]
        self._maxes[pos] = run[-1]
        self._lists.insert(pos + 1, half)
        self._maxes.insert(pos + 1, half[-1])

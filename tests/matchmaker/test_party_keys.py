"""SortedKeys against a plain sorted list, with tiny runs so splits and merges happen."""

from __future__ import annotations

import random
from bisect import bisect_right, insort

import pytest

from matchmaker.party.keys import Key, SortedKeys


def check(keys: SortedKeys, model: list[Key]) -> None:
    assert list(keys) == model
    assert len(keys) == len(model)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("load", [2, 3, 8])
def test_random_edits_match_a_sorted_list(seed: int, load: int) -> None:
    rng = random.Random(seed)
    keys = SortedKeys(load=load)
    model: list[Key] = []
    for step in range(1500):
        roll = rng.random()
        if roll < 0.5 or not model:
            key = (float(rng.randint(0, 40)), f"p{rng.randint(0, 60)}")
            keys.add(key)
            if key not in model:
                insort(model, key)
        elif roll < 0.8:
            key = rng.choice(model) if rng.random() < 0.9 else (99.0, "absent")
            assert keys.remove(key) == (key in model)
            if key in model:
                model.remove(key)
        else:
            first = rng.randrange(len(model))
            count = rng.randint(1, min(7, len(model) - first))
            keys.remove_span(model[first], count)
            del model[first : first + count]
        if step % 50 == 0:
            check(keys, model)
    check(keys, model)


@pytest.mark.parametrize("load", [2, 4, 512])
def test_around_head_after(load: int) -> None:
    keys = SortedKeys(load=load)
    model = [(float(i // 3), f"p{i:03}") for i in range(40)]
    for key in reversed(model):
        keys.add(key)
    for index, key in enumerate(model):
        window, center = keys.around(key, 5)
        lo = max(0, index - 5)
        assert window == model[lo : index + 6]
        assert window[center] == key
    assert keys.head(7) == model[:7]
    assert keys.head(100) == model
    assert keys.after(None, 3) == model[:3]
    for probe in [(-1.0, ""), model[10], (5.5, "zzz"), model[-1], (100.0, "")]:
        start = bisect_right(model, probe)
        assert keys.after(probe, 6) == model[start : start + 6]


def test_missing_keys() -> None:
    keys = SortedKeys(load=2)
    assert keys.remove((1.0, "a")) is False
    assert keys.after(None, 5) == []
    with pytest.raises(KeyError):
        keys.around((1.0, "a"), 3)
    keys.add((1.0, "a"))
    keys.add((1.0, "a"))
    assert len(keys) == 1
    assert (1.0, "a") in keys
    assert (1.0, "b") not in keys
    with pytest.raises(KeyError):
        keys.remove_span((1.0, "a"), 2)
    with pytest.raises(KeyError):
        keys.remove_span((2.0, "a"), 1)
    with pytest.raises(ValueError):
        SortedKeys(load=1)

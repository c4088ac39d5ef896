"""When the client sends a draft's edits (``DraftSync`` in ``js/protocol.js``), on a fake
clock (given to the draft) in a real Chromium: typing without a pause still sends at least every
``maxWaitMs``, so a typed sentence is never one edit as long as a paste (which the
server would flag: ``match.paste_chars``), while a real paste is sent at once as one.

The socket is a stand-in that records what would be sent: what is under test is when
the draft decides to send, not the network."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from playwright.async_api import Browser

from tests.conftest import Node
from tests.web.browser import require_chromium

require_chromium()

pytestmark = pytest.mark.timeout(120)

SCRIPT = """
async ({ chars, everyMs, paste }) => {
  // A fake clock, given to the draft (the page's own timers are untouched).
  let now = 1700000000000;
  let nextId = 1;
  const timers = new Map();
  const clock = {
    now: () => now,
    set: (fn, ms) => {
      timers.set(nextId, { at: now + (ms || 0), fn });
      return nextId++;
    },
    clear: (id) => timers.delete(id),
  };
  const advance = (ms) => {
    const end = now + ms;
    for (;;) {
      let due = null;
      for (const [id, t] of timers) if (t.at <= end && (!due || t.at < due[1].at)) due = [id, t];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = end;
  };
  const { DraftSync } = await import("/app/js/protocol.js");
  const sent = [];
  const socket = {
    status: "online",
    send(type, d) {
      sent.push({ type, d, at: now });
      const promise = new Promise(() => {});
      promise.id = sent.length;
      return promise;
    },
  };
  const sync = new DraftSync(socket, { timers: clock });
  sync.reset(null);
  sync.begin();
  let text = "";
  for (let i = 0; i < chars; i++) {
    text += "abcdefghij klmnopqrst"[i % 21];
    sync.input(text);
    advance(everyMs);
  }
  if (paste) {
    advance(2000);
    text += " " + "pasted words ".repeat(8);
    sync.input(text, { paste: true });
  }
  advance(2000);
  return sent.map((s) => ({
    at: s.at,
    paste: !!s.d.paste,
    inserted: s.d.ops.reduce((n, op) => n + [...(op.insert || "")].length, 0),
  }));
}
"""


async def typed(
    browser: Browser, node: Node, chars: int, every_ms: int, paste: bool = False
) -> list[dict[str, Any]]:
    page = await browser.new_page()
    try:
        await page.goto(f"{node.url}/")
        args = {"chars": chars, "everyMs": every_ms, "paste": paste}
        result: list[dict[str, Any]] = await page.evaluate(SCRIPT, args)
        return result
    finally:
        await page.close()


async def test_typing_without_a_pause_is_sent_in_small_edits(
    browser: Browser, web_node: Node
) -> None:
    # 12 characters a second for 10 s, never pausing 400 ms: the debounce alone would
    # send one edit of 120 characters at the end (a paste to the server).
    sent = await typed(browser, web_node, chars=120, every_ms=80)
    assert sum(s["inserted"] for s in sent) == 120
    assert len(sent) >= 9
    assert max(s["inserted"] for s in sent) <= 13 < 60  # match.paste_chars
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(sent)]
    assert max(gaps) <= 1000 + 80
    assert not any(s["paste"] for s in sent)


async def test_a_pause_sends_after_the_debounce_and_a_paste_at_once(
    browser: Browser, web_node: Node
) -> None:
    sent = await typed(browser, web_node, chars=3, every_ms=100, paste=True)
    assert [s["paste"] for s in sent][-1] is True
    assert sent[-1]["inserted"] == 1 + len("pasted words ") * 8
    assert sum(s["inserted"] for s in sent[:-1]) == 3

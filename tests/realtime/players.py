"""A scripted human player for the realtime tests: joins, writes, reviews, reads results.

:class:`Player` reacts to events rather than to the clock, so the same script works
whatever the phase lengths and however late a restart lets it back in.  It remembers
what the server acknowledged (``acked_text``, ``acked_seq``) so tests can check that no
acknowledged edit was lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from server.protocol import Codec
from tests.realtime.client import WAIT, Client

SENTENCES = (
    "The keeper climbed the stairs and counted each one aloud.",
    " Rain hammered the glass while the lamp turned slowly above him.",
    " Far below, a small boat fought the waves toward the rocks.",
    " He lit the signal and waited, breathing hard, for an answer.",
    " At dawn the sea was calm and the boat was safe in the harbour.",
)


@dataclass
class Player:
    name: str
    user_id: str
    token: str
    url: str
    codec: Codec = Codec.JSON
    client: Client | None = None
    session_token: str = "new"
    seq: int = 0
    text: str = ""
    acked_text: str = ""
    acked_seq: int = 0
    clients: list[Client] = field(default_factory=list)  # every socket it used, in order

    @property
    def c(self) -> Client:
        assert self.client is not None
        return self.client

    async def connect(self, url: str | None = None) -> dict[str, Any]:
        """Open a socket and resume the session; returns ``welcome.d``."""
        self.url = url or self.url
        self.client = await Client.session(
            self.url, self.token, self.codec, self.session_token, name=self.name
        )
        self.clients.append(self.client)
        self.session_token = self.client.session_token or ""
        welcome = self.c.find("welcome")
        assert welcome is not None
        data: dict[str, Any] = welcome["d"]
        return data

    async def join(self, seat_token: str) -> dict[str, Any]:
        await self.c.send("match.join", {"seat_token": seat_token})
        state: dict[str, Any] = (await self.c.wait("match.state"))["d"]
        return state

    async def ready(self) -> None:
        await self.c.send("match.ready")

    async def write(self, sentences: int = 3, start: int = 0) -> None:
        """Append sentences, one ``draft.edit`` each, and wait for every ack."""
        refs = []
        for sentence in SENTENCES[start : start + sentences]:
            self.seq += 1
            ops = [{"pos": len(self.text), "insert": sentence}]
            refs.append((await self.c.send("draft.edit", {"seq": self.seq, "ops": ops}), sentence))
            self.text += sentence
        for ref, _ in refs:
            ack = await self.c.ack(ref)
            self.acked_seq = max(self.acked_seq, ack["d"]["seq"])
        self.acked_text = self.text

    async def rebase(self, state: dict[str, Any]) -> None:
        """After a resume: adopt the server's draft, or send ours as a snapshot."""
        draft = state["draft"]
        if draft is None or draft["locked"]:
            return
        if draft["text"] == self.text:
            self.seq = max(self.seq, draft["seq"])
            return
        self.seq = max(self.seq, draft["seq"]) + 1
        ref = await self.c.send("draft.edit", {"seq": self.seq, "snapshot": self.text})
        await self.c.ack(ref)
        self.acked_text = self.text

    async def review_all(self, start: int = 0) -> list[dict[str, Any]]:
        """Review every piece assigned (from ``review.assignments``); returns them."""
        event = await self.c.wait("review.assignments", start=start)
        assignments: list[dict[str, Any]] = event["d"]["assignments"]
        refs = []
        for a in assignments:
            if a["submitted"]:
                continue
            review = {
                "assignment_id": a["assignment_id"],
                "strength": f"The line '{a['text'][:30]}' paints a clear picture.",
                "suggestion": "Add a sound from the storm to make the scene feel closer.",
                "rating": 4,
            }
            refs.append(await self.c.send("review.submit", review))
        for ref in refs:
            await self.c.ack(ref)
        return assignments

    async def results(self) -> tuple[dict[str, Any], dict[str, Any]]:
        results = await self.c.wait("match.results")
        report = await self.c.wait("match.report")
        await self.c.wait("match.phase", lambda d: d["phase"] == "closed")
        return results["d"], report["d"]


async def gather(*coros: Any) -> list[Any]:
    async with asyncio.timeout(WAIT * 2):
        return list(await asyncio.gather(*coros))


async def start_writing(players: list[Player], edits: int = 2) -> None:
    """Every player ready, the write phase begun for all, then ``edits`` edits each."""
    for p in players:
        await p.ready()
    for p in players:
        await p.c.wait("match.phase", lambda d: d["phase"] == "write")
    for p in players:
        await p.write(edits)

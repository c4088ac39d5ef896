"""The teachers' screens end to end: real Chromium, a real node with PostgreSQL and Redis.

A teacher creates a class from a CSV list (dry run, then import), gets the sign-in codes
(printable cards, the server's sheet), opens a lobby (the server's validation shown next
to its field), reads the join code; three students sign in with username and code on
their own pages and join with the code; the teacher messages, locks, removes one who
joins again, starts the round, watches the drafts grow, pauses, resumes, extends, and
sees the safety alert raised from the student's draft while writing goes on.  The students review each other; once the
round is over the teacher opens its results (every piece, its scores and the AI's rationale,
the reviews), overrides one score with a reason (the form's errors by field, the server's
among them) and sees the ranking change, then downloads the CSV through the page.  Every
new screen is scanned with axe-core at desktop and phone width and photographed."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    Locator,
    Page,
    ViewportSize,
    expect,
)

from tests.conftest import Node
from tests.realtime.helpers import http_for
from tests.web.browser import (
    DESKTOP,
    PHONE,
    WAIT_MS,
    Shots,
    require_chromium,
)
from tests.web.players import PIECE, BrowserPlayer

require_chromium()

pytestmark = pytest.mark.timeout(420)

TEACHER = {"handle": "ms.park", "password": "a long teacher password", "role": "teacher"}
ROSTER_CSV = "name,username\nAda Lovelace,ada.l\nBen Okri,ben.o\nCleo Park,cleo.p\nBob <b>\n"
SAFETY_TEXT = "The storm is loud tonight. Sometimes I want to die when it gets this dark."
CLEO_TEXT = "Cleo writes a short line about the lamp."
OVERRIDE_REASON = "Cleo read it aloud to the class: the AI missed how the lamp carries the voice."
CSV_COLUMNS = [  # docs/lobbies.md, "CSV"
    "class",
    "student",
    "username",
    "round",
    "party",
    "prompt",
    "words",
    "ideas",
    "organization",
    "voice",
    "word_choice",
    "sentence_fluency",
    "conventions",
    "presentation",
    "overall",
    "review_quality",
    "rank",
    "rating_change",
    "pastes",
    "pasted_chars",
    "moderation",
    "overridden",
    "match_id",
]


async def scan(p: BrowserPlayer, shots: Shots, name: str) -> None:
    """axe-core at phone and desktop width (no serious or critical violation), then the
    screenshots (desktop, phone; no sideways scrolling at 200 % zoom either)."""
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await p.page.set_viewport_size(ViewportSize(width=size["width"], height=size["height"]))
        await p.axe(f"{name} ({label})")
    await shots.take(p.page, name)


async def sign_in_teacher(p: BrowserPlayer) -> None:
    page = p.page
    await page.goto("/")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    form = page.locator("#signin-panel form")
    await form.get_by_label("Handle").fill(TEACHER["handle"])
    await form.get_by_label("Password").fill(TEACHER["password"])
    await form.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile("/play$"))


async def sign_in_student(p: BrowserPlayer, username: str, code: str) -> None:
    page = p.page
    await page.goto("/")
    await page.get_by_role("button", name="Sign in with a class card").click()
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Sign-in code").fill(code.lower().replace("-", " "))
    await page.locator("#student-panel").get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile("/play$"))


async def join_lobby(page: Page, typed: str) -> None:
    await page.get_by_label("Lobby code").fill(typed)
    await page.get_by_role("button", name="Join", exact=True).click()
    await expect(page).to_have_url(re.compile("/join$"))


def piece_card(page: Page, name: str) -> Locator:
    """A student's piece on the results screen (by its heading: reviews name others too)."""
    heading = page.get_by_role("heading", name=re.compile("^" + re.escape(name)), level=4)
    return page.locator(".result-piece").filter(has=heading)


async def results_are_shown(page: Page) -> None:
    """The results screen: one ranking of four (three students and the bot) and a card for
    each student's piece with its text, the seven traits and overall, the AI's rationale
    and the reviews both ways."""
    await expect(page.get_by_role("heading", name=re.compile("^Round 1"), level=2)).to_be_visible()
    await expect(page.locator(".results-ranking tbody tr")).to_have_count(4)
    cards = page.locator(".result-piece")
    await expect(cards).to_have_count(3)
    for name, text in (
        ("Ada Lovelace", PIECE),
        ("Ben Okri", SAFETY_TEXT),
        ("Cleo Park", CLEO_TEXT),
    ):
        card = piece_card(page, name)
        await expect(card.get_by_role("heading", name=re.compile(name), level=4)).to_be_visible()
        await expect(card.locator(".piece-full")).to_have_text(text)
        await expect(card.locator(".trait-table tbody tr")).to_have_count(8)  # 7 traits, overall
        await expect(card.locator(".piece-place")).to_contain_text(re.compile(r"of 4 · score \d"))
        await expect(
            card.get_by_role("heading", name=re.compile("^Reviews received"))
        ).to_be_visible()
        await expect(
            card.get_by_role("heading", name=re.compile("^Reviews given: [1-9]"))
        ).to_be_visible()
    await expect(piece_card(page, "Ada Lovelace").locator(".rationale")).to_be_visible()


async def test_a_teacher_runs_a_class_lobby_and_watches_it_write(
    browser: Browser, web_node: Node, shots: Shots
) -> None:
    status, _ = await http_for(web_node).post("/api/v1/auth/register", TEACHER)
    assert status == 201
    teacher = await BrowserPlayer.open(browser, web_node.url, "teacher")
    students: list[BrowserPlayer] = []
    page = teacher.page
    try:
        # --- Teach: a class, from a CSV list -------------------------------------------
        await sign_in_teacher(teacher)
        await page.get_by_role("link", name="Teach", exact=True).click()
        await expect(page.get_by_role("heading", name="Teach", level=1)).to_be_focused()
        await expect(page.get_by_text("No classes yet")).to_be_visible()
        await scan(teacher, shots, "t01-teach")
        await page.get_by_label("Class name").fill("7B English")
        await page.get_by_label("Grade level").select_option("7")
        await page.get_by_role("button", name="Create class").click()
        await expect(page.get_by_role("heading", name="7B English", level=1)).to_be_visible()
        await expect(page.get_by_text("No students yet")).to_be_visible()

        await page.get_by_label("Students, one a line").fill(ROSTER_CSV)
        await page.get_by_role("button", name="Check the list").click()
        preview = page.get_by_role("heading", name=re.compile("Preview: 3 to add, 1 refused"))
        await expect(preview).to_be_focused()
        await expect(page.locator(".rejected li")).to_have_count(1)
        await expect(page.locator(".rejected li")).to_contain_text("Line 5")
        await expect(page.get_by_text("No students yet")).to_be_visible()  # a dry run
        await scan(teacher, shots, "t02-class-import-preview")
        await page.get_by_role("button", name="Import 3 students").click()
        await expect(page.get_by_role("heading", name="Sign-in codes")).to_be_focused()
        await expect(page.locator(".codes-table tbody tr")).to_have_count(3)
        await expect(page.locator("ul.roster li.student")).to_have_count(3)
        await expect(page.get_by_role("button", name="Print sign-in cards")).to_be_visible()
        codes: dict[str, str] = {}
        for row in await page.locator(".codes-table tbody tr").all():
            cells = await row.locator("th, td").all_inner_texts()
            codes[cells[1].strip()] = cells[2].strip()
        assert set(codes) == {"ada.l", "ben.o", "cleo.p"}
        await scan(teacher, shots, "t03-class-codes")

        # The cards as they print: only the cards, two across, nothing else of the page.
        await page.emulate_media(media="print")
        await expect(page.locator(".print-sheet")).to_be_visible()
        await expect(page.locator(".print-card")).to_have_count(3)
        await expect(page.get_by_role("heading", name="Roster")).to_be_hidden()
        await page.screenshot(path=str(shots.root / "t04-print-cards.png"), full_page=True)
        await page.emulate_media(media="screen")
        # The server's sheet (roster.html), fetched with the bearer token.
        async with page.expect_download() as got:
            await page.get_by_role("button", name="Download the sheet (HTML)").click()
        sheet = Path(await (await got.value).path())
        html_text = await asyncio.to_thread(sheet.read_text, encoding="utf-8")
        assert "Ada Lovelace" in html_text and codes["ada.l"].replace("-", "") in html_text.replace(
            "-", ""
        )

        # One by one: add, a new code (the old one stops working), then remove (with
        # its confirmation).  (Dan, not a student who signs in below: the node refuses a
        # reset student's sockets for a minute after the reset, fresh sign-in or not.)
        await page.get_by_label("Name", exact=True).fill("Dan Brown")
        await page.get_by_role("button", name="Add student").click()
        await expect(page.locator(".codes-table tbody tr")).to_have_count(4)
        dan_row = page.locator(".codes-table tbody tr", has_text="Dan Brown")
        first_code = (await dan_row.locator(".code-cell").inner_text()).strip()
        dan = page.locator("li.student", has_text="Dan Brown")
        await dan.get_by_role("button", name="New code").click()
        await dan.get_by_role("button", name="Make a new code").click()
        await expect(dan_row.locator(".code-cell")).not_to_have_text(first_code)
        await dan.get_by_role("button", name="Remove").click()
        await expect(dan.get_by_text("This cannot be undone")).to_be_focused()
        await scan(teacher, shots, "t05-class-remove-confirm")
        await dan.get_by_role("button", name="Remove Dan Brown").click()
        await expect(page.locator("ul.roster li.student")).to_have_count(3)

        # --- a lobby for the class: settings, the server's errors next to the field ---
        await page.get_by_role("link", name="Open a lobby for this class").click()
        await expect(page.get_by_role("heading", name="Open a lobby", level=1)).to_be_visible()
        await expect(page.get_by_label("Who may join")).to_have_value(re.compile("[0-9a-f-]{36}"))
        await page.get_by_label("Writing", exact=True).fill("0")
        await page.get_by_role("button", name="Open the lobby").click()
        error = page.locator("#lobby-write_seconds-error")
        await expect(error).to_contain_text("1")
        await expect(page.get_by_label("Writing", exact=True)).to_be_focused()
        await scan(teacher, shots, "t06-new-lobby-errors")
        await page.get_by_label("Lobby (before writing starts)").fill("120")
        await page.get_by_label("Writing", exact=True).fill("20")
        await page.get_by_label("Feedback", exact=True).fill("30")
        await page.get_by_label("Results", exact=True).fill("5")
        await page.get_by_label("Trait focus").select_option("voice")
        await expect(page.get_by_label("Fill short parties with bots")).to_be_checked()
        await page.get_by_label("Ranked (moves ladder ratings)").check()  # ratings move, too
        await page.get_by_role("button", name="Open the lobby").click()
        await expect(page).to_have_url(re.compile("/teach/lobbies/[0-9a-f-]{36}$"))
        await expect(page.get_by_text("Nobody yet")).to_be_visible()
        code = "".join(await page.locator(".big-code .code-group").all_inner_texts())
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{6}", code), code
        await scan(teacher, shots, "t07-lobby-open")

        # --- three students sign in with their cards and join with the code ----------
        students = list(
            await asyncio.gather(
                *(BrowserPlayer.open(browser, web_node.url, u) for u in ("ada", "ben", "cleo"))
            )
        )
        await asyncio.gather(
            *(
                sign_in_student(s, u, codes[u])
                for s, u in zip(students, ("ada.l", "ben.o", "cleo.p"), strict=True)
            )
        )
        first = students[0].page
        await first.get_by_label("Lobby code").fill(code[:2] + "O" + code[3:])
        await first.get_by_role("button", name="Join", exact=True).click()
        await expect(first.locator("#join-code-error")).to_contain_text("never hold")
        await expect(first.get_by_label("Lobby code")).to_be_focused()
        await scan(students[0], shots, "s01-play-join-error")
        spaced = f" {code[:3].lower()} - {code[3:]} "  # case, spaces, dashes: all fine
        await asyncio.gather(*(join_lobby(s.page, spaced) for s in students))
        await expect(first.get_by_role("heading", name="7B English lobby", level=1)).to_be_visible()
        await expect(page.get_by_role("heading", name="In the lobby: 3")).to_be_visible()
        await expect(page.locator(".lobby-roster li", has_text="Cleo Park")).to_contain_text(
            "online"
        )

        # A message, a lock, and a student removed who joins again once it is open.
        await page.get_by_label("Message", exact=True).fill("Pencils down, eyes on the picture!")
        await page.get_by_role("button", name="Send message").click()
        for s in students:
            await expect(s.page.locator(".notices")).to_contain_text("Pencils down")
        await page.get_by_role("button", name="Lock the lobby").click()
        await expect(page.get_by_role("button", name="Unlock the lobby")).to_be_visible()
        await expect(first.locator("main").get_by_text("The lobby is locked")).to_be_visible()
        await scan(students[0], shots, "s02-join-waiting")
        cleo = students[2].page
        await page.get_by_role("button", name="Remove Cleo Park from the lobby").click()
        await expect(cleo.locator("main").get_by_text("took you out of this lobby")).to_be_visible()
        await expect(page.get_by_role("heading", name="In the lobby: 2")).to_be_visible()
        await cleo.get_by_label("Lobby code").fill(code)
        await cleo.get_by_role("button", name="Join", exact=True).click()
        await expect(cleo.locator("#join-code-error")).to_contain_text("locked")
        await page.get_by_role("button", name="Unlock the lobby").click()
        await expect(page.get_by_role("button", name="Lock the lobby")).to_be_visible()
        await join_lobby(cleo, code)
        await expect(page.get_by_role("heading", name="In the lobby: 3")).to_be_visible()
        await scan(teacher, shots, "t08-lobby-roster")

        # --- the round: one party of three students and a bot --------------------------
        await page.get_by_role("button", name="Start round").click()
        await expect(page.get_by_role("heading", name="Party 1")).to_be_visible()
        await expect(page.locator(".party")).to_contain_text("+ 1 bot")
        await expect(page.locator(".writer")).to_have_count(3)
        await asyncio.gather(*(s.ready() for s in students))

        async def write(s: BrowserPlayer, text: str) -> None:
            editor = s.editor()
            await expect(editor).to_be_focused()
            await s.page.keyboard.type(text)
            await s.saved()

        await asyncio.gather(
            write(students[0], PIECE),
            write(students[1], SAFETY_TEXT),
            write(students[2], CLEO_TEXT),
        )
        ada_card = page.locator(".writer", has_text="Ada Lovelace")
        await expect(ada_card.locator(".draft")).to_have_text(PIECE)
        await expect(ada_card.locator(".num")).to_have_text(str(len(PIECE.split())))
        await expect(
            page.locator(".writer", has_text="Ben Okri").locator(".draft")
        ).to_contain_text("want to die")
        await page.get_by_role("button", name="Pause").click()
        await expect(page.get_by_role("button", name="Resume")).to_be_visible()
        await expect(page.locator(".phase-tag")).to_contain_text("paused")
        await page.get_by_role("button", name="Resume").click()
        await expect(page.get_by_role("button", name="Pause")).to_be_visible()
        await page.get_by_role("button", name="Extend (+1 min)").click()
        clock = page.locator(".party-clock .countdown-value")
        await expect(clock).to_have_text(re.compile(r"^1:\d\d$"))
        await expect(students[0].page.locator(".countdown-value")).to_have_text(
            re.compile(r"^1:\d\d$")
        )
        await expect(page.locator(".controls .form-error")).to_have_count(0)
        await scan(teacher, shots, "t09-live-view")
        assert any('"teacher.extend"' in f for f in teacher.frames_out)

        # --- the draft is flagged while writing goes on: the alert cannot be missed -----
        alert = page.get_by_role("alert").filter(has_text="Safety alert")
        await expect(alert).to_be_visible(timeout=3 * WAIT_MS)  # the extended minute, too
        await expect(alert).to_contain_text("Ben Okri")
        await expect(alert).to_contain_text("want to die")
        await expect(alert).to_contain_text("the draft they are still writing")
        await expect(page.locator(".flags")).to_contain_text("self-harm")
        await scan(teacher, shots, "t10-safety-alert")
        await alert.get_by_role("button", name="I have seen this alert").click()
        await expect(alert).to_have_count(0)
        await expect(page.locator(".flags li.is-safety")).to_have_count(1)  # still listed

        # --- writing ends (the extended minute); the students review each other ---------
        feedback = [s.page.get_by_text(re.compile(r"Reviews sent: 0 of")) for s in students]
        await asyncio.gather(*(expect(f).to_be_visible(timeout=3 * WAIT_MS) for f in feedback))
        await asyncio.gather(*(s.review_all() for s in students))
        await asyncio.gather(*(s.results() for s in students))
        to_results = page.get_by_role("link", name="Results of round 1")
        await expect(to_results).to_be_visible()
        await expect(page.get_by_role("link", name="Results, scores and CSV")).to_be_visible()
        await to_results.click()
        await expect(page).to_have_url(re.compile("/teach/lobbies/[0-9a-f-]{36}/results$"))
        await expect(
            page.get_by_role("heading", name=re.compile("^Results"), level=1)
        ).to_be_focused()
        await results_are_shown(page)
        await scan(teacher, shots, "t11-results")

        # --- an override: the form's own check, the server's, then the new ranking ----
        card = piece_card(page, "Cleo Park")
        row = page.locator(".results-ranking tbody tr", has_text="Cleo Park")
        score_before = (await row.locator("td").nth(1).inner_text()).strip()
        await card.get_by_role("button", name="Change the score…").press("Enter")  # keyboard
        form = card.locator("form.override-form")
        await expect(
            form.get_by_role("heading", name="Change the score of Cleo Park's piece")
        ).to_be_focused()
        await expect(form.get_by_role("group", name="Trait scores (1–6)")).to_be_visible()
        overall = form.get_by_label("Overall (1–6)")
        await overall.fill("7")
        await form.get_by_role("button", name="Save the new score").click()  # no reason
        summary = form.locator(".error-summary")
        await expect(summary).to_be_focused()
        await expect(summary).to_contain_text("Reason: Say why")
        await expect(form.get_by_label("Reason (required)")).to_have_attribute(
            "aria-invalid", "true"
        )
        await form.get_by_label("Reason (required)").fill(OVERRIDE_REASON)
        await form.get_by_role("button", name="Save the new score").click()  # 7: the server says
        await expect(summary).to_contain_text("Overall: Must be a number from 1 to 6")
        await expect(summary).to_be_focused()
        await expect(overall).to_have_attribute("aria-invalid", "true")
        await expect(form.get_by_label("Reason (required)")).not_to_have_attribute(
            "aria-invalid", "true"
        )
        await scan(teacher, shots, "t12-override-form-errors")
        await summary.get_by_role("link", name=re.compile("^Overall")).press("Enter")
        await expect(overall).to_be_focused()  # the summary's link goes to the field
        await page.keyboard.press("Control+A")
        await page.keyboard.type("6")
        await form.get_by_label(re.compile("^Voice")).select_option("6")
        await form.get_by_role("button", name="Save the new score").press("Enter")
        saved = card.locator(".saved-note")
        await expect(saved).to_be_focused()
        await expect(saved).to_contain_text("Score saved for Cleo Park: overall 6")
        await expect(page.locator("[role=status]")).to_contain_text("Score saved for Cleo Park")
        await expect(form).to_have_count(0)
        await expect(card.locator(".marks")).to_contain_text("Overridden")
        await expect(card.locator(".override-note")).to_contain_text(OVERRIDE_REASON)
        await expect(card.locator(".overall-row")).to_contain_text(
            re.compile(r"^Overall\s*6 \(AI gave")
        )
        await expect(row).to_contain_text("overridden")
        await expect(row.locator("td").nth(1)).not_to_have_text(score_before)
        ranks = [
            int(t)
            for t in await page.locator(
                ".results-ranking tbody tr td:first-child"
            ).all_inner_texts()
        ]
        assert ranks == sorted(ranks), ranks  # the table follows the ranking worked out again
        await scan(teacher, shots, "t13-results-overridden")

        # --- the CSV, through the page ------------------------------------------------
        async with page.expect_download() as got:
            await page.get_by_role("button", name="Download results (CSV)").click()
        download = await got.value
        assert download.suggested_filename == f"lobby-{code[:3]}-{code[3:]}-results.csv"
        raw = await asyncio.to_thread(Path(await download.path()).read_bytes)
        assert raw.startswith("\ufeff".encode())  # the BOM: spreadsheets read UTF-8
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        assert list(rows[0]) == CSV_COLUMNS
        assert [r["student"] for r in rows] == ["Ada Lovelace", "Ben Okri", "Cleo Park"]
        assert {r["username"] for r in rows} == {"ada.l", "ben.o", "cleo.p"}
        assert {(r["class"], r["round"], r["party"]) for r in rows} == {("7B English", "1", "1")}
        by_name = {r["student"]: r for r in rows}
        cleo_row = by_name["Cleo Park"]
        assert (float(cleo_row["overall"]), cleo_row["voice"], cleo_row["overridden"]) == (
            6,
            "6",
            "yes",
        )
        assert cleo_row["words"] == str(len(CLEO_TEXT.split()))
        assert [by_name[n]["overridden"] for n in ("Ada Lovelace", "Ben Okri")] == ["no", "no"]
        for r in rows:
            assert int(r["rank"]) >= 1 and r["match_id"] == rows[0]["match_id"]
            float(r["rating_change"])  # a ranked lobby: a number for everyone

        for p in (teacher, *students):
            p.check_clean()
    finally:
        for s in students:
            await s.close()
        await teacher.close()

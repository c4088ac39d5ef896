"""The printable roster sheet: one card per student, to cut out and hand over.

A card shows the student's name, username and sign-in code (in large, spaced
monospace, the way a child copies it), the class and where to sign in.  Codes are
stored only as hashes, so a sheet can show them only when it is given them: right
after they were created or reset (``POST …/roster.html`` with the ``sheet`` of that
answer).  A sheet made without codes (``GET …/roster.html``) has an empty box on each
card instead, to write a code in by hand.

The page is self-contained: no script, no request to anything, one style sheet whose
hash is in :data:`CSP`.  On paper: A4 or Letter, two cards across, none split over a
page break, dashed edges to cut along, the on-screen note left out.  Every piece of
text is escaped.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape

from server.classes.codes import show


@dataclass(frozen=True, slots=True)
class Card:
    name: str
    username: str
    code: str | None  # canonical, or None: a box to write it in


@dataclass(frozen=True, slots=True)
class SheetClass:
    name: str
    grade_level: int
    code: str  # the class code, canonical
    teacher: str


STYLE = """
*{box-sizing:border-box}
body{margin:0;padding:16px;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111;background:#f4f4f4}
header{max-width:190mm;margin:0 auto 12px}
h1{font-size:20px;margin:0 0 4px}
.meta{margin:0;color:#333}
.note{margin:8px 0 0;padding:8px 10px;background:#fff8d6;border:1px solid #e5d27a;border-radius:4px}
.cards{display:grid;grid-template-columns:repeat(2,1fr);gap:8mm;max-width:190mm;margin:0 auto}
.card{background:#fff;border:1.5px dashed #555;border-radius:6px;padding:5mm 6mm;break-inside:avoid;page-break-inside:avoid;min-height:52mm}
.card h2{font-size:18px;margin:0 0 3mm;overflow-wrap:anywhere}
.card dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:1.5mm 4mm;align-items:baseline}
.card dt{font-size:12px;color:#444}
.card dd{margin:0;font:600 17px/1.2 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;overflow-wrap:anywhere}
.card dd.code{font-size:24px;letter-spacing:.18em}
.card .blank{display:inline-block;width:44mm;height:9mm;border:1px solid #777;border-radius:3px}
.card .where{margin:3mm 0 0;font-size:12px;color:#333;overflow-wrap:anywhere}
.empty{max-width:190mm;margin:0 auto}
@page{margin:12mm}
@media print{
body{background:#fff;padding:0;font-size:12px}
header{max-width:none}
.note{display:none}
.cards{max-width:none;gap:6mm}
.card{border-color:#000}
}
""".strip()
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = "; ".join(
    (
        "default-src 'none'",
        f"style-src 'sha256-{STYLE_HASH}'",
        "img-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""The sheet's Content-Security-Policy: its own style sheet and nothing else."""


def _grade(level: int) -> str:
    return "Kindergarten" if level == 0 else f"Grade {level}"


def _card(card: Card, klass: SheetClass, sign_in_at: str) -> str:
    code = (
        f'<dd class="code">{escape(show(card.code))}</dd>'
        if card.code is not None
        else '<dd><span class="blank" aria-label="write the code here"></span></dd>'
    )
    return (
        '<section class="card">'
        f"<h2>{escape(card.name)}</h2>"
        "<dl>"
        f"<dt>Username</dt><dd>{escape(card.username)}</dd>"
        f"<dt>Sign-in code</dt>{code}"
        "</dl>"
        f'<p class="where">{escape(klass.name)} · sign in at {escape(sign_in_at)} '
        "with your username and code. Keep this card like a key.</p>"
        "</section>"
    )


def render(klass: SheetClass, cards: list[Card], *, sign_in_at: str, made_at: str) -> str:
    """The whole page."""
    with_codes = any(c.code is not None for c in cards)
    note = (
        "These codes are shown this once: print this page now. To get a lost code, reset "
        "it (the old one stops working). Use your browser's Print command; the cards come "
        "out two across, ready to cut."
        if with_codes
        else "Codes are not stored readably, so this sheet has a box on each card to write "
        "one in. Reset a student's code to print it."
    )
    body = (
        f'<main class="cards">{"".join(_card(c, klass, sign_in_at) for c in cards)}</main>'
        if cards
        else '<p class="empty">This class has no students yet.</p>'
    )
    title = f"{klass.name} — sign-in cards"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="meta">{escape(_grade(klass.grade_level))} · class code '
        f"{escape(show(klass.code))} · {escape(klass.teacher)} · {len(cards)} "
        f"{'card' if len(cards) == 1 else 'cards'} · {escape(made_at)}</p>"
        f'<p class="note">{escape(note)}</p></header>'
        f"{body}</body></html>"
    )

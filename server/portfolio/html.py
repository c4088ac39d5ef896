"""The portfolio as one self-contained HTML file (pure: no I/O).

Inline CSS only, no script, no external resource (a Content-Security-Policy ``<meta>``
forbids loading any); a print stylesheet puts each piece on its own page and prints in
black on white.  Every text from a user goes through :func:`esc`: HTML-escaped, and any
character HTML does not allow as text (controls, non-characters) replaced by U+FFFD.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

_NOT_HTML = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]"
)

TRAIT_NAMES = {
    "ideas": "Ideas",
    "organization": "Organization",
    "voice": "Voice",
    "word_choice": "Word choice",
    "sentence_fluency": "Sentence fluency",
    "conventions": "Conventions",
    "presentation": "Presentation",
}

CSS = """
:root { color-scheme: light; }
body { font: 16px/1.5 Georgia, 'Times New Roman', serif; color: #111; background: #fff;
  margin: 0 auto; max-width: 46rem; padding: 1.5rem; }
h1 { font-size: 1.8rem; margin: 0 0 .25rem; }
h2 { font-size: 1.35rem; margin: 0 0 .25rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .25rem; }
.meta { color: #333; margin: 0 0 .75rem; }
article { border-top: 2px solid #111; padding-top: 1rem; margin-top: 2rem; }
.text { white-space: pre-wrap; border-left: 3px solid #555; padding-left: .75rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #555; padding: .2rem .5rem; text-align: left; }
.hidden-note { font-style: italic; }
ul { padding-left: 1.25rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; color: #000; background: #fff; }
  article { break-before: page; page-break-before: always; border-top: none; margin: 0; }
  article, .text, table { break-inside: avoid-page; }
  a { color: #000; text-decoration: underline; }
  a[href]::after { content: " (" attr(href) ")"; font-size: 9pt; }
}
"""


def esc(text: object) -> str:
    """User text as HTML text: escaped, quotes included; refused characters as U+FFFD."""
    return html.escape(_NOT_HTML.sub("\ufffd", str(text)), quote=True)


def _piece(p: Mapping[str, Any], base_url: str) -> str:
    traits = p.get("traits") or {}
    rows = "".join(
        f"<tr><th scope='row'>{esc(TRAIT_NAMES.get(t, t))}</th><td>{int(v)}</td></tr>"
        for t, v in traits.items()
    )
    table = (
        f"<table><caption>Trait scores (1–6)</caption>{rows}</table>"
        if rows
        else "<p>No trait scores.</p>"
    )
    suggestions = "".join(
        f"<li><q>{esc(s['sentence'])}</q> — {esc(s['advice'])}</li>" for s in p["suggestions"]
    )
    received = "".join(
        f"<li><strong>Strength:</strong> {esc(r['strength'])}<br>"
        f"<strong>Suggestion:</strong> {esc(r['suggestion'])}<br>"
        f"<strong>Rating:</strong> {int(r['rating'])}/6</li>"
        for r in p["reviews_received"]
    )
    given = "".join(
        f"<li>To {esc(r['to'])}: <strong>Strength:</strong> {esc(r['strength'])}<br>"
        f"<strong>Suggestion:</strong> {esc(r['suggestion'])}<br>"
        f"<strong>Helpfulness:</strong> {int(r['helpfulness'])}/6"
        f"{' (hidden by a moderator)' if r.get('hidden') else ''}</li>"
        for r in p["reviews_given"]
    )
    replay = p.get("replay")
    link = (
        f"<p><a href='{esc(base_url + replay['page'])}'>Watch the replay</a></p>" if replay else ""
    )
    hidden = (
        "<p class='hidden-note'>A moderator hid this piece from others.</p>" if p["hidden"] else ""
    )
    return (
        f"<article aria-labelledby='p-{esc(p['match_id'])}'>"
        f"<h2 id='p-{esc(p['match_id'])}'>{esc(p['prompt']['title'])}</h2>"
        f"<p class='meta'>{esc(p['date'][:10])} · focus: "
        f"{esc(TRAIT_NAMES.get(p['focus'], p['focus']))} · {int(p['words'])} words"
        f"{' · rank ' + str(int(p['rank'])) if p.get('rank') is not None else ''}</p>"
        f"{hidden}<div class='text'>{esc(p['text'])}</div>"
        f"<h3>Scores</h3>{table}"
        f"<h3>The AI's suggestions</h3>"
        f"{'<ul>' + suggestions + '</ul>' if suggestions else '<p>None.</p>'}"
        f"<h3>Reviews you received</h3>"
        f"{'<ul>' + received + '</ul>' if received else '<p>None.</p>'}"
        f"<h3>Reviews you gave</h3>{'<ul>' + given + '</ul>' if given else '<p>None.</p>'}"
        f"{link}</article>"
    )


def render(
    name: str, exported_at: str, pieces: Sequence[Mapping[str, Any]], base_url: str = ""
) -> str:
    """The whole document."""
    body = "".join(_piece(p, base_url) for p in pieces) or "<p>No pieces yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Portfolio of {esc(name)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>Portfolio of {esc(name)}</h1>"
        f"<p class='meta'>Exported {esc(exported_at[:10])} from Quill Arena · "
        f"{len(pieces)} pieces</p></header><main>{body}</main></body></html>"
    )

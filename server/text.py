"""The one rule for text the system accepts from outside.

Every string that enters — REST bodies, WebSocket frames, uploads, later imports — is
checked with :func:`text_problem` where it enters, and refused when it breaks the rule
(``bad_value`` on the wire, 422 ``validation_failed`` over REST).  Refusing rather than
silently rewriting keeps positions in drafts meaningful (a client's code-point offsets
would drift if the server dropped characters) and tells a careless client what it did.

Accepted: every Unicode scalar value except

- U+0000 (PostgreSQL ``text`` cannot store it) and the other C0 controls
  U+0001–U+001F, except TAB (U+0009) and LINE FEED (U+000A) — so no carriage return:
  clients send ``\\n`` line ends;
- DELETE (U+007F) and the C1 controls U+0080–U+009F;
- surrogate code points U+D800–U+DFFF (a lone surrogate is not text and cannot be
  encoded as UTF-8);
- the non-characters U+FDD0–U+FDEF and U+nFFFE / U+nFFFF of every plane.

Everything else (any script, emoji, combining marks, format characters) is stored as
sent; narrower fields (handles, display names) add their own rules on top.
:func:`scrub` is for text that is already inside the system from before the rule
(the dead-letter retry): it replaces each refused character with U+FFFD.
"""

from __future__ import annotations

import re
import unicodedata

_NONCHARACTERS = "".join(
    chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17)
)
_REFUSED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + _NONCHARACTERS + "]"
)

REPLACEMENT = "\ufffd"


def _name(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x20 or 0x7F <= cp <= 0x9F:
        kind = "a control character"
    elif 0xD800 <= cp <= 0xDFFF:
        kind = "a lone surrogate"
    else:
        kind = "a non-character"
    label = unicodedata.name(ch, "")
    return f"U+{cp:04X} ({label.lower() or kind})" if label else f"U+{cp:04X} ({kind})"


def text_problem(text: str) -> str | None:
    """Why ``text`` may not be stored, or None when it follows the rule."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    return (
        f"contains {_name(found.group())} at position {found.start()}; "
        "text may not hold control characters other than tab and newline, "
        "lone surrogates or non-characters"
    )


def is_acceptable(text: str) -> bool:
    return _REFUSED.search(text) is None


def scrub(text: str) -> str:
    """``text`` with every refused character replaced by U+FFFD."""
    return _REFUSED.sub(REPLACEMENT, text)

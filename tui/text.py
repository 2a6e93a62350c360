"""Make text that came from Canvas safe to put on a terminal.

Names, comments and grades are user data: they may hold escape sequences, other control
characters or bidirectional overrides that would repaint or reorder the screen. Textual markup is
a separate trap, avoided by never passing user data through markup (see `tui.widgets`).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["safe_text", "clip"]

# C0 and C1 controls (ESC, BEL, CR, ...), DEL, and the bidi embedding/override/isolate marks
# that could make a name display as something else. Ordinary RTL letters are kept.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_text(value: object) -> str:
    """The text, with everything that could move the cursor or reorder the line replaced."""
    text = "" if value is None else str(value)
    text = _UNSAFE.sub("\N{REPLACEMENT CHARACTER}", text)
    # Unassigned and private-use code points have no known width: show them as replacements too.
    return "".join(
        ch if unicodedata.category(ch) not in ("Cn", "Co", "Cs") else "\N{REPLACEMENT CHARACTER}"
        for ch in text
    )


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"

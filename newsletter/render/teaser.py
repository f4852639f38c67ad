"""Cut an abstract into a teaser that ends at a sentence, or failing that a word."""

from __future__ import annotations

import re

ELLIPSIS = "…"
# A sentence ends with . ! or ? followed by a space; "e.g." and "et al." may fool
# it, which only makes a teaser a little shorter than it could be.
_SENTENCE_END = re.compile(r"[.!?](?=\s)")


def teaser(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its longest prefix that ends a sentence.

    A sentence cut is used only when it keeps at least half of the limit; otherwise
    the text is cut at the last word boundary and ends with an ellipsis, so a
    short first sentence does not leave a one-line teaser.
    """
    if len(text) <= limit:
        return text
    window = text[: limit + 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] >= limit // 2:
        return window[: ends[-1]]
    cut = window.rfind(" ", 0, limit)
    if cut < limit // 2:
        cut = limit - 1  # one very long word (a URL): cut inside it
    return window[:cut].rstrip(" ,;:-–—(") + ELLIPSIS

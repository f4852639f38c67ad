"""The teaser of a card: the abstract's sentence that says what the paper does, fitted.

An abstract usually opens with the field's background ("Large language models
have reshaped...") and says what *this* paper does a sentence or three later
("We propose...", "This paper presents...", "Here we...").  A card shows one
sentence, so :func:`contribution` picks that one:

1. split the abstract into sentences (:func:`sentences`; "e.g.", "et al." and
   decimals do not end one);
2. the first sentence that states the contribution with a strong verb
   (``we propose / introduce / present / ...``, ``this paper / work ...``,
   ``here we ...``, ``our contribution ...``) wins; failing that the first
   with a weaker one (``we show / find / study ...``); failing that the first
   sentence that is not a background opener, i.e. the first sentence;
3. a lead-in that says nothing ("In this paper, we propose" → "We propose") is
   dropped.

:func:`teaser` fits the chosen sentence to the plan's length: whole if it fits,
else cut at a word with an ellipsis.  Nothing here knows about HTML: the text is
cleaned before and escaped after.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

ELLIPSIS = "…"
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Eq.", "approx.", "resp.")
# A sentence ends at . ! or ? followed by a space and an upper-case letter, a digit
# or an opening quote/bracket.
# The punctuation is matched, not looked behind for, so the engine scans for it
# quickly; the sentence ends after it (group 1 is the gap).
_SENTENCE_END = re.compile(r"[.!?]([\"'”’)\]]?\s+)(?=[A-Z0-9\"“(\[])")
_VERBS = (
    r"(?:propose|introduce|present|develop|design|build|release|describe|construct|devise"
    r"|contribute|create|curate|formulate|offer|unveil|establish|put forward|pioneer"
    r"|reformulate|rethink|expand|extend|tackle|address|bridge|solve|take)"
)
_STRONG = re.compile(
    r"\b(?:in )?this (?:paper|work|study|report|article|technical report|survey|thesis"
    r"|position paper)\b"
    r"|\bhere(?:in)?,? we\b"
    r"|\bthe (?:present|current) (?:paper|work|study)\b"
    r"|\bour (?:main |key |primary )?contributions?\b"
    r"|\bwe\b(?:\W+\w+){0,3}?\W+" + _VERBS + r"\b",
    re.IGNORECASE,
)
_WEAK = re.compile(
    r"\b(?:we|our (?:\w+ )?(?:work|paper|study|results?|experiments?|analysis|method|approach))"
    r"(?:\W+\w+){0,2}?\W+"
    r"(?:show|demonstrate|find|reveal|study|investigate|explore|examine|analy[sz]e|identify"
    r"|train|leverage|focus|aim|seek|conduct|revisit|evaluate|benchmark|derive|prove|adapt"
    r"|apply|report|provide|achieve|observe|argue|explain|compare|characteri[sz]e)\b",
    re.IGNORECASE,
)
_NAMED = re.compile(r"^[A-Z][\w.-]*(?: \([^)]*\))?,? (?:is )?(?:a|an) (?:new|novel)\b")
_OPENING = 20
"""Words of a sentence searched for the contribution: past them, a "we propose" is a clause
about something else ("..., which we propose to fix in future work")."""
_DROP_LEAD = re.compile(
    r"^(?:in this (?:paper|work|study|report|article)|here(?:in)?|to (?:this|that) end),?"
    r"\s+(?=we\b)",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """``text`` split into sentences, abbreviations and decimals kept inside one."""
    return list(_sentences(text))


def _sentences(text: str) -> Iterator[str]:
    """:func:`sentences`, one at a time (the contribution is usually among the first)."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start(1)
        head = text[start:end].rstrip("\"'”’)]")
        if head.endswith(_ABBREVIATIONS) or _ends_with_initial(head):
            continue  # "et al. Show", "J. Smith"
        found = text[start:end].strip()
        if found:
            yield found
        start = match.end()
    tail = text[start:].strip()
    if tail:
        yield tail


def _ends_with_initial(head: str) -> bool:
    """Whether ``head`` ends with a lone capital and a full stop ("J."): ``\\b[A-Z]\\.$``,
    without searching the whole sentence for it."""
    return (
        len(head) >= 2
        and head[-1] == "."
        and "A" <= head[-2] <= "Z"
        and (len(head) == 2 or not (head[-3].isalnum() or head[-3] == "_"))
    )


def contribution(abstract: str) -> str:
    """The abstract's sentence that states what the paper does (see the module doc)."""
    # Sentences and their openings made as the search goes: a strong sentence is usually
    # among the first few, and the rest of the abstract is then never split.
    pairs: list[tuple[str, str]] = []
    chosen = None
    for s in _sentences(abstract):
        opening = " ".join(s.split(None, _OPENING)[:_OPENING])
        pairs.append((s, opening))
        if _strong(opening) or _NAMED.search(s):
            chosen = s
            break
    else:
        if not pairs:
            return ""
        chosen = next((s for s, o in pairs if _weak(o)), None) or pairs[0][0]
    dropped = _DROP_LEAD.sub("", chosen)
    if dropped != chosen:
        dropped = dropped[0].upper() + dropped[1:]
    return dropped


_STRONG_WORDS = ("this", "here", "present", "current", "our", "we")
"""A word every :data:`_STRONG` match holds, checked before the regex runs."""
_WEAK_WORDS = ("our", "we")
"""A word every :data:`_WEAK` match holds."""
_STRONG_LOWER = re.compile(_STRONG.pattern)
_WEAK_LOWER = re.compile(_WEAK.pattern)
"""The same patterns (all lower case) without ``re.IGNORECASE``, for lower-cased ASCII text:
an ignore-case search cannot scan ahead for a literal, and is a third slower."""


def _strong(opening: str) -> bool:
    if not opening.isascii():  # lower() agrees with re.IGNORECASE on ASCII only
        return _STRONG.search(opening) is not None
    lower = opening.lower()
    # _STRONG_WORDS, spelled out: a generator per sentence costs more than the tests
    if not (
        "we" in lower
        or "this" in lower
        or "our" in lower
        or "here" in lower
        or "present" in lower
        or "current" in lower
    ):
        return False
    return _STRONG_LOWER.search(lower) is not None


def _weak(opening: str) -> bool:
    if not opening.isascii():
        return _WEAK.search(opening) is not None
    lower = opening.lower()
    return ("we" in lower or "our" in lower) and _WEAK_LOWER.search(lower) is not None


def teaser(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else cut at a word, with an ellipsis."""
    if len(text) <= limit:
        return text
    window = text[: limit + 1]
    cut = window.rfind(" ", 0, limit)
    if cut < limit // 2:
        cut = limit - 1  # one very long word (a URL): cut inside it
    return window[:cut].rstrip(" ,;:-–—(") + ELLIPSIS

"""The repair rules as they were before issue 14 (a per-character loop, no literal
pre-checks): the reference ``bench_startup.py`` measures today's rules against, on
the same text.  A copy of ``newsletter/repair.py`` at 3fb2f81; not imported by the package."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable

__all__ = ["BIDI_CONTROLS", "drop_bidi_controls", "repair_text"]

# ---------------------------------------------------------------------------
# HTML entities

# Only entities closed by ";": ``html.unescape`` alone would also turn the
# legacy forms without ";" into characters, so "X&parameters" would become
# "X¶meters" and "Q&A" style text is at risk.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _unescape_entity(match: re.Match[str]) -> str:
    return html.unescape(match.group(0))


# Stripped entities ("&#x2013;" → "x2013").  Four hex digits: only the
# General Punctuation code points digests actually lose (dashes, quotes,
# daggers, bullet, ellipsis, per mille, primes, guillemets).  Never after a
# digit (``0x2013`` is a hex literal, ``4096x2016`` a size) or before one.
_STRIPPED_PUNCT = re.compile(r"(?<![0-9])x(20[0-3][0-9a-fA-F])(?![0-9])")
_PUNCT_CODES = frozenset(range(0x2010, 0x2028)) | frozenset(range(0x2030, 0x203B))

# Two hex digits are far more ambiguous ("x27" is also a model name): only the
# apostrophe and the double quote, and only inside a word ("donx27t",
# "modelx27s"), where the next letter cannot be read as a third hex digit.
_STRIPPED_QUOTE = re.compile(r"(?<=[A-Za-z])x(2[27])(?=[g-zG-Z])")


def _stripped_punct(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return chr(code) if code in _PUNCT_CODES else match.group(0)


def _stripped_quote(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


# ---------------------------------------------------------------------------
# LaTeX that kept its backslash: unambiguous by construction.

_LATEX_SYMBOLS: dict[str, str] = {
    "times": "×",
    "cdot": "·",
    "sim": "∼",
    "approx": "≈",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "pm": "±",
    "mp": "∓",
    "rightarrow": "→",
    "Rightarrow": "⇒",
    "leftarrow": "←",
    "leftrightarrow": "↔",
    "to": "→",
    "infty": "∞",
    "ll": "≪",
    "gg": "≫",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "lambda": "λ",
    "mu": "μ",
    "sigma": "σ",
    "tau": "τ",
    "theta": "θ",
    "ell": "ℓ",
}
_LATEX_COMMAND = re.compile(
    r"\\(" + "|".join(sorted(_LATEX_SYMBOLS, key=len, reverse=True)) + r")(?![A-Za-z])"
)
_LATEX_ESCAPE = re.compile(r"\\([%&#_$])")
_LATEX_ABBREV = re.compile(r"\\(ie|eg|etc)(?![A-Za-z])\.?")
_ABBREVIATIONS = {"ie": "i.e.", "eg": "e.g.", "etc": "etc."}
_LATEX_FORMAT = re.compile(r"\\(?:textbf|textit|emph|texttt|textrm|textsc|underline)\{([^{}\\]*)\}")
_LATEX_FORMAT_GROUP = re.compile(r"\{\\(?:it|bf|em|tt|rm|sc)\s+([^{}\\]*)\}")
_LATEX_ACCENT = re.compile(r"\\([\"'`^~])\{?([A-Za-z])\}?")
_ACCENTS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303"}


def _latex_command(match: re.Match[str]) -> str:
    return _LATEX_SYMBOLS[match.group(1)]


def _latex_abbrev(match: re.Match[str]) -> str:
    return _ABBREVIATIONS[match.group(1)]


def _latex_accent(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFC", match.group(2) + _ACCENTS[match.group(1)])


# ---------------------------------------------------------------------------
# LaTeX that lost its backslash: each narrowed to contexts prose never has.

_LOST_LATEX: tuple[tuple[re.Pattern[str], str], ...] = (
    # "3.18times", "16times16", "3times," — prose writes "3 times".
    (re.compile(r"(?<=[0-9])times(?![a-z])"), "×"),
    # "HyperZcdotZcdotW", "2cdot3", "Z{cdot}W": no word has "cdot" before a
    # capital, a digit or a brace.
    (re.compile(r"(?<=[A-Za-z0-9{])cdot(?=[A-Z0-9{}])"), "·"),
    # "kge3", "nleq5": a lone consonant variable, the relation, a digit.
    (re.compile(r"(?<![A-Za-z0-9])([b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z])geq?(?=[0-9])"), r"\1≥"),
    (re.compile(r"(?<![A-Za-z0-9])([b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z])leq?(?=[0-9])"), r"\1≤"),
    # "0.5pm0.1": digits on both sides ("3pm" alone is a time of day).
    (re.compile(r"(?<=[0-9])pm(?=[0-9])"), "±"),
    # "approx10": "approx." is an English abbreviation, "approx" + digit is not.
    (re.compile(r"(?<![A-Za-z])approx(?=[0-9])"), "≈"),
    # "Arightarrow B": no word contains these.
    (re.compile(r"(?<![a-z])leftrightarrow(?![a-z])"), "↔"),
    (re.compile(r"(?<![a-z])rightarrow(?![a-z])"), "→"),
)


def _lost_latex(text: str) -> str:
    for pattern, replacement in _LOST_LATEX:
        text = pattern.sub(replacement, text)
    return text


# LaTeX's non-breaking space before a parenthesis: "distillation~(KD)".
_LATEX_TILDE = re.compile(r"(?<=[A-Za-z])~(?=\()")

# ---------------------------------------------------------------------------
# Invisible characters and whitespace

_INVISIBLE = frozenset("\u200b\ufeff\u00ad")

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""The bidirectional formatting characters: the embeddings and overrides
(U+202A-U+202E), the isolates (U+2066-U+2069) and the marks (U+200E LRM,
U+200F RLM, U+061C ALM).  One U+202E in a title mirrors the rest of the line,
and of the page around it (a "Trojan Source" spoof); the marks are removed too,
so no output has to decide which of them are harmless.  Removed where a paper
is made (:mod:`newsletter.listings`) and again by the renderers."""
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def drop_bidi_controls(text: str) -> str:
    """``text`` without any of :data:`BIDI_CONTROLS`."""
    return _BIDI.sub("", text) if not text.isascii() else text


_WHITESPACE = re.compile(r"\s+")


def _drop_invisible(text: str) -> str:
    """Drop control, surrogate and zero-width characters; whitespace is kept for collapsing."""
    return "".join(
        ch
        for ch in text
        if ch.isspace() or (ch not in _INVISIBLE and unicodedata.category(ch) not in ("Cc", "Cs"))
    )


def _collapse_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


_RULES: tuple[Callable[[str], str], ...] = (
    _drop_invisible,
    lambda s: _ENTITY.sub(_unescape_entity, s),
    lambda s: _STRIPPED_PUNCT.sub(_stripped_punct, s),
    lambda s: _STRIPPED_QUOTE.sub(_stripped_quote, s),
    lambda s: _LATEX_ESCAPE.sub(r"\1", s),
    lambda s: _LATEX_FORMAT.sub(r"\1", s),
    lambda s: _LATEX_FORMAT_GROUP.sub(r"\1", s),
    lambda s: _LATEX_ACCENT.sub(_latex_accent, s),
    lambda s: _LATEX_ABBREV.sub(_latex_abbrev, s),
    lambda s: _LATEX_COMMAND.sub(_latex_command, s),
    _lost_latex,
    lambda s: _LATEX_TILDE.sub(" ", s),
    _collapse_whitespace,
)

# Each pass makes the text shorter or removes a backslash or tilde, so the
# loop ends; the cap only guards against a rule added later that does not.
_MAX_PASSES = 32


def _repair_once(text: str) -> str:
    for rule in _RULES:
        text = rule(text)
    return text


def repair_text(s: str) -> str:
    """Return ``s`` with entity, LaTeX, control-character and whitespace artefacts repaired.

    Rules are applied until the text stops changing, so the result is a fixed
    point: repairing it again changes nothing (``&amp;amp;`` becomes ``&``, not
    ``&amp;``).
    """
    text = s
    for _ in range(_MAX_PASSES):
        repaired = _repair_once(text)
        if repaired == text:
            return repaired
        text = repaired
    return text

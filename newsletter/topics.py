"""Topic taxonomy and classifier: which section of the edition a paper goes to.

The taxonomy is data in ``config.toml`` (``[[topics]]`` tables), so an operator
can rename, add, drop or retune topics without touching code; see
``docs/topics.md`` for the rule format.  Each topic scores a paper by rules a
person can read and argue with:

* ``keywords``: phrases and their points.  A phrase matches whole words in any
  case, with spaces and hyphens interchangeable (``"vision-language"`` also
  matches "vision language" and "visionlanguage"), a plural ``s``/``es``, and
  ``*`` at a word's end for any ending (``"quantiz*"``).  A word written with a
  capital letter matches only that spelling (``"LLM"``, ``"ViT"``), which keeps
  acronyms from matching ordinary words.
* ``patterns``: regular expressions and their points, for what phrases cannot say.
* ``categories``: arXiv categories (``"cs.CL"``) or archives (``"q-bio"``) that
  hint at the topic when a source knows them.

Why points and not a learned model: the hand labels are few, the rules must be
explainable (``newsletter explain`` prints them) and an operator must be able to
fix a misfiled paper by editing one line.

Scoring (constants below): a phrase in the title counts :data:`TITLE_WEIGHT`
times its points, because a title says what a paper is *about* while an
abstract also mentions what it merely uses; in the abstract each occurrence
counts its points, at most :data:`ABSTRACT_CAP` occurrences, so a long
abstract cannot drown the title.  Where two phrases overlap, the longer one
wins and the text is counted once ("vision-language model" is multimodal, not
also vision).  The highest score is the primary topic (ties: higher
``priority``, then taxonomy order); other topics scoring at least
:data:`MIN_SCORE` and :data:`SECONDARY_SHARE` of the primary's score follow it.
When no topic reaches :data:`MIN_SCORE`, the paper goes to the fallback topic.

Everything here is pure: :func:`classify` takes text and returns a value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

TITLE_WEIGHT = 3.0
"""How many times a phrase in the title counts more than one in the abstract."""

ABSTRACT_CAP = 3
"""Occurrences of one phrase in an abstract that count; repetition past this adds nothing."""

PRIMARY_CATEGORY_POINTS = 3.0
"""Points for a topic hinted by the paper's primary (first) arXiv category."""

CROSS_LIST_POINTS = 1.5
"""Points for a topic hinted by one of the paper's other arXiv categories."""

MIN_SCORE = 3.0
"""Least score for a topic to count at all: one weak word in an abstract is not a topic."""

SECONDARY_SHARE = 0.4
"""A further topic must score at least this share of the primary's score."""

TOPIC_KEYS = ("id", "title", "scope", "priority", "fallback", "categories", "keywords", "patterns")

_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_PART = re.compile(r"[^\W_]+\*?")
_CATEGORY = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")
# Words, and any other mark that is not a space or hyphen as a one-character
# token that breaks a phrase: "language. Model" is not "language model".
_TOKEN = re.compile(r"[^\W_]+|[^\s\-‐‑–]")
_CACHE_SIZE = 200_000
_MIN_WILDCARD = 3


@dataclass(frozen=True)
class Topic:
    """One section of the edition and the rules that put papers in it.

    ``keywords`` and ``patterns`` are (text, points) pairs as written in the
    config; ``fallback`` marks the topic that takes papers no rule matches.
    """

    id: str
    title: str
    scope: str = ""
    priority: int = 0
    fallback: bool = False
    categories: tuple[str, ...] = ()
    keywords: tuple[tuple[str, float], ...] = ()
    patterns: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Classification:
    """Where a paper goes and why.

    ``topics`` holds every matching topic, ``primary`` first.  ``reasons`` are
    human-readable lines naming each rule that fired and each topic's score,
    in the order ``newsletter explain`` prints them; ``scores`` the raw
    (topic id, score) pairs, highest first.
    """

    primary: str
    topics: tuple[str, ...]
    reasons: tuple[str, ...] = ()
    scores: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class _Part:
    """One word of a keyword: the text to compare and how to compare it."""

    text: str
    wildcard: bool
    exact_case: bool

    @cached_property
    def plain(self) -> frozenset[str]:
        """The lowercase words this part accepts, when that is a fixed set (else empty)."""
        if self.wildcard or self.exact_case:
            return frozenset()
        return frozenset((self.text, self.text + "s", self.text + "es"))

    def matches(self, word: str, lower: str) -> bool:
        w = word if self.exact_case else lower
        if self.wildcard:
            return w.startswith(self.text)
        return w == self.text or w == self.text + "s" or w == self.text + "es"


@dataclass(frozen=True)
class _Form:
    """One way a keyword can appear: its words in order, for keyword ``key``."""

    parts: tuple[_Part, ...]
    key: int

    @property
    def rank(self) -> tuple[int, int]:
        """Longer forms are tried first, so the most specific phrase wins."""
        return (-len(self.parts), -sum(len(p.text) for p in self.parts))


@dataclass(frozen=True)
class _Matcher:
    """The keywords of a whole taxonomy, indexed by first word for one pass over a text.

    ``cache`` remembers, per word as written, the keyword forms that may start
    there (most words: none), so a text costs one dictionary look-up per word.
    """

    labels: tuple[str, ...]
    exact: Mapping[str, tuple[_Form, ...]]
    exact_case: Mapping[str, tuple[_Form, ...]]
    prefix: Mapping[str, tuple[_Form, ...]]
    prefix_case: Mapping[str, tuple[_Form, ...]]
    cache: dict[str, tuple[_Form, ...]] = field(default_factory=dict, compare=False)

    def count(self, text: str) -> dict[int, int]:
        """How often each keyword occurs in ``text``, longest phrase first, no overlaps."""
        found: dict[int, int] = {}
        tokens = _TOKEN.findall(text)
        cache = self.cache
        i, n = 0, len(tokens)
        while i < n:
            forms = cache.get(tokens[i])
            if forms is None:
                forms = self._starting(tokens[i])
            step = 1
            after = None
            for form in forms:
                rest = form.parts[1:]
                if rest:
                    plain = rest[0].plain
                    if plain:  # the cheap test that rules out most phrases
                        if after is None:
                            after = tokens[i + 1].lower() if i + 1 < n else ""
                        if after not in plain:
                            continue
                    if not _continues(rest, tokens, i + 1):
                        continue
                found[form.key] = found.get(form.key, 0) + 1
                step = len(form.parts)
                break
            i += step
        return found

    def _starting(self, word: str) -> tuple[_Form, ...]:
        """The forms whose first word matches ``word``, longest first (and cached)."""
        low = word.lower()
        candidates: list[_Form] = []
        for key in _stems(low):
            candidates += self.exact.get(key, ())
        candidates += self.prefix.get(low[:_MIN_WILDCARD], ())
        if word != low:
            for key in _stems(word):
                candidates += self.exact_case.get(key, ())
            candidates += self.prefix_case.get(word[:_MIN_WILDCARD], ())
        forms = tuple(
            sorted(
                {f for f in candidates if f.parts[0].matches(word, low)},
                key=lambda f: (f.rank, f.key),
            )
        )
        if len(self.cache) >= _CACHE_SIZE:
            self.cache.clear()
        self.cache[word] = forms
        return forms


def _stems(word: str) -> Iterable[str]:
    """The word and its singulars, for looking it up among keywords."""
    yield word
    if word.endswith("s"):
        yield word[:-1]
        if word.endswith("es"):
            yield word[:-2]


def _continues(rest: tuple[_Part, ...], tokens: list[str], j: int) -> bool:
    """Whether the words from ``j`` on are the rest of a phrase.

    Tokens are words and single punctuation marks; spaces and hyphens are not
    tokens, so consecutive word tokens are one phrase.
    """
    if j + len(rest) > len(tokens):
        return False
    for k, part in enumerate(rest):
        word = tokens[j + k]
        if not part.matches(word, word.lower()):
            return False
    return True


@dataclass(frozen=True)
class _Compiled:
    """A taxonomy's rules compiled once, so classifying stays fast."""

    matcher: _Matcher
    keyword_rules: tuple[tuple[tuple[int, float], ...], ...]
    patterns: tuple[tuple[int, re.Pattern[str], str, float], ...]


@dataclass(frozen=True)
class Taxonomy:
    """The topics of an edition, in section order.

    The fallback topic is the one marked ``fallback``, else the one with id
    ``other``, else the last one.  Rules are compiled on first use and kept.
    """

    topics: tuple[Topic, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._index.update({t.id: i for i, t in enumerate(self.topics)})

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)

    def title(self, topic_id: str) -> str:
        """A topic's section title; an unknown id is shown as itself."""
        i = self._index.get(topic_id)
        return topic_id if i is None else self.topics[i].title

    @cached_property
    def fallback(self) -> str:
        for t in self.topics:
            if t.fallback:
                return t.id
        return "other" if "other" in self._index or not self.topics else self.topics[-1].id

    @cached_property
    def _compiled(self) -> _Compiled:
        return _compile(self.topics)


def _compile(topics: Sequence[Topic]) -> _Compiled:
    keys: dict[tuple[tuple[str, bool, bool], ...], int] = {}
    labels: list[str] = []
    rules: list[list[tuple[int, float]]] = []
    forms: list[_Form] = []
    patterns: list[tuple[int, re.Pattern[str], str, float]] = []
    for ti, topic in enumerate(topics):
        if topic.fallback:
            continue
        for phrase, points in topic.keywords:
            parts = _parts(phrase)
            ident = tuple((p.text, p.wildcard, p.exact_case) for p in parts)
            key = keys.get(ident)
            if key is None:
                key = keys[ident] = len(labels)
                labels.append(phrase.strip())
                rules.append([])
                forms.append(_Form(parts, key))
                if len(parts) > 1:
                    forms.append(_Form((_glued(parts),), key))
            rules[key].append((ti, float(points)))
        for source, points in topic.patterns:
            patterns.append((ti, re.compile(source), source, float(points)))
    index: dict[str, dict[str, list[_Form]]] = {
        "exact": {},
        "exact_case": {},
        "prefix": {},
        "prefix_case": {},
    }
    for form in forms:
        first = form.parts[0]
        name = ("prefix" if first.wildcard else "exact") + ("_case" if first.exact_case else "")
        text = first.text[:_MIN_WILDCARD] if first.wildcard else first.text
        index[name].setdefault(text, []).append(form)
    frozen = {
        name: {k: tuple(sorted(v, key=lambda f: f.rank)) for k, v in table.items()}
        for name, table in index.items()
    }
    matcher = _Matcher(tuple(labels), **frozen)
    return _Compiled(matcher, tuple(tuple(r) for r in rules), tuple(patterns))


def _parts(phrase: str) -> tuple[_Part, ...]:
    words = [w for w in re.split(r"[\s\-]+", phrase.strip()) if w]
    return tuple(
        _Part(
            text=w.rstrip("*"),
            wildcard=w.endswith("*"),
            exact_case=w != w.lower(),
        )
        for w in words
    )


def _glued(parts: tuple[_Part, ...]) -> _Part:
    """The phrase written as one word ("multimodal" for "multi-modal")."""
    exact_case = any(p.exact_case for p in parts)
    text = "".join(p.text if exact_case else p.text.lower() for p in parts)
    return _Part(text=text, wildcard=parts[-1].wildcard, exact_case=exact_case)


def classify(
    title: str, abstract: str, categories: tuple[str, ...], taxonomy: Taxonomy
) -> Classification:
    """Score every topic for one paper and pick its primary and further topics.

    Pure and deterministic: the same text and taxonomy give the same result.
    """
    compiled = taxonomy._compiled
    topics = taxonomy.topics
    scores = [0.0] * len(topics)
    why: list[list[str]] = [[] for _ in topics]

    def add(ti: int, points: float, reason: str) -> None:
        scores[ti] += points
        why[ti].append(f"{reason} {_signed(points)}")

    in_title = compiled.matcher.count(title)
    in_abstract = compiled.matcher.count(abstract)
    labels = compiled.matcher.labels
    for key in sorted(in_title):
        for ti, points in compiled.keyword_rules[key]:
            add(ti, points * TITLE_WEIGHT, f'title "{labels[key]}"')
    for key in sorted(in_abstract):
        times = min(in_abstract[key], ABSTRACT_CAP)
        for ti, points in compiled.keyword_rules[key]:
            add(ti, points * times, f'abstract "{labels[key]}" x{times}')
    for ti, rx, source, points in compiled.patterns:
        if rx.search(title):
            add(ti, points * TITLE_WEIGHT, f"title /{source}/")
        times = min(sum(1 for _ in rx.finditer(abstract)), ABSTRACT_CAP)
        if times:
            add(ti, points * times, f"abstract /{source}/ x{times}")
    for ti, topic in enumerate(topics):
        for k, category in enumerate(categories):
            if not topic.fallback and _category_hint(topic.categories, category):
                points = PRIMARY_CATEGORY_POINTS if k == 0 else CROSS_LIST_POINTS
                add(ti, points, f"category {category}")
                break

    order = sorted(
        (ti for ti, t in enumerate(topics) if not t.fallback and scores[ti] >= MIN_SCORE),
        key=lambda ti: (-scores[ti], -topics[ti].priority, ti),
    )
    if order:
        top = scores[order[0]]
        chosen = [ti for ti in order if scores[ti] >= SECONDARY_SHARE * top]
        primary = topics[chosen[0]].id
        ids = tuple(topics[ti].id for ti in chosen)
        verdict = f"primary {primary}: highest score {_num(top)}"
        if len(ids) > 1:
            verdict += f"; also {', '.join(ids[1:])} (at least {_num(SECONDARY_SHARE * top)})"
    else:
        primary = taxonomy.fallback
        ids = (primary,)
        verdict = f"primary {primary}: no topic reached {_num(MIN_SCORE)} points, the fallback"
    ranked = sorted(
        (ti for ti in range(len(topics)) if why[ti]),
        key=lambda ti: (-scores[ti], -topics[ti].priority, ti),
    )
    reasons = [verdict] + [
        f"{topics[ti].id} {_num(scores[ti])}: {'; '.join(why[ti])}" for ti in ranked
    ]
    return Classification(
        primary=primary,
        topics=ids,
        reasons=tuple(reasons),
        scores=tuple((topics[ti].id, round(scores[ti], 3)) for ti in ranked),
    )


def _category_hint(hints: tuple[str, ...], category: str) -> bool:
    return any(category == h or category.startswith(h + ".") for h in hints)


def _num(x: float) -> str:
    return f"{x:.1f}"


def _signed(x: float) -> str:
    return f"{x:+.1f}"


def explain_lines(classification: Classification) -> list[str]:
    """Lines for ``newsletter explain``: the verdict, then each scoring topic and its rules.

    The first line says where the paper landed and why (highest score, or the
    fallback when nothing reached :data:`MIN_SCORE`); each further line is one
    topic, highest score first, with every rule that fired and its points.
    """
    return list(classification.reasons)


def explain(title: str, abstract: str, categories: tuple[str, ...], taxonomy: Taxonomy) -> str:
    """:func:`explain_lines` of a paper's classification as one text block."""
    return "\n".join(explain_lines(classify(title, abstract, categories, taxonomy)))


# ---- parsing the [[topics]] tables ----


def parse_taxonomy(raw: Any) -> tuple[Taxonomy, list[str]]:
    """Validate the ``[[topics]]`` tables of a config into a :class:`Taxonomy`.

    Never raises: every problem is returned as ``topics[i].key: why`` so the
    operator sees them all at once.  With problems, the taxonomy holds the
    topics that were usable (at least a fallback ``other``), for callers that
    want to go on.
    """
    if not isinstance(raw, list):
        return _bare(), ["topics: must be an array of tables ([[topics]])"]
    if not raw:
        return _bare(), ["topics: at least one topic is needed (and one with fallback = true)"]
    problems: list[str] = []
    topics: list[Topic] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        at = f"topics[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}: must be a table")
            continue
        topic = _parse_topic(at, item, problems)
        if topic is None:
            continue
        if topic.id in seen:
            problems.append(f"{at}.id: {topic.id!r} is also the id of topics[{seen[topic.id]}]")
            continue
        seen[topic.id] = i
        topics.append(topic)
    fallbacks = [t.id for t in topics if t.fallback]
    if not fallbacks and topics:
        problems.append(
            'topics: no topic has fallback = true (one topic, e.g. id = "other", '
            "must take the papers no rule matches)"
        )
    if len(fallbacks) > 1:
        problems.append(
            f"topics: only one topic may have fallback = true, not {', '.join(fallbacks)}"
        )
    if not topics:
        return _bare(), problems
    return Taxonomy(tuple(topics)), problems


def _bare() -> Taxonomy:
    return Taxonomy((Topic("other", "Other", fallback=True),))


def _parse_topic(at: str, item: Mapping[str, Any], problems: list[str]) -> Topic | None:
    for key in sorted(set(item) - set(TOPIC_KEYS)):
        problems.append(f"{at}.{key}: unknown key (expected one of: {', '.join(TOPIC_KEYS)})")
    ok = True
    tid = item.get("id")
    if not isinstance(tid, str) or not _ID.fullmatch(tid):
        problems.append(
            f"{at}.id: required, lowercase letters, digits, '-' or '_' (it names "
            f"feeds and subscriptions), got {tid!r}"
        )
        ok = False
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{at}.title: required, a non-empty string")
        ok = False
    scope = item.get("scope", "")
    if not isinstance(scope, str):
        problems.append(f"{at}.scope: must be a string")
        ok = False
    priority = item.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        problems.append(f"{at}.priority: must be a whole number, got {priority!r}")
        ok = False
    fallback = item.get("fallback", False)
    if not isinstance(fallback, bool):
        problems.append(f"{at}.fallback: must be true or false, got {fallback!r}")
        ok = False
    categories = _parse_categories(at, item.get("categories", []), problems)
    keywords = _parse_points(at, "keywords", item.get("keywords", {}), _keyword_problem, problems)
    patterns = _parse_points(at, "patterns", item.get("patterns", {}), _pattern_problem, problems)
    if categories is None or keywords is None or patterns is None or not ok:
        return None
    if fallback is True and (keywords or patterns or categories):
        problems.append(
            f"{at}.fallback: the fallback topic takes what no rule matches, so it has no "
            "keywords, patterns or categories of its own"
        )
        return None
    if fallback is False and not (keywords or patterns or categories):
        problems.append(
            f"{at}: no keywords, patterns or categories, so no paper would ever land here"
        )
    return Topic(
        id=str(tid),
        title=str(title).strip(),
        scope=str(scope).strip(),
        priority=int(priority),
        fallback=bool(fallback),
        categories=categories,
        keywords=keywords,
        patterns=patterns,
    )


def _parse_categories(at: str, raw: Any, problems: list[str]) -> tuple[str, ...] | None:
    if not isinstance(raw, list):
        problems.append(f'{at}.categories: must be a list of arXiv categories like ["cs.CL"]')
        return None
    bad = [c for c in raw if not isinstance(c, str) or not _CATEGORY.fullmatch(c)]
    for c in bad:
        problems.append(
            f'{at}.categories: {c!r} is not an arXiv category or archive (e.g. "cs.CL", "q-bio")'
        )
    return None if bad else tuple(raw)


def _parse_points(
    at: str,
    name: str,
    raw: Any,
    check: Callable[[str], str | None],
    problems: list[str],
) -> tuple[tuple[str, float], ...] | None:
    if not isinstance(raw, dict):
        problems.append(f'{at}.{name}: must be a table of "text" = points')
        return None
    good: list[tuple[str, float]] = []
    failed = False
    for text, points in raw.items():
        where = f'{at}.{name}."{text}"'
        problem = check(text)
        if problem:
            problems.append(f"{where}: {problem}")
            failed = True
        if (
            not isinstance(points, int | float)
            or isinstance(points, bool)
            or not math.isfinite(points)
            or points == 0
        ):
            problems.append(f"{where}: points must be a non-zero number, got {points!r}")
            failed = True
        if not failed:
            good.append((text, float(points)))
    return None if failed else tuple(good)


def _keyword_problem(text: str) -> str | None:
    words = [w for w in re.split(r"[\s\-]+", text.strip()) if w]
    if not words or not all(_PART.fullmatch(w) for w in words):
        return (
            "a keyword is words of letters and digits separated by spaces or hyphens, "
            "a word may end in * (use patterns for anything else)"
        )
    short = [w for w in words if w.endswith("*") and len(w) - 1 < _MIN_WILDCARD]
    if short:
        return f"{short[0]!r}: a word ending in * needs at least {_MIN_WILDCARD} letters before it"
    return None


def _pattern_problem(text: str) -> str | None:
    try:
        rx = re.compile(text)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    if rx.search("") is not None:
        return "matches empty text, so it would fire on every paper"
    return None

"""A ranked subscriber's message is the same bytes however it is put together.

Delivery makes a batch's orders and reasons at once (``Ranker.explained_many``) and
joins pre-encoded pieces (``_Copy.body``); these tests hold both to the one-at-a-time
path they replaced — ``Ranker.explained`` per subscriber, ``Body.pieces`` then
``_Copy.segments`` — on the seed digests, and the terms a reason names to the rule
written out plainly.
"""

from __future__ import annotations

import email
import email.policy
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape as html_unescape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import render_kit
from delivery_kit import bodies

from newsletter.delivery.message import SOFT_BREAK, DigestFrame, Recipient, Sender
from newsletter.delivery.ranked import VOTE_MARKS, _Copy, _Flat, _flat, encode_layout
from newsletter.ranking import PaperText, Vote, train
from newsletter.ranking.reasons import (
    NO_MATCH,
    TERMS,
    _matching_terms,
    best_terms,
    word_columns,
    worded,
)
from newsletter.render.picks import REASON_CHARS, layout

SEED_003 = "003_bf041023cdecb2cb.txt"
T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
SENDER = Sender("Test", "digest@papers.example.org", "papers.example.org", "u@x.org")
WHO = Recipient(
    "r@example.org", "<m@x>", "https://x/u?t=1", "https://x/u?t=1", "https://x/p", "u", "t" * 20
)
ODD_REASONS = [
    "because you liked “Ünïcode & <tags> in a title”",
    "matches: diffusion, video editing, inpainting",
    ".starts with a dot",
    "has %%VOTE_TOKEN%% in it and = signs",
    "a very long reason " * 12,
    "  spaced\nout  reason  ",
    "w" * 75 + ".dot after a soft break",  # a quoted-printable line that starts with "."
    "",
]


def _papers() -> list[PaperText]:
    editions = render_kit.seed_editions()
    return [PaperText(p.key, p.title, p.abstract, (), p.topics) for e in editions for p in e.papers]


def _reference_terms(words, row, weights, terms):  # type: ignore[no-untyped-def]
    """The rule as it was first written: one row at a time."""
    start, end = words.indptr[row], words.indptr[row + 1]
    features, values = words.indices[start:end], words.data[start:end]
    pushes = values * weights[features]
    chosen: list[str] = []
    push = 0.0
    for j in np.argsort(-pushes, kind="stable")[: 4 * TERMS]:
        if pushes[j] <= 0 or len(chosen) == TERMS:
            break
        term = terms[features[j]]
        if any(term in c.split() or c in term.split() for c in chosen):
            continue
        chosen.append(term)
        push += float(pushes[j])
    return push, ("matches: " + ", ".join(chosen) if chosen else NO_MATCH)


def test_the_terms_a_reason_names_follow_the_rule_row_by_row() -> None:
    papers = _papers()
    ranker = train(papers, {1: [Vote(papers[0].key, True, T0)]}, {})
    words = ranker.vocabulary.rows(papers)[:, : ranker.vocabulary.words].tocsr()
    count = words.shape[0]
    rng = np.random.default_rng(3)
    terms = ranker.vocabulary.terms
    for _ in range(5):
        size = ranker.vocabulary.words
        weights = rng.normal(size=size) * (rng.random(size) < 0.5)
        rows = sorted(rng.choice(count, size=count // 2, replace=False).tolist())
        found = _matching_terms(words, rows, weights, terms)
        assert found == {r: _reference_terms(words, r, weights, terms) for r in rows}


def test_a_batch_gets_the_orders_scores_and_reasons_each_subscriber_got_alone() -> None:
    papers = _papers()
    rng = random.Random(5)
    half = len(papers) // 2
    keys = [p.key for p in papers[:half]]
    votes = {
        sid: [
            Vote(k, rng.random() < (0.9 if sid % 7 == 0 else 1 / 3), T0 + timedelta(minutes=i))
            for i, k in enumerate(rng.sample(keys, min(30, len(keys))))
        ]
        for sid in range(1, 41)
    }
    votes[41] = [Vote(k, False, T0) for k in keys[:10]]  # 👎 only
    ranker = train(papers, votes, {}, topics={3: frozenset({"llm"})})
    candidates = papers[half:]
    subscribers = sorted(ranker.subscribers)
    scores = ranker.scores(subscribers, candidates)
    words = ranker.vocabulary.rows(candidates)[:, : ranker.vocabulary.words].tocsr()
    similarity = []
    for s in subscribers:
        liked = ranker.profile(s).liked  # type: ignore[union-attr]
        similarity.append(np.asarray((words @ liked.T).toarray()))
    many = ranker.explained_many(subscribers, candidates, scores, similarity)
    for i, s in enumerate(subscribers):
        alone = ranker.explained(s, candidates, scores[i])
        assert many[s] == alone
    reasons = {s.reason.split(" ")[0] for v in many.values() for s in v}
    assert {"because", "matches:"} <= reasons  # both kinds of reason were compared


@pytest.mark.parametrize("picks", [0, 5])
def test_a_ranked_message_joined_from_shared_pieces_is_the_reference_bytes(
    picks: int, seeds_dir: Path
) -> None:
    settings = render_kit.settings()
    edition = render_kit.seed_edition(seeds_dir / SEED_003)
    made = layout(edition, settings, None, picks)
    assert made is not None
    copy = _Copy(made, DigestFrame.build(SENDER, made.subject, T0), encode_layout(made))
    rng = random.Random(picks)
    for n in range(30):
        keys = list(made.keys)
        rng.shuffle(keys)
        if n % 3 == 0:  # one section's every card picked: it says so instead
            first = made.html.sections[0]
            keys = [*first, *(k for k in keys if k not in first)]
        reasons = {k: rng.choice([*ODD_REASONS, f"matches: term{rng.randrange(99)}"]) for k in keys}
        if n % 2:
            reasons = {k: r for k, r in reasons.items() if rng.random() < 0.7}
        count = len(made.html.sections[0]) if n % 3 == 0 and picks else picks
        # as delivery makes it: one arrangement of the cards for both bodies (or each its own)
        arranged = made.text.arrange(keys, count) if n % 2 else None
        ours = copy.frame.spliced(
            copy.body("text", keys, reasons, count, arranged),
            copy.body("html", keys, reasons, count, arranged),
            repeated=VOTE_MARKS,
        )
        reference = copy.frame.spliced(
            copy.segments("text", made.text.pieces(keys, reasons, count)),
            copy.segments("html", made.html.pieces(keys, reasons, count)),
            repeated=VOTE_MARKS,
        )
        for smtp in (True, False):
            assert ours.for_recipient(WHO, smtp=smtp) == reference.for_recipient(WHO, smtp=smtp)
    assert copy.constant_runs == {"text": True, "html": True}  # each block joined at once


def _reference_join(pieces: list[list[tuple[bytes | str, bytes | str]]]) -> bytes:
    """``_Copy.segments``' rule, piece by piece: a soft break before every piece once
    anything is written, slots left in place (shown as ``<name>``)."""
    plain: list[bytes] = []
    out: list[bytes] = []
    for segments in pieces:
        if plain or out:
            plain.append(SOFT_BREAK)
        for seg, _ in segments:
            if isinstance(seg, bytes):
                plain.append(seg)
            else:
                out += [b"".join(plain), b"<" + seg.encode() + b">"]
                plain = []
    return b"".join([*out, *plain])


class _Pieces:
    """A layout body that lays out given pieces (for :meth:`_Copy.body` alone)."""

    reason = ("", "")

    def __init__(self, flats: list[_Flat]) -> None:
        self.flats = flats

    def pieces(self, *_: object, **__: object) -> list[_Flat]:
        return self.flats


def test_pieces_with_slots_and_empty_pieces_join_as_piece_by_piece() -> None:
    kinds: dict[str, list[tuple[bytes | str, bytes | str]]] = {
        "constant": [(b"aa", b"aa")],
        "nothing": [],
        "empty bytes": [(b"", b"")],
        "slot": [("one", "one")],
        "slot first": [("one", "one"), (b"x", b"x")],
        "slot last": [(b"y", b"y"), ("two", "two")],
        "two slots": [(b"p", b"p"), ("s", "s"), (b"q", b"q"), ("t", "t")],
    }
    rng = random.Random(1)
    for _ in range(2000):
        pieces = [kinds[rng.choice(list(kinds))] for _ in range(rng.randint(0, 7))]
        body = _Pieces([_flat(p) for p in pieces])
        copy = SimpleNamespace(
            layout=SimpleNamespace(text=body, html=body),
            shared={"text": {"": _flat([])}},
            lines={},
            plain_reasons={},
            encoded={},
            _runs_constant=lambda kind, made, shared: False,  # the piece-by-piece join
        )
        joined = _Copy.body(copy, "text", [], {}, 0)  # type: ignore[arg-type]
        shown = b"".join(s if isinstance(s, bytes) else b"<" + s.encode() + b">" for s, _ in joined)
        assert shown == _reference_join(pieces)


@pytest.mark.parametrize("levels", [0, 3], ids=["real weights", "few weight values (ties)"])
def test_the_best_terms_of_a_whole_batch_are_the_rule_row_by_row(levels: int) -> None:
    """``best_terms`` (argmax rounds, clashes named one by one) names what the rule names
    for every subscriber and paper, ties and unigrams inside bigrams included."""
    papers = _papers()
    ranker = train(papers, {1: [Vote(papers[0].key, True, T0)]}, {})
    vocabulary = ranker.vocabulary
    words = vocabulary.rows(papers[:40])[:, : vocabulary.words].tocsr()
    terms = vocabulary.terms
    rng = np.random.default_rng(levels)
    weights = rng.normal(size=(9, vocabulary.words)) * (rng.random((9, vocabulary.words)) < 0.6)
    if levels:  # a handful of values: many equal pushes, ties broken in column order
        weights = np.round(weights * levels) / levels
    pushes = weights[:, words.indices] * words.data[None, :]
    parts = word_columns(terms, vocabulary.words)
    pushed, chosen, clashed = best_terms(pushes, words.indptr, words.indices, parts, terms)
    skipped = 0  # pairs whose reason skips one of its best terms (a unigram in a bigram)
    for b in range(weights.shape[0]):
        for row in range(words.shape[0]):
            push, reason = _reference_terms(words, row, weights[b], terms)
            if (b, row) in clashed:
                assert clashed[(b, row)] == (push, reason)
            else:
                assert (pushed[b, row], worded(chosen[b, row].tolist(), terms)) == (push, reason)
            start, end = words.indptr[row], words.indptr[row + 1]
            entries = pushes[b, start:end]
            best = np.argsort(-entries, kind="stable")[:TERMS]
            top = [terms[words.indices[start + j]] for j in best if entries[j] > 0]
            skipped += reason != ("matches: " + ", ".join(top) if top else NO_MATCH)
    assert skipped > 0


HOSTILE = 'Attention <b>&" everywhere'
_WRAPPED = r"^\* (.+(?:\n  (?!http).+)*)$"
"""A paper's title in the text part (wrapped, before its link)."""


def _large_section_edition(seeds_dir: Path) -> Any:
    """A real digest (seed 003, 102 papers) with most of its papers in one section, so
    the size plan shows that section's later papers as title-only lines, and one title
    that HTML must escape."""
    edition = render_kit.seed_edition(seeds_dir / SEED_003)
    papers = [
        replace(p, topics=("llm",) if i % 4 else p.topics, title=HOSTILE if i == 70 else p.title)
        for i, p in enumerate(edition.papers)
    ]
    return render_kit.edition_of(papers)


def _section_titles(text: str, html: str, name: str, topic: str) -> tuple[list[str], list[str]]:
    """The paper titles of section ``name`` (``topic``), in order, as each part shows them."""
    body = text[text.index(f"== {name} (") :]
    body = body[: body.find("\n\n\n== ")] if "\n\n\n== " in body else body
    in_text = [" ".join(t.split()) for t in re.findall(_WRAPPED, body, re.M)]
    part = html[html.index(f'id="topic-{topic}"') :]
    part = part[: part.find("<h2 ", 1)]
    in_html = [
        html_unescape(t)
        for t in re.findall(
            r'<(?:h3[^>]*><a|li[^>]*><a) href="[^"]+" style="[^"]*">([^<]+)</a>', part
        )
    ]
    return in_text, in_html


def test_a_large_section_is_in_score_order_cards_then_title_lines_each_with_its_reason(
    seeds_dir: Path,
) -> None:
    """Issue 15: each section of a ranked copy is in the subscriber's order throughout.
    In a section too large for cards only, its best papers are its cards and the rest
    its title-only lines, those in score order too, each line with its reason (escaped
    in the HTML, plain in the text, cut as a card's); the message stays in the budget."""
    settings = render_kit.settings()
    edition = _large_section_edition(seeds_dir)
    picks = settings.ranking.top_picks
    made = layout(edition, settings, None, picks)
    assert made is not None
    big = made.html.sections[0], made.html.titles[0]
    assert len(big[0]) >= 5 and len(big[1]) >= 20  # cards, then many title-only lines
    hostile = next(p.key for p in edition.papers if p.title == HOSTILE)
    assert hostile in made.lines  # shown as a title-only line in digest order
    copy = _Copy(made, DigestFrame.build(SENDER, made.subject, T0), encode_layout(made))
    rng = random.Random(15)
    ranked = list(made.papers)
    rng.shuffle(ranked)
    ranked.remove(hostile)
    ranked.insert(picks + len(big[0]) + 2, hostile)  # ranked just below the big section's cards
    reasons = {k: f"because you liked “{HOSTILE} {i}”" for i, k in enumerate(ranked)}
    reasons[hostile] = "because you liked “" + HOSTILE + " and " + "x" * 200 + "”"
    arranged = made.text.arrange(ranked, picks)
    message = copy.frame.spliced(
        copy.body("text", ranked, reasons, picks, arranged),
        copy.body("html", ranked, reasons, picks, arranged),
        repeated=VOTE_MARKS,
    )
    raw = message.for_recipient(WHO, smtp=False)
    text, html = bodies(email.message_from_bytes(raw, policy=email.policy.default))
    text, html = text.replace("\r\n", "\n"), html.replace("\r\n", "\n")
    titles = {p.key: " ".join(p.title.split()) for p in edition.papers}
    name = "Language Models"
    # the picks: the best five papers of the copy, which are all cards
    head = text[: text.index("In this edition:")]
    shown_picks = [" ".join(t.split()) for t in re.findall(_WRAPPED, head, re.M)]
    assert [titles[k] for k in ranked[:picks]] == shown_picks
    in_text, in_html = _section_titles(text, html, name, "llm")
    section = [k for k in ranked if k in set(big[0]) | set(big[1]) and k not in ranked[:picks]]
    assert in_text == in_html == [titles[k] for k in section]
    # its best papers are the cards, the others title-only lines (the hostile one too)
    n_cards = len(big[0]) - sum(k in big[0] or k in big[1] for k in ranked[:picks])
    part = html[html.index('id="topic-llm"') :]
    part = part[: part.find("<h2 ", 1)]
    assert part.count("<h3") == n_cards and part.count("<li") == len(big[1])
    assert section.index(hostile) >= n_cards
    # each title line has its reason: escaped in the HTML (inside the line), plain in text
    line = re.search(
        r"<li[^>]*><a [^>]*>Attention &lt;b&gt;&amp;&#34; everywhere</a>(.*?)</li>", html
    )
    assert line is not None
    assert line.group(1).startswith(
        "<br><span"
    ) and "Why: because you liked “Attention &lt;b&gt;&amp;&#34;" in line.group(1)
    assert "<b>&" not in html.replace("<b>&amp;", "")
    why = re.search(r"^\* Attention <b>&\" everywhere\n(?:  .*\n)*?  Why: (.*)$", text, re.M)
    assert why is not None and why.group(1).startswith('because you liked “Attention <b>&"')
    assert len(why.group(1)) == REASON_CHARS and why.group(1).endswith("…")
    assert text.count("  Why: ") == len(made.papers) == html.count("Why: ")
    # within the budget, as sent (each vote token as long as a real one)
    assert len(html.encode()) <= settings.email.budget_bytes


def test_papers_dealt_into_cards_and_title_lines_are_the_sorted_arrangement() -> None:
    """:meth:`Body.arrange` of a copy with title lines deals the ranked keys into the
    sections once; it must be what sorting each section's papers by rank and cutting
    them at its number of cards gives, with unranked papers, ranked keys shown nowhere
    and sections with no card or no line."""
    from newsletter.render.picks import Body

    rng = random.Random(7)
    for trial in range(500):
        keys = [f"p{i}" for i in range(rng.randint(1, 40))]
        rng.shuffle(keys)
        sections: list[tuple[str, ...]] = []
        titles: list[tuple[str, ...]] = []
        at = 0
        while at < len(keys):
            chunk = keys[at : at + rng.randint(1, 12)]
            at += len(chunk)
            cut = rng.randint(0, len(chunk))
            sections.append(tuple(chunk[:cut]))
            titles.append(tuple(chunk[cut:]))
        body = Body((), tuple(sections), (), {k: k for k in keys}, "", ("", ""), str)
        body = replace(body, titles=tuple(titles))
        ranked = rng.sample(keys, rng.randint(0, len(keys))) + ["other"] * (trial % 2)
        rank = {k: i for i, k in enumerate(ranked)}
        places = body._line_places()
        assert places is not None
        assert body._dealt_lines(ranked, rank, places) == body._sorted_lines(rank)
        for picks in (0, 1, 5):
            chosen, ordered = body.arrange(ranked, picks)
            best, lines = body._sorted_lines(rank)
            shown = [k for ks in best for k in ks]
            assert chosen == [k for k in ranked if k in shown][:picks]
            assert ordered == [
                [k for k in ks if k not in chosen] + ls for ks, ls in zip(best, lines, strict=True)
            ]

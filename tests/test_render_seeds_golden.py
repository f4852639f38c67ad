"""The emails of the project's digests, byte for byte: a digest of every email rendered.

The size budget's shortcuts (cards made once, plans weighed instead of compiled, the
frame's compiled size predicted) must never change what is sent: the email is the one
compiling every plan in turn would choose.  This test renders the five digests of
``tests/digests`` (their papers given extra topics, upvotes, authors and arXiv ids so
that every part of a card is shown) in many ways — budgets from 20 to 150 KB, two
teaser lengths, four topic sets, placeholder, real and vote-less links, texts made at
ingest or not — each as the first email of its edition (caches emptied) and again as a
later one, and compares the SHA-256 of the lot, edition by edition, with
``tests/golden/render/seeds.json``.

Regenerate after an intended change with::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render_seeds_golden.py

and say in the commit why the bytes changed.  A different mjml-python version may
change the HTML.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from render_kit import seed_editions, settings

from newsletter.model import Edition
from newsletter.render import email as email_module
from newsletter.render import render_email
from newsletter.render.context import with_texts
from newsletter.render.recipients import RecipientLinks

GOLDEN = Path(__file__).parent / "golden" / "render" / "seeds.json"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

BUDGETS_KB = (20, 40, 60, 100, 150)
TEASERS = (300, 180)
TOPIC_SETS = (
    None,
    frozenset({"llm"}),
    frozenset({"vision", "generative"}),
    frozenset({"llm", "vision", "other"}),
)
LINKS = (
    None,  # placeholders, as delivery compiles an email once for many recipients
    RecipientLinks(
        unsubscribe_url="https://papers.example.org/u/tok?x=1&y=2",
        preferences_url="https://papers.example.org/p/tok",
        vote_token="vote.Tok-en_1",
    ),
    RecipientLinks(
        unsubscribe_url="https://papers.example.org/u/tok",
        preferences_url="https://papers.example.org/p/tok",
    ),  # no vote link: an archived copy
)
EXTRA = ("vision", "generative", "llm", "other")


def enriched(edition: Edition) -> Edition:
    """``edition`` with some papers in two sections, upvoted, authored and on arXiv."""
    n = 0
    sections = []
    for section in edition.sections:
        papers = []
        for paper in section.papers:
            n += 1
            fields: dict[str, object] = {}
            if n % 3 == 0:
                extra = next(t for t in EXTRA if t != paper.topics[0])
                fields["topics"] = (*paper.topics, extra)
            if n % 4 == 0:
                fields["upvotes"] = n * 7 % 50
            if n % 2 == 0:
                fields["authors"] = tuple(f"Author {n}.{i} <x&y>" for i in range(n % 5 + 1))
            if n % 5 == 0:
                fields["arxiv_id"] = f"2403.{n:05d}"
                fields["url"] = f"https://arxiv.org/abs/2403.{n:05d}"
            papers.append(replace(paper, **fields))
        sections.append(replace(section, papers=tuple(papers)))
    return replace(edition, sections=tuple(sections))


def forget() -> None:
    """Empty what the renderer keeps per edition: the next email is a first one."""
    email_module._VIEWS.clear()
    email_module._KEPT.clear()


def digests() -> dict[str, str]:
    """SHA-256 of every email of each digest (subject, HTML, text), by digest."""
    found = {}
    configs = {
        (kb, chars): settings(email__budget_kb=kb, email__teaser_chars=chars)
        for kb in BUDGETS_KB
        for chars in TEASERS
    }
    for number, edition in enumerate(seed_editions()):
        edition = enriched(edition)
        sha = hashlib.sha256()
        for texts in (False, True):
            shown = with_texts(edition) if texts else edition
            for (kb, chars), s in configs.items():
                for topics in TOPIC_SETS:
                    for links in LINKS:
                        forget()
                        first = render_email(shown, s, topics=topics, links=links)
                        later = render_email(shown, s, topics=topics, links=links)
                        assert later == first, (number, kb, chars, topics, links)
                        for part in (first.subject, first.html, first.text):
                            sha.update(part.encode("utf-8"))
                            sha.update(b"\x00")
        found[f"digest {number}"] = sha.hexdigest()
    forget()
    return found


@pytest.mark.slow
def test_every_email_of_the_digests_is_byte_identical() -> None:
    actual = digests()
    if UPDATE:
        GOLDEN.write_text(json.dumps(actual, indent=2) + "\n", encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert actual == json.loads(GOLDEN.read_text(encoding="utf-8"))

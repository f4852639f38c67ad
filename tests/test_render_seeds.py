"""Acceptance on whole digests (own and real seeds): every email fits and shows every title."""

from __future__ import annotations

from dataclasses import replace

from corpus_kit import Corpus
from render_kit import edition_of, seed_edition, settings, visible

from newsletter.render import render_email
from newsletter.render.untrusted import clean_text


def test_digest_email_fits_and_shows_every_title(corpus: Corpus) -> None:
    for path in corpus.files:
        edition = seed_edition(path)
        email = render_email(edition, settings())
        assert len(email.html.encode("utf-8")) < 100_000, path.name
        page = visible(email.html)
        text = " ".join(email.text.split())
        for paper in edition.papers:
            title = clean_text(paper.title)
            assert title in page, (path.name, title)
            assert title in text, (path.name, title)


def test_digest_email_in_one_section_still_shows_every_title(corpus: Corpus) -> None:
    """The worst case for the budget: a single section (e.g. before topics are configured)."""
    for path in corpus.files[-2:]:
        edition = edition_of(replace(p, topics=("other",)) for p in seed_edition(path).papers)
        email = render_email(edition, settings())
        assert len(email.html.encode("utf-8")) < 100_000, path.name
        page = visible(email.html)
        assert all(clean_text(p.title) in page for p in edition.papers), path.name

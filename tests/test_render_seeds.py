"""Acceptance on the real seed digests (../shared/seeds): every email fits and shows every title.

Skipped where the seeds are not checked out beside the project.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from render_kit import SEEDS, edition_of, seed_edition, settings, visible

from newsletter.render import render_email
from newsletter.render.untrusted import clean_text

SEED_FILES = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
pytestmark = pytest.mark.skipif(not SEED_FILES, reason=f"no seed digests in {SEEDS}")


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_seed_email_fits_and_shows_every_title(path: Path) -> None:
    edition = seed_edition(path)
    email = render_email(edition, settings())
    assert len(email.html.encode("utf-8")) < 100_000
    page = visible(email.html)
    text = " ".join(email.text.split())
    for paper in edition.papers:
        title = clean_text(paper.title)
        assert title in page, title
        assert title in text, title


@pytest.mark.parametrize("path", SEED_FILES[-2:], ids=lambda p: p.name[:3])
def test_seed_email_in_one_section_still_shows_every_title(path: Path) -> None:
    """The worst case for the budget: a single section (e.g. before topics are configured)."""
    edition = edition_of(replace(p, topics=("other",)) for p in seed_edition(path).papers)
    email = render_email(edition, settings())
    assert len(email.html.encode("utf-8")) < 100_000
    page = visible(email.html)
    assert all(clean_text(p.title) in page for p in edition.papers)

"""Golden files: the rendered email, text part, feeds and edition page of a fixed edition.

Regenerate after an intended change with::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render_golden.py

and review the diff of ``tests/golden/render/`` like code.  The outputs are
deterministic (no clock, no randomness), so any other difference is a change
in rendering.  A different mjml-python version may change the HTML.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from render_kit import edition_of, paper, settings, small_edition

from newsletter.render import build_feeds, render_email
from newsletter.render.site import edition_page, index_page

GOLDEN = Path(__file__).parent / "golden" / "render"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def outputs() -> dict[str, str]:
    edition = small_edition()
    history = [edition_of([paper(40, "vision")], day=date(2026, 11, 19))]
    s = settings()
    email = render_email(edition, s)
    feeds = build_feeds([edition, *history], s)
    return {
        "email.html": email.html,
        "email.txt": email.text,
        "subject.txt": email.subject + "\n",
        "feed.xml": feeds["feed.xml"].decode("utf-8"),
        "atom.xml": feeds["atom.xml"].decode("utf-8"),
        "topic-llm.xml": feeds["topics/llm.xml"].decode("utf-8"),
        "feed.json": feeds["feed.json"].decode("utf-8"),
        "feeds.opml": feeds["feeds.opml"].decode("utf-8"),
        "edition.html": edition_page(edition, s),
        "index.html": index_page([edition, *history], s),
    }


@pytest.mark.parametrize("name", sorted(outputs()))
def test_output_matches_golden_file(name: str) -> None:
    actual = outputs()[name]
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"{path} missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from {path}; if intended, regenerate (see module doc)"
    )

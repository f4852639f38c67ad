"""Cards rendered once and reused: every email still shows each paper's own card, as it
would if rendered alone; an operator's card partial still sees the whole context."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from render_kit import settings, small_edition

from newsletter.render import render_email

TOPIC_SETS = (
    None,
    frozenset({"generative"}),
    frozenset({"llm"}),
    frozenset({"generative", "vision"}),
    frozenset({"llm", "generative"}),
)


def test_each_topic_set_gets_the_email_it_gets_when_rendered_first() -> None:
    """Paper 1 is in llm and generative: its card names the other topic, never its own
    section, so a card kept from one email must not show up in the wrong section of
    another."""
    config = settings()
    shared = small_edition()
    together = [render_email(shared, config, topics=t) for t in TOPIC_SETS]
    for topics, email in zip(TOPIC_SETS, together, strict=True):
        alone = render_email(replace(small_edition()), config, topics=topics)  # cold caches
        assert (email.html, email.text) == (alone.html, alone.text), topics
    generative_only = together[1]
    assert "Generative" in generative_only.text and generative_only.text.count("* ") >= 2


def test_an_operator_card_sees_the_edition_and_its_section(tmp_path: Path) -> None:
    (tmp_path / "_paper.mjml.j2").write_text(
        "<p>{{ edition.name }} / {{ section.title }} / {{ paper.title }}</p>", encoding="utf-8"
    )
    (tmp_path / "_paper.txt.j2").write_text(
        "\n# {{ section.title }}: {{ paper.title }}\n", encoding="utf-8"
    )
    config = settings(tmp_path, output__templates_dir=str(tmp_path))
    email = render_email(small_edition(), config)
    assert "Test Papers / Computer Vision / Paper number 3" in email.html
    assert "# Computer Vision: Paper number 3" in email.text

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


def test_stock_cards_written_in_python_are_the_bytes_the_partials_render() -> None:
    """``stock_card``/``stock_card_text`` stand in for ``_paper.mjml.j2``/``_paper.txt.j2``:
    for every kind of paper (authors or none, upvotes, arXiv id or none, other topics,
    characters to escape) and with or without vote links, they write the same text."""
    from newsletter.render import templates
    from newsletter.render.cards import _palette, _VoteOnly, stock_card, stock_card_text
    from newsletter.render.context import PaperViews
    from newsletter.render.email import meta_for

    config = settings()
    env = templates.environment(None)
    shared = small_edition()
    odd = replace(
        shared.papers[0],
        key="title:odd & <quoted> 'one'",
        title='A "quoted" <b>title</b> & more',
        authors=("O'Brien & Sons", "B", "C", "D"),
        upvotes=0,
    )
    views = PaperViews(shared, meta_for(config))
    module = env.get_template("_palette.j2").module
    colours = _palette(env)
    checked = 0
    for paper in (*shared.papers, odd):
        for section in ("llm", "vision", "other"):
            for limit in (None, 40, 240):
                view = views.card(paper, section, limit)
                for vote in (None, "https://example.org/v/t&k"):
                    for thumbs in (True, False):
                        edition = _VoteOnly(vote, thumbs)
                        html = env.get_template("_paper.mjml.j2").render(
                            paper=view, c=module, edition=edition
                        )
                        text = env.get_template("_paper.txt.j2").render(
                            paper=view, c=module, edition=edition
                        )
                        assert stock_card(view, colours, vote, thumbs=thumbs) == html
                        assert stock_card_text(view, colours, vote, wrap=templates.wrap) == text
                        checked += 1
    assert checked > 50


def test_an_operator_palette_colours_the_stock_cards(tmp_path: Path) -> None:
    from newsletter import resources

    stock = (resources.stock_templates() / "_palette.j2").read_text(encoding="utf-8")
    (tmp_path / "_palette.j2").write_text(
        stock.replace("#d8dee4", "#123456").replace("#57606a", "#654321"), encoding="utf-8"
    )
    config = settings(tmp_path, output__templates_dir=str(tmp_path))
    html = render_email(small_edition(), config).html
    assert "border-top:1px solid #123456;padding:12px 0" in html
    assert "#d8dee4" not in html

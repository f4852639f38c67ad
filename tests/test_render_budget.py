"""The size budget: which plan an email gets, and that weighing plans piecewise changes nothing.

With the stock templates :func:`newsletter.render.email.fit` never renders a
plan's MJML to weigh it: it adds up the plan's frame and cards and compiles
only the plan predicted to fit.  These tests hold it to what rendering and
compiling every plan in turn would send.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from render_kit import edition_of, large_edition, paper, settings

from newsletter import config
from newsletter.model import Edition
from newsletter.render import RecipientLinks, render_email, templates
from newsletter.render.context import ContextBuilder, Plan
from newsletter.render.email import _cost, compile_mjml, fit, meta_for, paper_views, plans


def _every_plan_compiled(
    edition: Edition,
    s: config.Settings,
    links: RecipientLinks,
    topics: frozenset[str] | None,
    per_card: int = 0,
) -> str:
    """The reference: each plan rendered whole and compiled, the first that fits sent."""
    env = templates.environment(s.output.templates_dir)
    builder = ContextBuilder(edition, meta_for(s), links, topics)
    html = ""
    for plan in plans(s.email.teaser_chars):
        context = builder.build(plan)
        html = compile_mjml(templates.render(env, templates.EMAIL_MJML, edition=context))
        extra = per_card * sum(len(section.cards) for section in context.sections)
        if _cost(html) + extra <= s.email.budget_bytes:
            break
    return html


def _fitted(
    edition: Edition,
    s: config.Settings,
    links: RecipientLinks,
    topics: frozenset[str] | None,
    per_card: int = 0,
) -> str:
    env = templates.environment(s.output.templates_dir)
    meta = meta_for(s)
    builder = ContextBuilder(edition, meta, links, topics, paper_views(edition, meta))
    html, _ = fit(builder, env, s.email.budget_bytes, s.email.teaser_chars, per_card=per_card)
    return html


def _mixed_edition() -> Edition:
    """Cards of every kind: upvotes or none, several topics, long and short abstracts,
    escaped characters, more papers in one section than the plans' card caps."""
    long = " ".join(f'Sentence {i} says one more thing & <why> it\'s "so".' for i in range(12))
    papers = [
        paper(
            n,
            ("llm", "vision", "generative", "other")[n % 4],
            extra=("vision",) if n % 5 == 0 else (),
            abstract=long if n % 3 else f"We propose idea {n}. It works.",
            upvotes=n if n % 2 else None,
        )
        for n in range(120)
    ]
    return edition_of(papers)


LINKS = {
    "votes": RecipientLinks.placeholders(),
    "no votes": replace(RecipientLinks.placeholders(), vote_token=""),
    "real": RecipientLinks("https://x.example/u/1", "https://x.example/p/1", "tok"),
}


@pytest.mark.parametrize("budget", [20, 26, 35, 50, 70, 90, 100, 130])
@pytest.mark.parametrize("links", sorted(LINKS))
def test_the_email_is_the_first_plan_that_fits_as_compiling_each_would_find(
    budget: int, links: str, caplog: pytest.LogCaptureFixture
) -> None:
    edition = _mixed_edition()
    s = settings(email__budget_kb=budget)
    caplog.set_level(logging.DEBUG, logger="newsletter.render.email")
    for topics in (None, frozenset({"vision"}), frozenset({"llm", "other"})):
        for per_card in (0, 150):  # a ranked copy keeps room per card
            expected = _every_plan_compiled(edition, s, LINKS[links], topics, per_card)
            assert _fitted(edition, s, LINKS[links], topics, per_card) == expected
    # and the size predicted for the stock templates was the compiled size every time
    assert not [r for r in caplog.records if "predicted" in r.getMessage()]


def test_a_later_email_of_the_edition_is_the_same_email() -> None:
    edition = large_edition(150)
    s = settings(email__budget_kb=60)
    first = render_email(edition, s)
    assert render_email(edition, s) == first
    assert render_email(replace(edition), s) == first  # an equal edition, views made again


def test_the_stock_frame_prints_no_thumbs() -> None:
    """One frame serves a layout's plans with and without 👍/👎 (the cards carry them);
    a plan without them keeps the vote link (the cards' Abstract, the title lines)."""
    env = templates.environment(None)
    s = settings()
    builder = ContextBuilder(large_edition(60), meta_for(s), RecipientLinks.placeholders(), None)
    for plan in (next(iter(plans(s.email.teaser_chars))), Plan(100, cards=1)):
        with_votes = builder.build(plan)
        without = builder.build(replace(plan, votes=False))
        assert with_votes.links.vote and without.links.vote == with_votes.links.vote
        assert with_votes.links.thumbs and not without.links.thumbs

        def frame(context: object) -> str:
            return templates.render(env, templates.EMAIL_MJML, edition=context, _nl_frame=1)

        assert frame(with_votes) == frame(without)
        assert "/up" not in frame(with_votes)
        if plan.cards is not None:  # its title lines link to the signed paper page
            assert f"{with_votes.links.vote}/" in frame(with_votes)


def test_an_overridden_section_is_fitted_by_rendering_it(tmp_path: Path) -> None:
    """An operator's section may print anything of the context: its plans are rendered
    whole, and the email still fits its budget."""
    (tmp_path / "_section.mjml.j2").write_text(
        "<h2>{{ section.title }}</h2>\n{{ cards(section) -}}\n"
        "<p>{{ section.cards | length }} cards, {{ section.titles | length }} titles, "
        "{{ section.more }} more{{ ' ' * 400 }}x</p>\n",
        encoding="utf-8",
    )
    s = settings(tmp_path, output__templates_dir=str(tmp_path), email__budget_kb=40)
    edition = large_edition(200)
    email = render_email(edition, s)
    assert _cost(email.html) <= 40_000
    assert email.html == _every_plan_compiled(edition, s, RecipientLinks.placeholders(), None)
    assert " cards, " in email.html


def _greedy(text: str, width: int, indent: int) -> str:
    """Word wrap by adding words one by one (the reference for ``wrap``)."""
    lines: list[list[str]] = []
    used = 0
    for word in text.split():
        if lines and used + 1 + len(word) <= width - indent:
            lines[-1].append(word)
            used += 1 + len(word)
        else:
            lines.append([word])
            used = len(word)
    return "\n".join(" " * indent + " ".join(line) for line in lines)


@given(
    st.lists(
        st.sampled_from(["a", "bb", "ccc", "é—", "x" * 30, "y" * 75, "\u00a0", "\t", "\n"]),
        max_size=40,
    ).map(" ".join),
    st.sampled_from([72, 40, 10, 3]),
    st.sampled_from([0, 2, 4]),
)
def test_wrap_fills_each_line_with_as_many_words_as_fit(text: str, width: int, indent: int) -> None:
    assert templates.wrap(text, width, indent) == _greedy(text, width, indent)

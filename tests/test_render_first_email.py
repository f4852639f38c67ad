"""The first email of an edition: one compile, its frame's size guessed, nothing else changed.

Issue 14 wants an email rendered near the cost of one bare mjml-python compile.  Before
an edition's first email its frame (the email without its cards) has never been
compiled, so its compiled size is guessed (``_Frame.guess``); these tests hold the
guess close, show that a wrong guess costs compiles but never changes the email, and
check the other shortcuts of the first email (the cards' links weighed once, the
paper views found without hashing the edition).
"""

from __future__ import annotations

import gc
from dataclasses import replace

import pytest
from render_kit import edition_of, large_edition, paper, seed_editions, settings

from newsletter import config
from newsletter.model import Edition
from newsletter.render import RecipientLinks, render_email, templates
from newsletter.render import email as email_module
from newsletter.render.cards import paper_ref, stock_card_links
from newsletter.render.context import ContextBuilder
from newsletter.render.email import _cost, compile_mjml, meta_for, paper_views, plans
from newsletter.render.recipients import weight


def _every_plan_compiled(
    edition: Edition, s: config.Settings, links: RecipientLinks, topics: frozenset[str] | None
) -> str:
    """The reference (as in ``test_render_budget.py``): each plan rendered whole and
    compiled, the first that fits sent."""
    env = templates.environment(s.output.templates_dir)
    builder = ContextBuilder(edition, meta_for(s), links, topics)
    html = ""
    for plan in plans(s.email.teaser_chars):
        context = builder.build(plan)
        html = compile_mjml(templates.render(env, templates.EMAIL_MJML, edition=context))
        if _cost(html) <= s.email.budget_bytes:
            break
    return html


def _mixed_edition() -> Edition:
    """Cards of every kind (as in ``test_render_budget.py``): upvotes or none, several
    topics, long and short abstracts, escaped characters, big sections."""
    long = " ".join(f'Sentence {i} says one more thing & <why> it\'s "so".' for i in range(12))
    return edition_of(
        paper(
            n,
            ("llm", "vision", "generative", "other")[n % 4],
            extra=("vision",) if n % 5 == 0 else (),
            abstract=long if n % 3 else f"We propose idea {n}. It works.",
            upvotes=n if n % 2 else None,
        )
        for n in range(120)
    )


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The MJML compiles made, by size of the source."""
    made: list[int] = []

    def counted(source: str) -> str:
        made.append(len(source))
        return compile_mjml(source)

    monkeypatch.setattr(email_module, "compile_mjml", counted)
    return made


def test_the_first_email_of_an_edition_over_its_first_plan_compiles_once(
    compiles: list[int],
) -> None:
    """Editions whose first plan (long teasers, 👍/👎) is over the budget: the email is
    compiled once, not its frame alone first (nor a frame per layout tried)."""
    for edition, budget in ((large_edition(150), 100), (_mixed_edition(), 80)):
        s = settings(email__budget_kb=budget)
        email_module._VIEWS.clear()
        email_module._KEPT.clear()
        compiles.clear()
        email = render_email(edition, s)
        assert len(compiles) == 1
        weighed = [
            plan for kept in email_module._KEPT.values() for k in kept.values() for plan in k.sizes
        ]
        assert len(weighed) > 1  # the first plan did not fit
        expected = _every_plan_compiled(edition, s, RecipientLinks.placeholders(), None)
        assert email.html == expected


def test_the_frame_guess_is_a_few_bytes_off_at_most() -> None:
    off = []
    for edition in [*seed_editions(), _mixed_edition(), large_edition(150)]:
        for budget in (20, 40, 100):
            for topics in (None, frozenset({"vision"}), frozenset({"llm", "other"})):
                email_module._KEPT.clear()
                render_email(edition, settings(email__budget_kb=budget), topics=topics)
                for kept in email_module._KEPT.values():
                    for found in kept.values():
                        for frame in found.frames.values():
                            exact = _cost(compile_mjml(frame.skeleton))
                            off.append(frame.guess - exact)
    assert off and max(abs(d) for d in off) <= 16, (min(off), max(off))


@pytest.mark.parametrize("off", [-100_000, -2_000, 2_000])
@pytest.mark.parametrize("budget", [20, 35, 70, 100])
def test_a_wrong_guess_never_changes_the_email(
    off: int, budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guesses much too small (a plan that does not fit is compiled), or too big by as
    much as the slack (plans that fit are passed over, weighed again once a frame is
    known): the same email as compiling every plan in turn."""
    monkeypatch.setattr(email_module, "_FRAME_BASE", email_module._FRAME_BASE + off)
    edition = _mixed_edition()
    s = settings(email__budget_kb=budget)
    for links in (RecipientLinks.placeholders(), RecipientLinks("https://x/u", "https://x/p")):
        for topics in (None, frozenset({"llm", "other"})):
            email_module._VIEWS.clear()
            email_module._KEPT.clear()
            html = render_email(edition, s, topics=topics, links=links).html
            assert html == _every_plan_compiled(edition, s, links, topics)


@pytest.mark.parametrize("budget", [20, 35, 70, 100])
def test_a_guess_far_too_big_still_sends_an_email_within_budget(
    budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the slack a plan that fits may be passed over for a more compact one, never
    for one over the budget: every email sent was compiled and weighed."""
    monkeypatch.setattr(email_module, "_FRAME_BASE", 100_000)
    s = settings(email__budget_kb=budget)
    email_module._VIEWS.clear()
    email_module._KEPT.clear()
    html = render_email(_mixed_edition(), s).html
    assert _cost(html) <= s.email.budget_bytes


def test_every_card_links_weigh_alike_with_a_vote_link() -> None:
    """What lets the size budget weigh one card's links for all (``Cards.weighed``): the
    paper is named by a fixed-length, URL-safe reference."""
    palette = {"rule": "#ddd", "link": "#06c", "muted": "#666"}
    views = paper_views(large_edition(60), meta_for(settings()))
    cards = [views.card(p, p.topic, None) for p in large_edition(60).papers]
    keyed = [replace(c, key=key) for c, key in zip(cards, _odd_keys(), strict=False)]
    for vote in ("https://papers.example.org/v/%%VOTE%%", "https://x.example/v/a&b<c>"):
        for thumbs in (True, False):
            weights = {weight(stock_card_links(c, palette, vote, thumbs=thumbs)) for c in keyed}
            assert len(weights) == 1, (vote, thumbs, weights)
    assert {len(paper_ref(k)) for k in _odd_keys()} == {8}


def _odd_keys() -> list[str]:
    return [
        "arxiv:2403.00001",
        "title:" + "x" * 500,
        "title:é—<>&\"'",
        "doi:10.1000/xyz?a=b&c=d",
        "",
        *(f"title:{n}" for n in range(40)),
    ]


def test_an_equal_edition_finds_the_same_views_and_a_dead_one_lets_them_go() -> None:
    meta = meta_for(settings())
    edition = large_edition(20)
    views = paper_views(edition, meta)
    assert paper_views(edition, meta) is views
    assert paper_views(replace(edition), meta) is views  # equal, loaded again
    other = meta_for(settings(newsletter__name="Other Papers"))
    assert paper_views(edition, other) is not views
    later = replace(edition, sections=(*edition.sections[:1],))
    assert paper_views(later, meta) is not views
    count = len(email_module._VIEWS._by_hash)
    del later
    gc.collect()
    assert len(email_module._VIEWS._by_hash) == count - 1


def test_a_first_email_and_a_later_one_are_the_same_email() -> None:
    edition = large_edition(120)
    s = settings(email__budget_kb=60)
    email_module._VIEWS.clear()
    first = render_email(edition, s)
    assert render_email(edition, s) == first
    assert render_email(replace(edition), s) == first

"""Paper texts made at ingest and kept in the store, and the size budget's card weights.

An edition's first email used to clean every abstract and choose every contribution
sentence while it was being sent; they depend on the paper alone, so ``run`` makes them
once at ingest (:func:`newsletter.render.context.with_texts`) and the store keeps them
with the edition (:mod:`newsletter.store.payload`).  What is rendered must not change
by a byte, with or without them; and the size budget, which weighs cards as a body and
its links, must weigh each card as the card it makes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from render_kit import edition_of, large_edition, paper, seed_editions, settings, small_edition

from newsletter import edition as edition_json
from newsletter.model import TEXT_RULES, Edition
from newsletter.render import render_email, templates
from newsletter.render.cards import Cards
from newsletter.render.context import PaperViews, paper_text, with_texts
from newsletter.render.email import meta_for
from newsletter.render.recipients import RecipientLinks, weight
from newsletter.render.teaser import teaser
from newsletter.store.payload import from_payload, payload


def _editions() -> list[Edition]:
    odd = paper(
        1,
        title="  A  title\twith\u200b controls  ",
        abstract="Background.\x07 In this paper, we propose  a  %%TOKEN%% fix.",
        authors=(" Ada  Lovelace ", "\u202e", "Alan Turing"),
    )
    return [small_edition(), large_edition(30), edition_of([odd, paper(2)]), *seed_editions()]


def test_texts_made_at_ingest_render_the_same_bytes() -> None:
    """The email (each link kind, topic set and budget), its text part: the same text
    whether the texts were made at ingest or by the rendering itself."""
    for budget in (20, 60, 100):
        config = settings(email__budget_kb=budget)
        for bare in _editions():
            texted = with_texts(bare)
            assert all(p.text is not None for p in texted.papers)
            assert texted == bare  # not part of the paper's value
            topics = [None, frozenset(s.topic for s in bare.sections[:1])]
            for links in (None, RecipientLinks("https://u/x", "https://p/x", "tok")):
                for t in topics:
                    # a copy each: an edition's first email (its views are kept while
                    # it lives, and the two are equal editions)
                    a = render_email(replace(bare), config, topics=t, links=links)
                    b = render_email(replace(texted), config, topics=t, links=links)
                    assert a == b


def test_the_store_keeps_the_texts_beside_the_published_json() -> None:
    """The stored payload is the edition's JSON plus the texts (only what cleaning changed
    beside the teaser); read back, every paper has the text it was stored with, and an
    edition stored before texts were kept reads back without (made at rendering)."""
    for bare in _editions():
        texted = with_texts(bare)
        stored = payload(texted)
        data = json.loads(stored)
        stored_texts = data.pop("texts")
        assert stored_texts["rules"] == TEXT_RULES
        texts = stored_texts["papers"]
        assert json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n" == (
            edition_json.to_json(bare)
        )
        back = from_payload(stored)
        assert back == bare
        assert [p.text for p in back.papers] == [paper_text(p) for p in bare.papers]
        for p in bare.papers:
            kept = texts[p.key]
            assert ("title" in kept) == (paper_text(p).title != p.title)
        assert payload(bare) == edition_json.to_json(bare)  # nothing made, nothing added
        assert all(p.text is None for p in from_payload(edition_json.to_json(bare)).papers)


def test_a_stored_edition_renders_as_the_edition_it_was() -> None:
    config = settings()
    for bare in _editions()[:3]:
        back = from_payload(payload(with_texts(bare)))
        assert render_email(back, config) == render_email(bare, config)


@pytest.mark.parametrize("thumbs", [True, False])
@pytest.mark.parametrize("vote", [None, "https://example.org/v/%%VOTE_TOKEN%%"])
def test_cards_weigh_what_the_card_made_weighs(vote: str | None, thumbs: bool) -> None:
    """Each stock card weighed from its body and links (any teaser length) weighs what
    the card made with that teaser weighs; a layout's cards weighed at once
    (``Cards.weighed``) add up to the same."""
    config = settings()
    env = templates.environment(None)
    card = env.globals["card"]
    assert isinstance(card, Cards)
    for ed in _editions():
        views = PaperViews(ed, meta_for(config))
        for limit in (40, 100, 150, 200, 300, 10_000):
            whole, cut = [], []
            for section in ed.sections:
                for p in section.papers:
                    whole.append(views.card(p, section.topic, None))
                    cut.append(views.card(p, section.topic, limit))
            made = [card.stock(v, vote, thumbs) for v in cut]
            sizes = [weight(text) - text.count("\n") for text in made]
            for w, c, size in zip(whole, cut, sizes, strict=True):
                assert card.compiled_weight(w, vote, teaser(w.teaser, limit), thumbs) == size
                assert card.compiled_weight(c, vote, None, thumbs) == size
            assert card.weighed(whole, vote, thumbs).at(limit) == sum(sizes)
            assert card.plan_weight(whole, vote, limit, thumbs) == sum(sizes)


def test_a_paper_view_made_without_init_is_the_dataclass_it_stands_for() -> None:
    """``PaperViews`` makes each view without ``PaperView.__init__``: every field is set,
    to what the dataclass would hold."""
    from dataclasses import fields

    from newsletter.render.context import PaperView

    config = settings()
    for ed in _editions():
        views = PaperViews(ed, meta_for(config))
        for p in ed.papers:
            made = views._paper(p)
            assert set(vars(made)) == {f.name for f in fields(PaperView)}
            assert made == PaperView(**{f.name: getattr(made, f.name) for f in fields(PaperView)})


def test_run_stores_each_papers_text_with_its_edition(tmp_path: Path) -> None:
    """``newsletter run`` makes the texts at ingest and the store keeps them: the stored
    payload has one per paper (what the rendering would make), the published
    ``edition.json`` has none, and the edition read back carries them."""
    import sqlite3

    from cli_kit import init_project, newsletter

    project = init_project(tmp_path)
    digest = Path(__file__).parent / "digests" / "000_own_nov09.txt"
    newsletter("run", str(digest), "--date", "2026-03-11", "--no-send", cwd=project, check=True)
    with sqlite3.connect(project / "subscribers" / "newsletter.db") as db:
        [(stored,)] = db.execute("SELECT payload FROM editions").fetchall()
    edition = from_payload(stored)
    assert edition.papers and all(p.text is not None for p in edition.papers)
    assert [p.text for p in edition.papers] == [
        paper_text(replace(p, text=None)) for p in edition.papers
    ]
    [published] = (project / "site" / "editions").glob("*/edition.json")
    assert "texts" not in json.loads(published.read_text(encoding="utf-8"))
    assert published.read_text(encoding="utf-8") == edition_json.to_json(edition)


def test_texts_stored_under_other_rules_are_made_again() -> None:
    """A payload whose texts were made by other rules (an older teaser rule) reads back
    without them: the rendering makes them by today's rules, never a stale teaser."""
    bare = small_edition()
    data = json.loads(payload(with_texts(bare)))
    data["texts"]["rules"] = TEXT_RULES - 1
    for p in data["texts"]["papers"].values():
        p["teaser"] = "A stale teaser."
    back = from_payload(json.dumps(data))
    assert back == bare and all(p.text is None for p in back.papers)


# What paper_text makes of the project's digests: a change here is a change of the rules
# that make stored texts, and needs model.TEXT_RULES bumped with the new digest.
TEXTS_DIGEST = (1, "e7c5c94128984935aed6de5ca439849e002c63e8e42651a8d61f10d54627be2b")


def test_the_text_rules_are_pinned_to_their_version() -> None:
    import hashlib
    from datetime import date

    from newsletter.sources.text import read_digest

    h = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "digests").glob("*.txt")):  # the project's
        for e in read_digest(path, date(2026, 3, 11)).entries:
            t = paper_text(paper(0, title=e.title, abstract=e.abstract, authors=e.authors))
            h.update(json.dumps([t.title, t.abstract, t.teaser, t.authors]).encode())
    assert (TEXT_RULES, h.hexdigest()) == TEXTS_DIGEST, (
        "paper_text's output changed: bump newsletter.model.TEXT_RULES and set TEXTS_DIGEST"
    )

"""Cards that say what a paper does: the contribution sentence, authors, arXiv links, order."""

from __future__ import annotations

from dataclasses import replace

from render_kit import edition_of, paper, settings, visible

from newsletter.render import render_email
from newsletter.render.context import byline, card_order
from newsletter.render.teaser import contribution, sentences

BACKGROUND = (
    "Large Language Models (LLMs) have reshaped the landscape of artificial intelligence. "
    "However, their cost remains high, e.g. for long inputs of 3.5 million tokens. "
)


def test_contribution_skips_the_background_opener() -> None:
    abstract = BACKGROUND + "In this paper, we propose Sparse-X, a router for experts. It is fast."
    assert contribution(abstract) == "We propose Sparse-X, a router for experts."


def test_contribution_takes_this_paper_and_here_we() -> None:
    assert contribution(BACKGROUND + "This paper studies routing. More follows.") == (
        "This paper studies routing."
    )
    assert (
        contribution(BACKGROUND + "Here we show a bound. Then more.") == "We show a bound."
    )  # the lead-in goes


def test_a_strong_verb_beats_an_earlier_weak_one() -> None:
    abstract = BACKGROUND + "We find that caching helps. To this end, we introduce Cachet."
    assert contribution(abstract) == "We introduce Cachet."


def test_without_a_contribution_sentence_the_first_sentence_is_the_teaser() -> None:
    assert contribution(BACKGROUND) == BACKGROUND.split(". ")[0] + "."


def test_sentences_keep_abbreviations_and_decimals_inside() -> None:
    text = "Results of Smith et al. Show gains of 3.5 points, e.g. on MMLU. Done."
    assert sentences(text) == [
        "Results of Smith et al. Show gains of 3.5 points, e.g. on MMLU.",
        "Done.",
    ]


def test_byline_names_three_authors_then_et_al() -> None:
    assert byline(("A", "B")) == "A, B"
    assert byline(("A", "B", "C", "D")) == "A, B, C et al."
    assert byline(()) == ""


def test_cards_order_by_upvotes_then_digest_order() -> None:
    papers = [
        paper(1),
        paper(2, upvotes=5),
        paper(3),
        paper(4, upvotes=40),
        paper(5, upvotes=5),
    ]
    assert [p.key[-1] for p in card_order(papers)] == ["4", "2", "5", "1", "3"]


def test_email_card_shows_authors_upvotes_arxiv_links_and_no_section_tag() -> None:
    one = paper(
        7,
        "llm",
        extra=("vision",),
        abstract=BACKGROUND + "We introduce Cachet, a cache for attention keys. It is fast.",
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        upvotes=42,
        arxiv_id="2403.00007",
    )
    email = render_email(edition_of([one]), settings())
    page = visible(email.html)
    assert "We introduce Cachet, a cache for attention keys." in page
    assert "reshaped the landscape" not in page
    assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in page
    assert "Edsger" not in page
    assert "▲ 42" in page and "arXiv:2403.00007" in page
    assert 'href="https://arxiv.org/abs/2403.00007"' in email.html
    assert 'href="https://arxiv.org/pdf/2403.00007"' in email.html
    card = page.split("Language Models (1)")[-1]
    assert "Computer Vision" in card  # the other topic is named on the card
    assert "Language Models ·" not in card  # the section's own is not
    text = " ".join(email.text.split())
    assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in text
    assert "42 upvotes" in text and "PDF: https://arxiv.org/pdf/2403.00007" in text


def test_paper_without_arxiv_id_has_no_arxiv_links() -> None:
    one = replace(paper(8), arxiv_id=None, key="title:x", url="https://example.org/x")
    email = render_email(edition_of([one]), settings())
    assert "arxiv.org/pdf" not in email.html and "arXiv:" not in visible(email.html)


def test_topic_sets_share_the_paper_views_of_an_edition() -> None:
    from newsletter.render.email import meta_for, paper_views

    edition = edition_of([paper(1, "llm"), paper(2, "vision")])
    meta = meta_for(settings())
    assert paper_views(edition, meta) is paper_views(edition, meta)
    llm = render_email(edition, settings(), topics=frozenset({"llm"}))
    vision = render_email(edition, settings(), topics=frozenset({"vision"}))
    assert "Paper number 1" in llm.text and "Paper number 2" not in llm.text
    assert "Paper number 2" in vision.text

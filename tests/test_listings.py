"""A paper is made once, complete, from every listing of it in a run."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from newsletter.listings import MAX_ABSTRACT, MAX_AUTHORS, MAX_TITLE, bounded, link, new_papers
from newsletter.model import RawEntry
from newsletter.novelty import split
from newsletter.topics import Taxonomy, Topic

TAXONOMY = Taxonomy(
    (
        Topic("vision", "Computer Vision", keywords=(("segmentation", 3.0),)),
        Topic("other", "Other", fallback=True),
    )
)
TITLE = "Coastal Segmentation from Radar and Optical Tiles"
ABSTRACT = (
    "We collect a dataset of forty thousand annotated satellite tiles and propose a "
    "segmentation network that fuses optical and radar channels."
)


def listing(**fields: object) -> RawEntry:
    values: dict[str, object] = {"title": TITLE, "abstract": ABSTRACT, "source": "digest.txt"}
    return RawEntry(**{**values, **fields})  # type: ignore[arg-type]


def test_a_paper_first_seen_without_a_link_gets_the_arxiv_page_a_later_listing_names() -> None:
    """The text digest has no link; the feed listed later knows the arXiv id."""
    later = listing(source="arxiv", arxiv_id="2603.01234", categories=("cs.CV",))
    [paper] = new_papers(split([listing(), later], None), TAXONOMY)
    assert paper.url == "https://arxiv.org/abs/2603.01234"
    assert paper.arxiv_id == "2603.01234" and paper.categories == ("cs.CV",)
    assert paper.source == "digest.txt"  # the first listing decides the rest


def test_a_paper_without_a_link_takes_the_link_of_the_listing_that_names_it() -> None:
    later = listing(source="hf", arxiv_id="2603.01234", url="https://hf.example/2603.01234")
    stray = listing(source="blog", url="https://blog.example/post")  # no id: names nothing
    [paper] = new_papers(split([listing(), stray, later], None), TAXONOMY)
    assert paper.url == "https://hf.example/2603.01234"


def test_a_paper_keeps_its_own_link_when_a_later_listing_has_another() -> None:
    first = listing(url="https://example.org/paper")
    later = listing(source="hf", arxiv_id="2603.01234", url="https://hf.example/2603.01234")
    [paper] = new_papers(split([first, later], None), TAXONOMY)
    assert paper.url == "https://example.org/paper" and paper.arxiv_id == "2603.01234"


def test_later_listings_fill_only_what_the_first_lacks() -> None:
    first = listing(authors=("A. Author",))
    hf = listing(source="hf", upvotes=7, authors=("Someone Else",))
    feed = listing(source="feed", upvotes=99, categories=("cs.CV",))
    [paper] = new_papers(split([first, hf, feed], None), TAXONOMY)
    assert (paper.authors, paper.upvotes, paper.categories) == (("A. Author",), 7, ("cs.CV",))


def test_a_paper_is_classified_on_what_its_listings_know_together() -> None:
    """The categories come from the second listing and still count for the topic."""
    first = listing(title="A Network for Tiles", abstract="We study tiles.")
    later = listing(title="A Network for Tiles", abstract="We study tiles.", categories=("cs.CV",))
    taxonomy = Taxonomy(
        (
            Topic("vision", "Computer Vision", categories=("cs.CV",)),
            Topic("other", "Other", fallback=True),
        )
    )
    [paper] = new_papers(split([first, later], None), taxonomy)
    assert paper.topics == ("vision",) and paper.topic == "vision"


def test_the_link_of_a_listing_in_order_of_precedence() -> None:
    assert link(listing(url="https://x.example/p", arxiv_id="2603.01234")) == "https://x.example/p"
    assert link(listing(arxiv_id="2603.01234")) == "https://arxiv.org/abs/2603.01234"
    assert link(listing()).startswith("https://arxiv.org/search/?searchtype=title&query=Coastal+")


@given(st.lists(st.sampled_from(["Alpha", "ALPHA", "Beta", "Gamma"]), max_size=10))
def test_one_complete_paper_per_new_entry_in_input_order(titles: list[str]) -> None:
    verdicts = split([listing(title=t) for t in titles], None)
    papers = new_papers(verdicts, TAXONOMY)
    assert [p.key for p in papers] == [v.key for v in verdicts if v.new]
    assert all(p.url and p.topics and p.topic == p.topics[0] for p in papers)


def test_every_field_of_a_listing_is_bounded_with_one_warning_naming_it() -> None:
    """Entity expansion once published a 1,000,007-character title (issue 10)."""

    huge = listing(
        title="Laughs " + "a" * 1_000_000,
        abstract="b " * 20_000,
        authors=tuple(f"Author {n}" for n in range(3_000)),
        url="https://example.org/" + "x" * 5_000,
        source="laughs.rss",
        arxiv_id="2611.00100",
    )
    warnings: list[str] = []
    [paper] = new_papers(split([bounded(huge, warnings)], None), TAXONOMY)
    assert len(paper.title) == MAX_TITLE and paper.title.endswith("…")
    assert len(paper.abstract) <= MAX_ABSTRACT and paper.abstract.endswith("…")
    assert len(paper.authors) == MAX_AUTHORS and paper.authors[0] == "Author 0"
    assert paper.url == "https://arxiv.org/abs/2611.00100"  # a cut URL would be broken
    assert warnings == [
        "laughs.rss: item 2611.00100: title cut to 1,000 characters (it had 1,000,007)",
        "laughs.rss: item 2611.00100: abstract cut to 10,000 characters (it had 40,000)",
        "laughs.rss: item 2611.00100: authors: kept the first 200 of 3,000 names",
        "laughs.rss: item 2611.00100: link of 5,020 characters (over 2,048) not used",
    ]
    assert bounded(bounded(huge)) == bounded(huge)


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_a_paper_carries_no_bidirectional_control_whatever_its_source() -> None:
    """edition.json kept U+202E and every output kept U+200F; removed once, here."""
    entry = listing(
        title=f"Bidi {BIDI}title \u202egnp.exe\u202c",
        abstract=f"An {BIDI} abstract",
        authors=("Eve \u202ereversed", "\u200f"),
    )
    [paper] = new_papers(split([entry], None), TAXONOMY)
    assert paper.title == "Bidi title gnp.exe"
    assert paper.abstract == "An abstract"
    assert paper.authors == ("Eve reversed",)
    assert not any(ch in BIDI for ch in paper.title + paper.abstract + "".join(paper.authors))

"""Every input that ever crashed a parser, read again on every run (``tests/corpus/``).

Whatever the fuzzers explore on a given day, these stay fixed: each is
accepted or refused with one clear :class:`NewsletterError`, never another
exception (warnings are errors in this suite).  Where an input mixes hostile
items with good ones, the good ones come through and each hostile one is
either read (what could be read of it) or reported in one line naming the
source and the item.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from crashkit import TARGETS, corpus, read

from newsletter.errors import NewsletterError
from newsletter.sources.feed import FeedError, ParsedFeed, html_to_text
from newsletter.sources.hf import HfError, parse_hf

CASES = [(target, path) for target in TARGETS for path in corpus(target)]


@pytest.mark.parametrize(("target", "path"), CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_a_past_crash_input_is_accepted_or_refused_in_one_line(target: str, path: Path) -> None:
    try:
        read(target, path.read_bytes())
    except NewsletterError as exc:
        assert exc.message.strip()
        assert "\n" not in exc.message or target == "config"


def test_the_corpus_holds_every_crash_named_in_issue_10() -> None:
    names = {f"{t}/{p.name}" for t, p in CASES}
    assert {
        "hf/nested-arrays-100000.json",
        "hf/upvotes-5000-digits.json",
        "hf/upvotes-out-of-range.json",
        "feed/marked-section-in-title.xml",
        "feed/entity-expansion-nested.xml",
        "feed/entity-expansion-one-item.xml",
        "feed/cdata-nameless-declaration.xml",
        "feed/bidi-controls.xml",
        "hf/bidi-controls-and-odd-upvotes.json",
        "hf/upvotes-not-counts.json",
    } <= names


def _parsed(target: str, name: str) -> ParsedFeed:
    [path] = [p for p in corpus(target) if p.name == name]
    result = read(target, path.read_bytes())
    assert isinstance(result, ParsedFeed)
    return result


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("feed", "marked-section-in-title.xml"),
        ("feed", "surrogate-charref.xml"),
        ("feed", "arxiv-version-5000-digits.xml"),
        ("hf", "marked-section-in-title.json"),
        ("hf", "upvotes-5000-digits.json"),
        ("hf", "upvotes-out-of-range.json"),
        ("hf", "lone-surrogates.json"),
        ("hf", "arxiv-version-5000-digits.json"),
        ("hf", "upvotes-not-counts.json"),
        ("feed", "cdata-nameless-declaration.xml"),
    ],
)
def test_one_hostile_item_costs_the_source_none_of_its_good_items(target: str, name: str) -> None:
    parsed = _parsed(target, name)
    titles = [e.title for e in parsed.digest.entries]
    assert "A good paper" in titles
    good = next(e for e in parsed.digest.entries if e.title == "A good paper")
    assert good.arxiv_id == "2403.01234"
    assert len(titles) >= 2, f"the hostile items were dropped unreported: {parsed.warnings}"


def test_a_title_with_a_bad_marked_section_keeps_its_text() -> None:
    """``&lt;![`` made html.parser raise AssertionError and ended every source's edition."""
    parsed = _parsed("feed", "marked-section-in-title.xml")
    assert parsed.digest.entries[0].title == "Bold <![ claims"
    assert html_to_text("x <![if !supportLists]> y <b>z</b>") == "x y z"
    assert html_to_text("a <![ b") == "a <![ b"


def test_upvotes_out_of_range_are_dropped_with_one_line_each() -> None:
    parsed = _parsed("hf", "upvotes-out-of-range.json")
    upvotes = {e.title: e.upvotes for e in parsed.digest.entries}
    assert upvotes == {"Negative": None, "Astronomical": None, "A good paper": 3}
    assert parsed.warnings == (
        "h: item 1 (2403.00002): upvotes -5 out of range (0..1000000000); ignored",
        "h: item 2 (2403.00003): upvotes 1000000000000000000 out of range (0..1000000000); ignored",
    )
    huge = _parsed("hf", "upvotes-5000-digits.json")
    assert [e.upvotes for e in huge.digest.entries] == [None, 3]
    assert huge.warnings == (
        "h: item 1 (2403.00001): upvotes 999999999999… (5000 digits) out of range; ignored",
    )


def test_json_nested_past_the_recursion_limit_is_refused_as_the_source_s_error() -> None:
    [path] = [p for p in corpus("hf") if p.name == "nested-arrays-100000.json"]
    with pytest.raises(HfError, match=r"^h: JSON nested too deeply to read"):
        parse_hf(path.read_bytes(), name="h")


@pytest.mark.parametrize("name", ["entity-expansion-nested.xml", "entity-expansion-one-item.xml"])
def test_a_document_declaring_entities_is_refused_before_it_expands(name: str) -> None:
    """885 bytes of nested ``<!ENTITY>`` published 1 MB titles past fetch.max_mb."""
    [path] = [p for p in corpus("feed") if p.name == name]
    with pytest.raises(FeedError, match=r"^f: refused: the document declares entities"):
        read("feed", path.read_bytes())
    as_utf16 = path.read_text(encoding="utf-8").replace(
        'version="1.0"?>', 'version="1.0" encoding="utf-16"?>'
    )
    with pytest.raises(FeedError, match="declares entities"):
        read("feed", as_utf16.encode("utf-16"))  # no encoding slips one past


def test_a_nameless_declaration_in_cdata_is_read_once() -> None:
    """feedparser's HTML passes emitted ``<![CDATA[<![ &lt;![ <!]]>`` 9 times over."""
    parsed = _parsed("feed", "cdata-nameless-declaration.xml")
    [garbled] = [e for e in parsed.digest.entries if e.title == "Garbled"]
    assert garbled.abstract == "<![ <![ <!"


def test_every_refused_upvotes_value_gets_one_warning_naming_the_item() -> None:
    """ "12" is a count; "NaN", 3.7, true, [1, 2] and 1e999 were dropped without a word."""
    parsed = _parsed("hf", "upvotes-not-counts.json")
    upvotes = {e.title: e.upvotes for e in parsed.digest.entries}
    assert upvotes == {
        "Odd 1": 12,
        "Odd 2": None,
        "Odd 3": None,
        "Odd 4": None,
        "Odd 5": None,
        "Infinite": None,
        "A good paper": 3,
    }
    assert parsed.warnings == (
        'h: item 2 (2403.00002): upvotes "NaN" is not a number; ignored',
        "h: item 3 (2403.00003): upvotes 3.7 is not a whole number; ignored",
        "h: item 4 (2403.00004): upvotes true is not a number; ignored",
        "h: item 5 (2403.00005): upvotes a JSON array is not a number; ignored",
        "h: item 6 (2403.00006): upvotes Infinity is not a finite number; ignored",
    )

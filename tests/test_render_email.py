"""The HTML email and its text part: content, escaping, size budget, recipient links."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from render_kit import large_edition, parse_html, settings, small_edition, visible

from newsletter.model import Edition
from newsletter.render import (
    PREFERENCES_TOKEN,
    UNSUBSCRIBE_TOKEN,
    VOTE_TOKEN,
    RecipientLinks,
    render_email,
)
from newsletter.render.email import _cost
from newsletter.render.teaser import teaser
from newsletter.render.untrusted import clean_text, safe_url


def test_every_title_is_in_both_parts() -> None:
    edition = small_edition()
    email = render_email(edition, settings())
    text_html = visible(email.html)
    text_plain = " ".join(email.text.split())
    for p in edition.papers:
        assert clean_text(p.title) in text_html
        assert clean_text(p.title) in text_plain


def test_hostile_title_is_plain_text_everywhere() -> None:
    email = render_email(small_edition(), settings())
    tags = [tag for tag, _ in parse_html(email.html).tags]
    assert "script" not in tags and "img" not in tags and "b" not in tags
    assert '<script>alert("x")</script>' in visible(email.html)
    for part in (email.html, email.text, email.subject):
        assert "\u202e" not in part and "\x07" not in part and "\x1b" not in part
    assert 'Attention <script>alert("x")</script> & Tables ]]> evil bell' in email.text


def test_unsafe_paper_url_falls_back_to_the_edition_page() -> None:
    email = render_email(small_edition(), settings())
    hrefs = [a.get("href") or "" for tag, a in parse_html(email.html).tags if tag == "a"]
    assert not any(h.lower().startswith("javascript:") for h in hrefs)
    assert all(h.startswith(("https://", "#", "%%")) for h in hrefs)


def test_email_has_lang_headings_and_no_images() -> None:
    email = render_email(small_edition(), settings(newsletter__language="de"))
    tags = parse_html(email.html).tags
    html_attrs = next(a for t, a in tags if t == "html")
    assert html_attrs.get("lang") == "de"
    names = [t for t, _ in tags]
    assert names.count("h1") == 1 and "h2" in names and "h3" in names
    assert "img" not in names
    assert "prefers-color-scheme: dark" in email.html
    assert "data-ogsc" not in email.html  # attribute selectors Outlook for Windows rejects


def test_header_toc_and_footer() -> None:
    s = settings(newsletter__postal_address="Example Ltd, 5 Road, Town")
    email = render_email(small_edition(), s)
    page = visible(email.html)
    assert "Test Papers" in page and "Friday 20 November 2026" in page and "5 new papers" in page
    # the contents link to the sections of the edition page (in-email #anchors
    # do nothing in Gmail for iOS)
    assert not re.findall(r'href="#', email.html)
    toc = re.findall(
        r'href="https://papers.example.org/editions/2026-11-20/#(topic-[^"]+)"', email.html
    )
    assert toc and all(t.startswith("topic-") for t in toc)
    assert "Example Ltd, 5 Road, Town" in page and "Example Ltd, 5 Road, Town" in email.text
    assert "https://papers.example.org/editions/2026-11-20/" in email.html
    assert "https://papers.example.org/feed.xml" in email.html
    assert email.subject == "Test Papers: 5 new papers, Friday 20 November 2026"


def test_placeholders_stand_for_the_recipient_links_until_delivery() -> None:
    """Without links both parts carry the tokens; with links, the escaped URLs instead."""
    email = render_email(small_edition(), settings())
    assert UNSUBSCRIBE_TOKEN in email.html and UNSUBSCRIBE_TOKEN in email.text
    assert PREFERENCES_TOKEN in email.html and PREFERENCES_TOKEN in email.text
    assert VOTE_TOKEN in email.html and VOTE_TOKEN in email.text
    links = RecipientLinks(
        "https://x.example/u?a=1&b=2", "https://x.example/p?a=1&b=2", "Vote-Token.1"
    )
    mine = render_email(small_edition(), settings(), links=links)
    assert "%%" not in mine.html and "%%" not in mine.text
    assert 'href="https://x.example/u?a=1&amp;b=2"' in mine.html
    assert "https://x.example/u?a=1&b=2" in mine.text
    # the tokens are the only difference: the layout does not depend on the links
    assert email.html.replace(UNSUBSCRIBE_TOKEN, "U").replace(PREFERENCES_TOKEN, "P").replace(
        VOTE_TOKEN, "V"
    ) == (
        mine.html.replace("https://x.example/u?a=1&amp;b=2", "U")
        .replace("https://x.example/p?a=1&amp;b=2", "P")
        .replace("Vote-Token.1", "V")
    )
    # a copy nobody receives (archive, preview) has no vote links at all
    public = render_email(small_edition(), settings(), links=RecipientLinks("u", "p"))
    assert "/vote?" not in public.html + public.text
    assert "papers.example.org/v/" not in public.html + public.text


def test_topics_filter_keeps_only_those_sections() -> None:
    email = render_email(small_edition(), settings(), topics=frozenset({"vision"}))
    assert "Paper number 3" in email.html and "Paper number 1:" not in email.html
    assert "1 new paper" in visible(email.html)


def test_editor_note_is_rendered_from_markdown() -> None:
    note = "Welcome to **issue one**.\n\n- a list item"
    email = render_email(replace(small_edition(), note=note), settings())
    assert "<strong>issue one</strong>" in email.html and "<li>a list item</li>" in email.html
    assert "Welcome to **issue one**." in email.text


def test_an_edition_without_a_note_shows_none() -> None:
    email = render_email(small_edition(), settings())
    assert "border-left:3px" not in email.html and "Welcome" not in email.text


def test_a_large_edition_fits_the_budget_with_every_title() -> None:
    edition = large_edition(102)
    email = render_email(edition, settings())
    assert len(email.html.encode("utf-8")) <= 100_000 - 2 * 300
    page = visible(email.html)
    assert all(p.title in page for p in edition.papers)
    assert all(p.title in email.text for p in edition.papers)


def test_a_huge_edition_overflows_to_the_archive() -> None:
    edition = large_edition(1500)
    email = render_email(edition, settings())
    assert len(email.html.encode("utf-8")) <= 100_000
    assert re.search(r"\d+ more in Language Models →", visible(email.html))
    assert "https://papers.example.org/editions/2026-11-20/#topic-llm" in email.html
    assert "Unsubscribe" in visible(email.html)  # the footer survives


@pytest.mark.parametrize("budget", [20, 40, 60])
def test_budget_is_configurable(budget: int) -> None:
    email = render_email(large_edition(200), settings(email__budget_kb=budget))
    assert len(email.html.encode("utf-8")) <= budget * 1000


def test_budget_degrades_teasers_before_titles() -> None:
    edition = large_edition(100)  # one-sentence teasers: 87 KB when the budget allows
    roomy = render_email(edition, settings(email__budget_kb=500))
    tight = render_email(edition, settings(email__budget_kb=60))
    assert len(tight.html) < len(roomy.html)
    assert all(p.title in visible(tight.html) for p in edition.papers)


def test_vote_links_go_before_any_teaser_is_cut() -> None:
    """A subscriber's copy (vote links on) of an edition whose cards fit only without
    their 👍/👎 links keeps every card with its full teaser and drops the two thumbs,
    each card's "Abstract" still the signed link to the paper page with the same vote
    (and the text part keeps both vote links); a small edition keeps them on every card."""
    edition = large_edition(100)
    roomy = render_email(edition, settings(email__budget_kb=500))
    assert roomy.html.count(VOTE_TOKEN) == 300  # 👍, 👎 and its "Abstract" on every card
    plain = render_email(edition, settings(email__budget_kb=500), links=_no_votes())
    assert VOTE_TOKEN not in plain.html
    thumbs = re.compile(r' <a href="[^"]*/up">👍</a> <a href="[^"]*/down">👎</a>')
    assert len(thumbs.findall(roomy.html)) == 100
    budget_kb = (_cost(thumbs.sub("", roomy.html)) + 1500) // 1000  # the cards, not thumbs
    assert budget_kb * 1000 < _cost(roomy.html)
    tight = render_email(edition, settings(email__budget_kb=budget_kb))
    assert "/up" not in tight.html and tight.html.count(VOTE_TOKEN) == 100
    assert re.findall(r'href="([^"]*)"[^>]*>Abstract<', tight.html) == re.findall(
        r'href="([^"]*)"[^>]*>Abstract<', roomy.html
    )
    assert tight.html.count(">Abstract<") == roomy.html.count(">Abstract<") == 100
    assert tight.text == roomy.text  # nothing clips the text part: its votes stay
    assert thumbs.sub("", roomy.html) == tight.html  # the same cards, teasers whole
    small = render_email(small_edition(), settings())
    assert small.html.count(VOTE_TOKEN) == 3 * len(small_edition().papers)


def _no_votes() -> RecipientLinks:
    """The placeholder links of a subscriber's copy, less the vote link."""
    return replace(RecipientLinks.placeholders(), vote_token="")


def test_empty_edition_renders() -> None:
    email = render_email(Edition(date=date(2026, 1, 2), sections=()), settings())
    assert "No new papers today." in visible(email.html) and "0 new papers" in email.subject


def test_second_edition_of_a_day_says_so() -> None:
    edition = Edition(date=date(2026, 1, 2), sections=small_edition().sections, number=2)
    email = render_email(edition, settings())
    assert "(edition 2)" in email.subject
    assert "https://papers.example.org/editions/2026-01-02-2/" in email.html


def test_rendering_is_deterministic() -> None:
    assert render_email(small_edition(), settings()) == render_email(small_edition(), settings())


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short.", 50, "Short."),
        (
            "First sentence here. Second sentence is longer than the limit.",
            40,
            "First sentence here. Second sentence is…",
        ),
        ("One two three four five six seven eight nine ten", 20, "One two three four…"),
        (
            "A. Then a very long second sentence without any end in sight",
            40,
            "A. Then a very long second sentence…",
        ),
    ],
)
def test_teaser_cuts_at_a_word(text: str, limit: int, expected: str) -> None:
    assert teaser(text, limit) == expected
    assert len(teaser(text, limit)) <= limit + 1


def test_clean_text_and_safe_url() -> None:
    assert clean_text("a\u202eb\u2066c\x00d \n\t e") == "abcd e"
    # the bidi marks go too: one set (repair.BIDI_CONTROLS), removed where a Paper is made
    assert clean_text("mot\u200fs") == "mots"
    assert safe_url("https://e.org/x", "F") == "https://e.org/x"
    for bad in ("javascript:alert(1)", "data:text/html,x", "/relative", "https://e.org/a b", None):
        assert safe_url(bad, "F") == "F"

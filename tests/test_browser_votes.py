"""👍 from a delivered email in headless Chromium: a page with a button, only its POST
records; the next edition puts similar papers first with a reason; reset undoes it.

Real server, real SMTP (loopback), Debian's Chromium through Playwright; skipped
without it unless ``NEWSLETTER_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from delivery_kit import bodies, parse, served_subscribers

from newsletter import pipeline
from newsletter.render import archive, render_email
from newsletter.store import Database
from newsletter.subscribers.subscriptions import Subscriptions
from newsletter.urls import paper_ref

DIGESTS = Path(__file__).parent / "digests"
READER = "reader@example.org"
TIMEOUT = 60_000  # ms: a loaded two-core box


def _votes(store: Database) -> list[tuple[str, bool]]:
    reader = Subscriptions(store).by_email(READER)
    assert reader is not None
    with store.read() as tx:
        return sorted((v.paper_key, v.liked) for v in tx.votes.of(reader.id))


def _titles(text: str) -> list[str]:
    """The paper lines of a text part's sections, in order (top picks left out)."""
    text = text.replace("\r\n", "\n")
    return re.findall(r"^\* (.+)$", text[text.index("In this edition:") :], re.M)


def test_a_thumbs_up_from_the_email_ranks_the_next_edition_and_reset_undoes_it(
    browser: Any, tmp_path: Path
) -> None:
    with served_subscribers(tmp_path) as (base, settings, store, smtp):
        Subscriptions(store).add(READER, None, confirmed=True, method="test", now=datetime.now(UTC))
        first = pipeline.run(settings, [str(DIGESTS / "000_own_nov09.txt")], date(2026, 11, 9))
        assert first.delivery is not None and first.delivery.sent == 1
        text, html = bodies(parse(smtp.handler.received_by(READER)[-1]))  # type: ignore[attr-defined]
        liked = [p.key for p in first.edition.papers if p.topics[0] == "llm"]
        assert liked

        page = browser.new_page()
        page.set_default_timeout(TIMEOUT)
        for n, key in enumerate(liked):
            page.set_content(html)  # the delivered email, as a mail client shows it
            link = page.locator(f'a[href$="/{paper_ref(key)}/up"]')
            href = link.get_attribute("href")
            assert href and href.startswith(base + "v/")
            with page.expect_navigation():
                link.click()
            assert page.inner_text("h1") == "More like this?"
            assert page.locator("#vote").is_visible()
            assert httpx.head(href, timeout=30).status_code == 200
            assert httpx.get(href, timeout=30).status_code == 200
            assert len(_votes(store)) == n  # opening the link (GET, HEAD) records nothing
            with page.expect_navigation():
                page.click("#vote")
            assert page.inner_text("h1") == "Vote recorded"
            assert "👍 noted" in page.inner_text("[role=status]")
        assert _votes(store) == sorted((k, True) for k in liked)

        # the next edition: similar papers first, with a reason
        second = pipeline.run(settings, [str(DIGESTS / "001_own_nov10.txt")], date(2026, 11, 10))
        assert second.delivery is not None and second.delivery.sent == 1
        text, html = bodies(parse(smtp.handler.received_by(READER)[-1]))  # type: ignore[attr-defined]
        page.set_content(html)
        assert "Top picks for you" in page.inner_text("body")
        picks = text[text.index("== Top picks") : text.index("In this edition:")]
        llm_today = [p.title for p in second.edition.papers if p.topics[0] == "llm"]
        assert llm_today and all(t.split(":")[0] in picks for t in llm_today)
        assert re.search(r"^  Why: (because you liked|matches:) ", picks, re.M)

        # reset from the preferences page: back to the digest's order
        preferences = re.search(r"http://127\.0\.0\.1:\d+/preferences\?t=\S+", text)
        assert preferences
        page.goto(preferences.group(0))
        with page.expect_navigation():
            page.click("#reset")
        assert "Forgot your" in page.inner_text("[role=status]")
        assert _votes(store) == []
        third = pipeline.run(settings, [str(DIGESTS / "003_own_nov11.txt")], date(2026, 11, 11))
        assert third.delivery is not None and third.delivery.sent == 1
        text, html = bodies(parse(smtp.handler.received_by(READER)[-1]))  # type: ignore[attr-defined]
        assert "Top picks" not in text + html
        assert _titles(text) == _titles(render_email(third.edition, settings).text)
        page.close()


def test_the_archive_page_reached_from_the_email_carries_the_same_vote(
    browser: Any, tmp_path: Path
) -> None:
    """A card's "Abstract" in the email leads to the archive's paper page with 👍/👎 for
    this reader (the web app redirects there with their token in the fragment); the
    same page opened any other way has none, and the file is the same for everyone."""
    with served_subscribers(tmp_path) as (base, settings, store, smtp):
        Subscriptions(store).add(READER, None, confirmed=True, method="test", now=datetime.now(UTC))
        first = pipeline.run(settings, [str(DIGESTS / "000_own_nov09.txt")], date(2026, 11, 9))
        assert first.delivery is not None and first.delivery.sent == 1
        _, html = bodies(parse(smtp.handler.received_by(READER)[-1]))  # type: ignore[attr-defined]
        key = first.edition.papers[0].key
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT)
        page.set_content(html)
        up = page.locator(f'a[href$="/{paper_ref(key)}/up"]').get_attribute("href")
        assert up
        abstract = up.removesuffix("/up")
        token = abstract.split("/")[-2]
        assert page.locator(f'a[href="{abstract}"]', has_text="Abstract").count() == 1
        paper_file = settings.output.site_dir / archive.paper_dir(key) / "index.html"
        assert paper_file.is_file(), paper_file
        assert token not in paper_file.read_text(encoding="utf-8")  # the file is everyone's

        # what the app answers: the archive's paper page, the token in the fragment
        moved = httpx.get(abstract, timeout=30)
        assert moved.status_code == 303
        target = moved.headers["location"]
        assert target == f"{base}{archive.paper_dir(key)}#v={token}"
        assert httpx.head(abstract, timeout=30).status_code in (303, 405)
        assert _votes(store) == []
        forged = httpx.get(abstract.replace(token, token[:-3] + "AAA"), timeout=30)
        assert forged.status_code >= 400 and "location" not in forged.headers

        # the archive's page as the reader's browser gets it (published files, from disk)
        page.goto(paper_file.as_uri())  # opened without the email's fragment: no votes
        assert not page.locator("#nl-vote").is_visible()
        page.goto(paper_file.as_uri() + "#v=not-a-token")
        assert not page.locator("#nl-vote").is_visible()
        page.close()
        page = browser.new_page()  # as the redirect opens it
        page.set_default_timeout(TIMEOUT)
        page.goto(paper_file.as_uri() + target[target.index("#") :])
        vote = page.locator("#nl-vote a[data-direction=up]")
        assert vote.is_visible()
        assert vote.get_attribute("href") == up  # the email's own 👍 link
        with page.expect_navigation():
            vote.click()
        assert page.inner_text("h1") == "More like this?"
        assert _votes(store) == []  # the page asks first
        with page.expect_navigation():
            page.click("#vote")
        assert page.inner_text("h1") == "Vote recorded"
        assert _votes(store) == [(key, True)]
        page.close()


def test_a_card_whose_thumbs_the_budget_left_out_is_voted_on_from_its_abstract(
    browser: Any, tmp_path: Path
) -> None:
    """An email that fits its budget only without the cards' 👍/👎 (Gmail clips a large
    edition): the delivered card's "Abstract" is the reader's signed link, the web app
    sends it to the archive's paper page with their 👍/👎, and a vote from there is
    recorded after its one-button page — no login, no step a reader could not take.
    The text part of the same message keeps both vote links of every card."""
    digest = str(DIGESTS / "000_own_nov09.txt")
    day = date(2026, 11, 9)
    with served_subscribers(tmp_path) as (base, settings, store, smtp):
        Subscriptions(store).add(READER, None, confirmed=True, method="test", now=datetime.now(UTC))
        shown = pipeline.preview(settings, [digest], day, tmp_path / "preview").edition
        roomy = render_email(shown, settings).html  # a subscriber's copy, every vote link
        thumbs = re.compile(r' <a href="[^"]*/up">👍</a> <a href="[^"]*/down">👎</a>')
        assert len(thumbs.findall(roomy)) == len(shown.papers)
        budget_kb = (len(thumbs.sub("", roomy).encode()) + 1500) // 1000  # not the thumbs
        assert budget_kb * 1000 < len(roomy.encode())
        tight = replace(settings, email=replace(settings.email, budget_kb=budget_kb))
        first = pipeline.run(tight, [digest], day)
        assert first.delivery is not None and first.delivery.sent == 1
        text, html = bodies(parse(smtp.handler.received_by(READER)[-1]))  # type: ignore[attr-defined]
        assert "/up" not in html  # the budget took the thumbs out of the HTML cards
        key = first.edition.papers[0].key
        ref = paper_ref(key)
        assert f"/{ref}/up" in text and f"/{ref}/down" in text  # the text part keeps them

        page = browser.new_page()
        page.set_default_timeout(TIMEOUT)
        page.set_content(html)  # the delivered email, as a mail client shows it
        abstract = page.locator(f'a[href$="/{ref}"]', has_text="Abstract")
        assert abstract.count() == 1
        href = abstract.get_attribute("href")
        assert href and href.startswith(base + "v/")
        token = href.split("/")[-2]
        moved = httpx.get(href, timeout=30)  # what the app answers: no login, a redirect
        assert moved.status_code == 303
        target = moved.headers["location"]
        assert target == f"{base}{archive.paper_dir(key)}#v={token}"
        assert _votes(store) == []

        paper_file = settings.output.site_dir / archive.paper_dir(key) / "index.html"
        page.goto(paper_file.as_uri() + target[target.index("#") :])  # as the redirect opens it
        vote = page.locator("#nl-vote a[data-direction=down]")
        assert vote.is_visible()
        assert vote.get_attribute("href") == f"{href}/down"
        with page.expect_navigation():
            vote.click()
        assert page.inner_text("h1") == "Less like this?"
        assert _votes(store) == []  # the page asks first
        with page.expect_navigation():
            page.click("#vote")
        assert page.inner_text("h1") == "Vote recorded"
        assert _votes(store) == [(key, False)]
        page.close()


def test_the_token_leaves_the_address_bar_and_the_votes_still_work(
    browser: Any, tmp_path: Path
) -> None:
    """The card's "Abstract" opens the archive's paper page (served by the app) with the
    reader's token in the fragment; ``vote.js`` reads it and drops it from the address
    bar, so a copied, bookmarked or shared address carries no token, nor does the page's
    history entry.  The 👍 built from it still works, an in-page link keeps it, and its
    button records one vote however often it is pressed."""
    with served_subscribers(tmp_path) as (base, settings, store, smtp):
        Subscriptions(store).add(READER, None, confirmed=True, method="test", now=datetime.now(UTC))
        first = pipeline.run(settings, [str(DIGESTS / "000_own_nov09.txt")], date(2026, 11, 9))
        assert first.delivery is not None and first.delivery.sent == 1
        _, html = bodies(parse(smtp.handler.received_by(READER)[-1]))  # type: ignore[attr-defined]
        key = first.edition.papers[0].key
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT)
        page.set_content(html)  # the delivered email, as a mail client shows it
        abstract = page.locator(f'a[href$="/{paper_ref(key)}"]', has_text="Abstract")
        href = abstract.get_attribute("href")
        assert href and href.startswith(base + "v/")
        token = href.split("/")[-2]

        page.goto(href)  # the app's 303 to the paper page, #v=<token>, over HTTP
        vote = page.locator("#nl-vote a[data-direction=up]")
        vote.wait_for(state="visible")
        assert page.url == f"{base}{archive.paper_dir(key)}"  # what a copy of it gets
        assert page.evaluate("window.location.hash") == ""
        assert token not in page.url
        assert vote.get_attribute("href") == f"{href}/up"
        page.click('a[href="#top"]')  # an in-page link: the votes stay
        assert vote.is_visible() and vote.get_attribute("href") == f"{href}/up"

        with page.expect_navigation():
            vote.click()
        assert page.inner_text("h1") == "More like this?"
        assert _votes(store) == []  # the page asks first
        with page.expect_navigation():
            page.click("#vote")
        assert page.inner_text("h1") == "Vote recorded"
        assert _votes(store) == [(key, True)]
        page.go_back()  # the vote page again (no-store: fetched anew), its button again
        assert page.inner_text("h1") == "More like this?"
        with page.expect_navigation():
            page.click("#vote")
        assert "nothing changed" in page.inner_text("[role=status]")
        assert _votes(store) == [(key, True)]  # recorded once
        page.go_back()
        page.go_back()  # the paper page's history entry: without the token
        assert page.url.startswith(f"{base}{archive.paper_dir(key)}")
        assert "#v=" not in page.url and token not in page.url
        page.close()

"""A subscriber's whole journey in headless Chromium, against the real server and SMTP.

subscribe → read the confirmation email from the SMTP server → confirm → change
topics → receive a personalised edition → unsubscribe from the email's footer
in one click.  Chromium is Debian's (``/usr/bin/chromium``), driven by
Playwright; without it the test is skipped unless ``NEWSLETTER_REQUIRE_BROWSER=1``
(CI sets it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from delivery_kit import SAMPLE, bodies, parse, served_subscribers

from newsletter import pipeline
from newsletter.store import Database
from newsletter.subscribers.subscriptions import Subscriptions


def test_subscribe_confirm_choose_topics_receive_and_unsubscribe(
    browser: Any, tmp_path: Path
) -> None:
    with served_subscribers(tmp_path) as (base, settings, store, smtp):
        page = browser.new_page()
        # subscribe: only Language Models and Speech & Audio
        page.goto(base + "subscribe")
        page.fill("#email", "Reader@Example.org")
        for box in page.query_selector_all("input[name=topics]"):
            if box.get_attribute("value") not in ("llm", "audio"):
                box.uncheck()
        page.click("#subscribe")
        assert "Check your inbox" in page.inner_text("h1")

        # the confirmation email, from the SMTP server
        [mail] = smtp.handler.wait_for("reader@example.org")
        message = parse(mail)
        assert message["List-Unsubscribe"] is None
        text, _ = bodies(message)
        link = re.search(r"http://127\.0\.0\.1:\d+/confirm\?t=\S+", text)
        assert link
        page.goto(link.group(0))
        assert _status(store) == "pending"  # opening the link confirms nothing
        page.click("#confirm")
        assert "You are subscribed" in page.inner_text("h1")
        assert _status(store) == "confirmed"

        # change topics: Computer Vision only
        page.click("#preferences")
        for box in page.query_selector_all("input[name=topics]"):
            box.set_checked(box.get_attribute("value") == "vision")
        page.click("#save")
        assert "Your topics are saved." in page.inner_text("[role=status]")

        # the edition arrives with the chosen section only
        report = pipeline.run(settings, [str(SAMPLE)], datetime(2026, 11, 20, tzinfo=UTC).date())
        assert report.delivery is not None and report.delivery.sent == 1
        digest = parse(smtp.handler.received_by("reader@example.org")[-1])
        text, html = bodies(digest)
        assert "Computer Vision" in text and "Language Models" not in text
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # open the email and unsubscribe from its footer
        page.set_content(html)
        page.click("text=Unsubscribe")
        page.wait_for_selector("#unsubscribe")
        assert _status(store) == "confirmed"  # the link alone changes nothing
        page.click("#unsubscribe")
        assert "Unsubscribed" in page.inner_text("h1")
        assert _status(store) == "unsubscribed"
        page.close()


def _status(store: Database) -> str:
    found = Subscriptions(store).by_email("reader@example.org")
    assert found is not None
    return found.status


def test_the_sign_up_page_selects_all_or_none_at_once_and_fits_a_phone(
    browser: Any, tmp_path: Path
) -> None:
    with served_subscribers(tmp_path) as (base, _settings, _store, smtp):
        for width in (375, 1280):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(base + "subscribe")
            boxes = "input[name=topics]"
            assert page.eval_on_selector_all(boxes, "bs => bs.every(b => b.checked)")
            page.click("text=Select none")
            assert page.url == base + "subscribe"  # no round trip: the script did it
            assert page.eval_on_selector_all(boxes, "bs => bs.every(b => !b.checked)")
            page.click("text=Select all")
            assert page.eval_on_selector_all(boxes, "bs => bs.every(b => b.checked)")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{overflow}px of horizontal overflow at {width}px"
            button = page.query_selector("#subscribe")
            assert button is not None
            style = button.evaluate("b => getComputedStyle(b).backgroundColor")
            assert style not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)")  # styled, not default
            page.screenshot(path=str(tmp_path / f"subscribe-{width}.png"), full_page=True)
            page.close()
        page = browser.new_page()
        page.goto(base + "unsubscribe")
        assert "Email me a new link" in page.inner_text("main")
        page.goto(base + "no/such/page")
        assert "Page not found" in page.inner_text("h1")
        page.close()
        assert smtp.handler.messages == []

"""The subscriber pages over real HTTP (uvicorn on 127.0.0.1): unit cases and end to end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from delivery_kit import BASE_URL, SAMPLE, bodies, parse, served_subscribers
from web_kit import T0, Site, confirm_link, local

from newsletter import config, pipeline
from newsletter.store import Database
from newsletter.subscribers.subscriptions import Subscriptions
from newsletter.subscribers.tokens import CONFIRM, PREFERENCES, UNSUBSCRIBE


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path)
    yield s
    s.close()


def test_sign_up_sends_a_confirmation_without_list_headers(site: Site) -> None:
    response = site.subscribe("Reader@Example.org")
    assert response.status_code == 200 and "Check your inbox" in response.text
    [mail] = site.mails()
    message = parse(mail)
    assert message["To"] == "Reader@example.org"
    assert "Confirm your subscription" in str(message["Subject"])
    for header in ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"):
        assert message[header] is None
    assert site.status("reader@example.org") == "pending"
    assert "set-cookie" not in response.headers


def test_the_answer_is_the_same_whether_or_not_the_address_is_known(site: Site) -> None:
    site.subs.add("known@example.org", None, confirmed=True, method="cli", now=T0)
    known = site.subscribe("known@example.org")
    unknown = site.subscribe("unknown@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("known@", "X@") == unknown.text.replace("unknown@", "X@")
    assert len(site.mails()) == 1  # only the new address gets a confirmation


def test_get_on_confirm_and_unsubscribe_urls_changes_nothing(site: Site) -> None:
    site.subscribe("reader@example.org")
    link = confirm_link(site.mails()[0])
    for _ in range(3):
        page = site.client.get(link)
        assert page.status_code == 200 and 'method="post"' in page.text
        site.client.head(link)
    assert site.status("reader@example.org") == "pending"
    subscriber = site.subs.by_email("reader@example.org")
    assert subscriber is not None
    site.subs.confirm(subscriber.public_id, method="test", now=T0)
    unsubscribe = f"/unsubscribe?t={site.tokens.make(UNSUBSCRIBE, subscriber.public_id)}"
    assert site.client.get(unsubscribe).status_code == 200
    assert site.status("reader@example.org") == "confirmed"


def test_confirm_by_post_then_choose_topics(site: Site) -> None:
    site.subscribe("reader@example.org")
    page = site.client.get(confirm_link(site.mails()[0]))
    token = re.search(r'name="t" value="([^"]+)"', page.text)
    assert token
    done = site.client.post(
        "/confirm", data={"t": token.group(1), "form_token": site.form_token(page.text)}
    )
    assert done.status_code == 200 and "confirmed" in done.text
    assert site.status("reader@example.org") == "confirmed"
    prefs = re.search(r'href="(https://papers\.example\.org/preferences\?t=[^"]+)"', done.text)
    assert prefs
    form = site.client.get(local(prefs.group(1)))
    assert 'value="llm" checked' in form.text and 'value="audio">' in form.text
    t = re.search(r'name="t" value="([^"]+)"', form.text)
    assert t
    saved = site.client.post(
        "/preferences",
        data={"t": t.group(1), "form_token": site.form_token(form.text), "topics": ["audio"]},
    )
    assert saved.status_code == 200 and "saved" in saved.text
    found = site.subs.by_email("reader@example.org")
    assert found is not None and found.topics == {"audio"}


@pytest.mark.parametrize("kind", ["tampered", "expired", "wrong-purpose"])
def test_bad_confirmation_tokens_are_refused_and_change_nothing(site: Site, kind: str) -> None:
    site.subscribe("reader@example.org")
    subscriber = site.subs.by_email("reader@example.org")
    assert subscriber is not None
    good = site.tokens.make(CONFIRM, subscriber.public_id)
    token = {
        "tampered": good[:-2] + ("xy" if not good.endswith("xy") else "zz"),
        "expired": good,
        "wrong-purpose": site.tokens.make(UNSUBSCRIBE, subscriber.public_id),
    }[kind]
    form_token = site.tokens.form_token(CONFIRM, subscriber.public_id)
    if kind == "expired":
        site.clock.now = T0 + timedelta(hours=49)
    response = site.client.post("/confirm", data={"t": token, "form_token": form_token})
    assert response.status_code == (410 if kind == "expired" else 400)
    assert "Nothing was changed" in response.text
    assert ("expired" in response.text) == (kind == "expired")
    assert site.status("reader@example.org") == "pending"


def _confirmed(site: Site, email: str) -> str:
    change = site.subs.add(email, frozenset({"llm"}), confirmed=True, method="cli", now=T0)
    return change.subscriber.public_id


def test_forged_preference_posts_are_refused(site: Site) -> None:
    public_id = _confirmed(site, "reader@example.org")
    t = site.tokens.make(PREFERENCES, public_id)
    good_form = site.tokens.form_token(PREFERENCES, public_id)
    other_form = site.tokens.form_token(PREFERENCES, _confirmed(site, "other@example.org"))
    attempts = [
        ({"t": t, "topics": ["audio"]}, {}, 400),  # no form token
        ({"t": t, "topics": ["audio"], "form_token": other_form}, {}, 400),  # someone else's
        (
            {"t": t, "topics": ["audio"], "form_token": good_form},
            {"origin": "https://evil.example"},
            403,
        ),
        (
            {"t": t, "topics": ["audio"], "form_token": good_form},
            {"sec-fetch-site": "cross-site"},
            403,
        ),
        ({"t": t, "topics": ["audio", "astrology"], "form_token": good_form}, {}, 400),
        ({"t": t, "topics": [], "form_token": good_form}, {}, 400),
    ]
    for data, headers, status in attempts:
        response = site.client.post("/preferences", data=data, headers=headers)
        assert response.status_code == status, (data, headers, response.text)
        assert "Nothing was changed" in response.text
    found = site.subs.by_email("reader@example.org")
    assert found is not None and found.topics == {"llm"}


def test_header_injection_in_the_form_is_refused(site: Site) -> None:
    response = site.subscribe("victim@example.org\r\nBcc: everyone@example.org")
    assert response.status_code == 400 and "control characters" in response.text
    assert site.mails() == [] and site.subs.all() == []


def test_unknown_topics_in_the_sign_up_are_refused(site: Site) -> None:
    response = site.subscribe("reader@example.org", ["llm", "astrology"])
    assert response.status_code == 400 and "unknown topic astrology" in response.text
    assert site.subs.all() == []


def test_one_click_unsubscribe_is_idempotent_and_needs_no_cookies(site: Site) -> None:
    public_id = _confirmed(site, "reader@example.org")
    url = f"/unsubscribe?t={site.tokens.make(UNSUBSCRIBE, public_id)}"
    for _ in range(2):
        response = site.client.post(
            url,
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200 and response.text == "unsubscribed"
        assert "set-cookie" not in response.headers
    assert site.status("reader@example.org") == "unsubscribed"
    *_, unsubscribed = site.subs.consents(site.subs.by_email("reader@example.org").id)  # type: ignore[union-attr]
    assert (unsubscribed.action, unsubscribed.method) == ("unsubscribed", "one-click")


def test_one_click_with_a_bad_token_is_refused(site: Site) -> None:
    public_id = _confirmed(site, "reader@example.org")
    wrong = site.tokens.make(PREFERENCES, public_id)
    response = site.client.post(f"/unsubscribe?t={wrong}", content=b"List-Unsubscribe=One-Click")
    assert response.status_code == 400 and response.text.startswith("refused")
    assert site.status("reader@example.org") == "confirmed"


def test_the_form_cannot_mail_bomb_an_address(tmp_path: Path) -> None:
    site = Site(tmp_path, subscribers={"per_address_per_day": 2, "per_client_per_hour": 6})
    try:
        for _ in range(5):
            assert site.subscribe("victim@example.org").status_code == 200
        assert len(site.mails()) == 2  # the same answer, but no more mail
        assert site.subscribe("someone@example.org").status_code == 200
        refused = site.subscribe("third@example.org")
        assert refused.status_code == 429  # seven posts from one client in an hour
        site.clock.now = T0 + timedelta(days=1, minutes=1)
        assert site.subscribe("victim@example.org").status_code == 200
        assert len(site.mails()) == 4
    finally:
        site.close()


def test_overall_limit_stops_sign_up_mail(tmp_path: Path) -> None:
    site = Site(tmp_path, subscribers={"overall_per_hour": 2})
    try:
        statuses = [site.subscribe(f"r{i}@example.org").status_code for i in range(3)]
        assert statuses == [200, 200, 503] and len(site.mails()) == 2
    finally:
        site.close()


# ---------------------------------------------------------------- over real HTTP


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, config.Settings, Database, object]]:
    with served_subscribers(tmp_path) as running:
        yield running


def test_end_to_end_over_http_subscribe_confirm_receive_and_one_click(
    served: tuple[str, config.Settings, Database, object], tmp_path: Path
) -> None:
    base, settings, store, smtp = served
    handler = smtp.handler  # type: ignore[attr-defined]
    with httpx.Client(base_url=base, timeout=10) as http:
        page = http.get("subscribe")
        form_token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert form_token
        sent = http.post(
            "subscribe",
            data={
                "email": "reader@example.org",
                "topics": ["llm"],
                "form_token": form_token.group(1),
            },
        )
        assert sent.status_code == 200
        [mail] = handler.received_by("reader@example.org")
        text, _ = bodies(parse(mail))
        link = re.search(r"http://127\.0\.0\.1:\d+/confirm\?t=\S+", text)
        assert link
        confirm_page = http.get(link.group(0))
        t = re.search(r'name="t" value="([^"]+)"', confirm_page.text)
        ft = re.search(r'name="form_token" value="([^"]+)"', confirm_page.text)
        assert t and ft
        assert (
            http.post("confirm", data={"t": t.group(1), "form_token": ft.group(1)}).status_code
            == 200
        )
        report = pipeline.run(settings, [str(SAMPLE)], T0.date())
        assert report.delivery is not None and report.delivery.sent == 1
        digest = parse(handler.received_by("reader@example.org")[-1])
        assert "2 new papers" in str(digest["Subject"])  # llm only
        one_click = re.findall(r"<([^>]+)>", str(digest["List-Unsubscribe"]))[0]
        response = httpx.post(one_click, content=b"List-Unsubscribe=One-Click", timeout=10)
        assert response.status_code == 200
    assert Subscriptions(store).by_email("reader@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    assert BASE_URL  # the unit tests' base URL is not used here

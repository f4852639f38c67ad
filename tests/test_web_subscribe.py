"""The subscriber pages over real HTTP (uvicorn on 127.0.0.1): unit cases and end to end."""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import figures
import httpx
import pytest
from delivery_kit import BASE_URL, SAMPLE, bodies, parse, served_subscribers
from web_kit import T0, Site, confirm_link, local

from newsletter import config, pipeline
from newsletter.delivery.mailer import MaildirMailer
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
        [mail] = handler.wait_for("reader@example.org")
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
        tagged = sum("llm" in p.topics for p in report.edition.papers)  # as topics/llm.xml
        assert f"{tagged} new papers" in str(digest["Subject"])  # llm only
        one_click = re.findall(r"<([^>]+)>", str(digest["List-Unsubscribe"]))[0]
        response = httpx.post(one_click, content=b"List-Unsubscribe=One-Click", timeout=10)
        assert response.status_code == 200
    assert Subscriptions(store).by_email("reader@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    assert BASE_URL  # the unit tests' base URL is not used here


# ---------------------------------------------------------------- limits and timing


def test_sixty_parallel_sign_ups_for_one_address_send_at_most_three_emails(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path, subscribers={"per_client_per_hour": 1000})
    try:
        token = site.form_token(site.client.get("/subscribe").text)
        base = str(site.client.base_url)
        statuses: list[int] = []
        barrier = threading.Barrier(60)

        def post() -> None:
            with httpx.Client(base_url=base, timeout=30) as http:
                barrier.wait()
                data = {"email": "victim@example.org", "topics": ["llm"], "form_token": token}
                statuses.append(http.post("/subscribe", data=data).status_code)

        threads = [threading.Thread(target=post) for _ in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 60
        assert len(site.mails()) == 3  # subscribers.per_address_per_day
        figures.count("web", "parallel sign-ups", 60)
    finally:
        site.close()


def test_the_answer_does_not_wait_for_the_confirmation_email(tmp_path: Path) -> None:
    """A mail server that hangs: the form still answers at once; the email follows."""
    release = threading.Event()

    class HangingMailer(MaildirMailer):
        def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
            assert release.wait(30)
            return super().send(sender, recipient, message, message_id)

    site = Site(tmp_path)
    site.pages.mailroom.mailer_factory = lambda: HangingMailer(site.outbox)
    try:
        token = site.form_token(site.client.get("/subscribe").text)
        data = {"email": "new@example.org", "topics": ["llm"], "form_token": token}
        started = time.perf_counter()
        response = site.client.post("/subscribe", data=data)
        took = time.perf_counter() - started
        assert response.status_code == 200 and "Check your inbox" in response.text
        assert took < 5 and not (site.outbox / "new").exists()  # answered, nothing sent yet
        release.set()
        assert len(site.mails()) == 1
    finally:
        release.set()
        site.close()


def test_a_known_address_is_answered_as_fast_as_an_unknown_one(tmp_path: Path) -> None:
    """Who subscribes must not show in how long the form takes to answer (measured)."""
    site = Site(tmp_path, subscribers={"per_client_per_hour": 1000})
    try:
        site.subs.add("known@example.org", None, confirmed=True, method="cli", now=T0)
        site.subscribe("warm-up@example.org")
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        for i in range(30):
            for kind in ("known", "unknown"):
                email = "known@example.org" if kind == "known" else f"new{i}@example.org"
                token = site.form_token(site.client.get("/subscribe").text)
                data = {"email": email, "topics": ["llm"], "form_token": token}
                started = time.perf_counter()
                response = site.client.post("/subscribe", data=data)
                times[kind].append(time.perf_counter() - started)
                assert response.status_code == 200
                assert site.pages.desk.join(10)  # the email goes out after the answer
        mailed = {str(parse(m)["To"]) for m in site.mails()}
        assert mailed == {f"new{i}@example.org" for i in range(30)} | {"warm-up@example.org"}
        known, unknown = (statistics.median(times[k]) * 1000 for k in ("known", "unknown"))
        # Before, an unknown address took 2.5 times as long (its email was sent inline).
        # Both now run the same code; the bound leaves room for a busy machine.
        assert max(known, unknown) < 2 * min(known, unknown) + 2.0, (known, unknown)
        figures.note("web", "sign-up median ms known", round(known))
        figures.note("web", "sign-up median ms unknown", round(unknown))
        print(f"sign-up answer, median of 30: known {known:.1f} ms, unknown {unknown:.1f} ms")
    finally:
        site.close()


# ---------------------------------------------------------------- coming back


def test_someone_who_unsubscribed_signs_up_again_with_a_fresh_double_opt_in(site: Site) -> None:
    site.subscribe("reader@example.org")
    first = confirm_link(site.mails()[0])
    page = site.client.get(first)
    form = {
        "t": re.search(r'name="t" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
        "form_token": site.form_token(page.text),
    }
    assert site.client.post("/confirm", data=form).status_code == 200
    subscriber = site.subs.by_email("reader@example.org")
    assert subscriber is not None
    url = f"/unsubscribe?t={site.tokens.make(UNSUBSCRIBE, subscriber.public_id)}"
    assert site.client.post(url, content=b"List-Unsubscribe=One-Click").status_code == 200
    assert site.status("reader@example.org") == "unsubscribed"

    again = site.subscribe("reader@example.org", ["audio"])
    assert again.status_code == 200 and "Check your inbox" in again.text
    assert site.status("reader@example.org") == "pending"  # nothing is sent before confirming
    mails = site.mails()
    assert len(mails) == 2
    second = site.client.get(confirm_link(mails[1]))
    form = {
        "t": re.search(r'name="t" value="([^"]+)"', second.text).group(1),  # type: ignore[union-attr]
        "form_token": site.form_token(second.text),
    }
    assert "You are subscribed" in site.client.post("/confirm", data=form).text
    found = site.subs.by_email("reader@example.org")
    assert found is not None and found.status == "confirmed" and found.topics == {"audio"}
    record = [(c.action, c.method) for c in site.subs.consents(found.id)]
    assert record == [
        ("subscribed", "web"),
        ("confirmed", "web"),
        ("unsubscribed", "one-click"),
        ("subscribed", "web"),
        ("confirmed", "web"),
    ]


# ---------------------------------------------------------------- the pages themselves


def test_the_sign_up_page_says_what_happens_next_and_what_is_kept(site: Site) -> None:
    page = site.client.get("/subscribe").text
    assert "<title>Subscribe to Daily Papers Digest</title>" in page  # the name once
    assert "What happens next" in page and "48 hours" in page
    assert "Your address and what we keep" in page and "no cookies" in page
    assert 'class="button" id="subscribe"' in page
    assert page.count('name="topics"') == 12
    assert 'value="all"' in page and 'value="none"' in page


def test_select_none_and_all_work_without_javascript_and_save_nothing(site: Site) -> None:
    token = site.form_token(site.client.get("/subscribe").text)
    data = {"email": "reader@example.org", "topics": ["llm"], "form_token": token}
    none = site.client.post("/subscribe", data={**data, "select": "none"})
    assert none.status_code == 200 and " checked" not in none.text
    assert 'value="reader@example.org"' in none.text  # what was typed is kept
    every = site.client.post("/subscribe", data={**data, "select": "all"})
    assert every.text.count(" checked>") == 12
    assert site.pages.desk.join(10) and site.mails() == [] and site.subs.all() == []
    public_id = _confirmed(site, "ada@example.org")
    t = site.tokens.make(PREFERENCES, public_id)
    form = {"t": t, "form_token": site.tokens.form_token(PREFERENCES, public_id)}
    cleared = site.client.post("/preferences", data={**form, "topics": "llm", "select": "none"})
    assert cleared.status_code == 200 and " checked" not in cleared.text
    found = site.subs.by_email("ada@example.org")
    assert found is not None and found.topics == {"llm"}  # nothing saved


def test_refusals_read_as_one_sentence_each(site: Site) -> None:
    bad = site.subscribe("not-an-address")
    assert bad.status_code == 400
    error = re.search(r'role="alert">([^<]+)<', bad.text)
    assert error and ".." not in error.group(1) and error.group(1).endswith("Nothing was changed.")


def test_a_refused_unsubscribe_link_offers_a_new_link_not_subscribe_again(site: Site) -> None:
    response = site.client.get("/unsubscribe?t=forged")
    assert response.status_code == 400
    assert "Subscribe again" not in response.text
    assert "Email me a new link" in response.text


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/unsubscribe", "“Unsubscribe” link at the foot of any edition"),
        ("/preferences", "“Manage topics” link at the foot of any edition"),
        ("/confirm", "in the confirmation email we sent you"),
    ],
)
def test_a_page_reached_without_its_link_offers_to_email_a_new_one(
    site: Site, path: str, where: str
) -> None:
    response = site.client.get(path)
    assert response.status_code == 200
    assert where in response.text and "any of our emails" not in response.text
    assert (
        "Email me a new link" in response.text
        and 'action="https://papers.example.org/links"' in (response.text)
    )


def test_a_new_link_goes_to_a_subscriber_and_nothing_to_strangers(site: Site) -> None:
    public_id = _confirmed(site, "reader@example.org")
    del public_id
    answers = []
    for email in ("reader@example.org", "stranger@example.org"):
        page = site.client.get("/links")
        token = site.form_token(page.text)
        response = site.client.post("/links", data={"email": email, "form_token": token})
        answers.append((response.status_code, response.text.replace(email, "X")))
    assert answers[0] == answers[1] and answers[0][0] == 200
    [mail] = site.mails()
    message = parse(mail)
    assert message["To"] == "reader@example.org"
    text, _ = bodies(message)
    prefs = re.search(r"https://papers\.example\.org/preferences\?t=\S+", text)
    assert prefs, text
    assert "Your topics" in site.client.get(local(prefs.group(0))).text


def test_too_many_posts_are_told_when_to_come_back(tmp_path: Path) -> None:
    site = Site(tmp_path, subscribers={"per_client_per_hour": 2})
    try:
        for i in range(2):
            assert site.subscribe(f"r{i}@example.org").status_code == 200
        site.clock.now = T0 + timedelta(minutes=20)
        refused = site.subscribe("r3@example.org")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2400"
        assert "try again in 40 minutes" in refused.text
    finally:
        site.close()


def test_pages_a_signed_link_opens_show_the_address_only_masked(site: Site) -> None:
    """A forwarded digest or confirmation opens these pages for someone else: the
    address shows as ``s•••@example.org``, enough to recognise, not to harvest."""
    site.subscribe("secret.reader@example.org")
    confirm = site.client.get(confirm_link(site.mails()[0]))
    token = re.search(r'name="t" value="([^"]+)"', confirm.text)
    assert token
    done = site.client.post(
        "/confirm", data={"t": token.group(1), "form_token": site.form_token(confirm.text)}
    )
    assert done.status_code == 200 and "confirmed" in done.text
    subscriber = site.subs.by_email("secret.reader@example.org")
    assert subscriber is not None
    pages = {
        "confirm": confirm,
        "subscribed": done,
        "preferences": site.client.get(
            f"/preferences?t={site.tokens.make(PREFERENCES, subscriber.public_id)}"
        ),
        "unsubscribe": site.client.get(
            f"/unsubscribe?t={site.tokens.make(UNSUBSCRIBE, subscriber.public_id)}"
        ),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        assert "secret.reader" not in page.text, name
        assert "s•••@example.org" in page.text, name

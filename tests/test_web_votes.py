"""The 👍/👎 links of a delivered email, over real HTTP: GET shows, only POST records."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from delivery_kit import bodies, parse, served_subscribers

from newsletter import config, pipeline
from newsletter.store import Database
from newsletter.store.subscribers import Subscriber
from newsletter.subscribers.feedback import vote_token
from newsletter.subscribers.subscriptions import Subscriptions
from newsletter.subscribers.tokens import VOTE, Tokens
from newsletter.urls import paper_ref

DIGEST = Path(__file__).parent / "digests" / "000_own_nov09.txt"
DAY = date(2026, 11, 9)
READER = "reader@example.org"
FIELD = r'name="{}" value="([^"]*)"'

Served = tuple[str, config.Settings, Database, object, pipeline.RunReport, str]


@pytest.fixture
def delivered(tmp_path: Path) -> Iterator[Served]:
    """The web app, and one edition delivered over loopback SMTP to a confirmed reader."""
    with served_subscribers(tmp_path) as (base, settings, store, smtp):
        Subscriptions(store).add(READER, None, confirmed=True, method="test", now=datetime.now(UTC))
        report = pipeline.run(settings, [str(DIGEST)], DAY)
        assert report.delivery is not None and report.delivery.sent == 1
        mail = smtp.handler.received_by(READER)[-1]  # type: ignore[attr-defined]
        text, _ = bodies(parse(mail))
        yield base, settings, store, smtp, report, text


def _links(text: str, direction: str) -> list[str]:
    return re.findall(rf"http://127\.0\.0\.1:\d+/v/[^/\s]+/[^/\s]+/{direction}", text)


def _parts(link: str) -> tuple[str, str]:
    """The token and the paper reference of a short vote link."""
    _v, token, ref, _direction = urlsplit(link).path.strip("/").split("/")
    return token, ref


def _reader(store: Database) -> Subscriber:
    found = Subscriptions(store).by_email(READER)
    assert found is not None
    return found


def _votes(store: Database) -> list[tuple[str, bool]]:
    with store.read() as tx:
        return [(v.paper_key, v.liked) for v in tx.votes.of(_reader(store).id)]


def _form(page: str) -> dict[str, str]:
    values = {}
    for name in ("t", "p", "v", "form_token"):
        found = re.search(FIELD.format(name), page)
        assert found, name
        values[name] = found.group(1)
    return values


def test_get_and_head_show_a_button_and_only_the_post_records_once(delivered: Served) -> None:
    base, _settings, store, _smtp, report, text = delivered
    up = _links(text, "up")[0]
    [key] = [p.key for p in report.edition.papers if paper_ref(p.key) == _parts(up)[1]]
    assert len(up) - len(base) < 80  # the path: v/<token>/<ref>/up, whatever the key
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.head(up).status_code == 200
        page = http.get(up)
        assert page.status_code == 200
        assert 'id="vote"' in page.text and "More like this?" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert _votes(store) == []  # scanners GET and HEAD: nothing recorded
        form = _form(page.text)
        assert (form["p"], form["v"]) == (key, "up")
        done = http.post("vote", data=form)
        assert done.status_code == 200 and "👍 noted" in done.text
        assert _votes(store) == [(key, True)]
        again = http.post("vote", data=form)
        assert again.status_code == 200 and "nothing changed" in again.text
        assert _votes(store) == [(key, True)]
        down = up.removesuffix("/up") + "/down"
        assert down in _links(text, "down")
        down_form = _form(http.get(down).text)
        changed = http.post("vote", data=down_form)
        assert "now 👎" in changed.text
        assert _votes(store) == [(key, False)]


def test_bad_expired_and_forged_vote_links_change_nothing(delivered: Served) -> None:
    base, settings, store, _smtp, report, text = delivered
    up = _links(text, "up")[0]
    token, ref = _parts(up)
    tampered = up.replace(f"/{token}/", f"/{token[:-2]}xx/")
    old = Tokens.from_settings(settings, clock=lambda: datetime.now(UTC) - timedelta(days=200))
    expired = up.replace(
        f"/{token}/", f"/{vote_token(old, _reader(store).public_id, report.edition)}/"
    )
    with httpx.Client(base_url=base, timeout=30) as http:
        bad = http.get(tampered)
        assert bad.status_code == 400 and "not valid" in bad.text and 'id="vote"' not in bad.text
        gone = http.get(expired)
        assert gone.status_code == 410 and "expired" in gone.text
        form = _form(http.get(up).text)
        assert http.post("vote", data={**form, "t": token[:-2] + "xx"}).status_code == 400
        assert http.post("vote", data={**form, "form_token": "x"}).status_code == 400
        other = {**form, "p": "arxiv:0000.00000"}
        assert http.post("vote", data=other).status_code == 404  # as its GET: not that edition's
        sibling = next(p.key for p in report.edition.papers if p.key != form["p"])
        assert http.post("vote", data={**form, "p": sibling}).status_code == 400  # its form's
        foreign = http.post("vote", data=form, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        unknown = http.get(up.replace(f"/{ref}/", f"/{paper_ref('arxiv:0000.00000')}/"))
        assert unknown.status_code == 404
        assert http.get(up.replace(f"/{ref}/", "/x/")).status_code == 404
        assert http.get(up.removesuffix("/up") + "/sideways").status_code == 400
    assert _votes(store) == []


def test_links_sent_before_the_short_ones_still_work(delivered: Served) -> None:
    """A vote link of the first form (itsdangerous token, the paper's key) shows the same
    page, and its button records the vote."""
    base, settings, store, _smtp, report, _text = delivered
    paper = report.edition.papers[-1]
    edition = report.edition
    tokens = Tokens.from_settings(settings)
    public_id = _reader(store).public_id
    old_token = tokens.make(VOTE, f"{public_id}.{edition.date.isoformat()}.{edition.number}")
    link = f"{base}vote?{urlencode({'t': old_token, 'p': paper.key, 'v': 'up'})}"
    with httpx.Client(base_url=base, timeout=30) as http:
        page = http.get(link)
        assert page.status_code == 200 and "More like this?" in page.text
        form = _form(page.text)
        assert (form["t"], form["p"]) == (old_token, paper.key)
        done = http.post("vote", data=form)
        assert done.status_code == 200 and "👍 noted" in done.text
    assert _votes(store) == [(paper.key, True)]


def test_preferences_seed_switch_off_and_reset(delivered: Served) -> None:
    base, _settings, store, _smtp, report, text = delivered
    preferences = re.search(r"http://127\.0\.0\.1:\d+/preferences\?t=\S+", text)
    assert preferences
    title = report.edition.papers[0].title
    with httpx.Client(base_url=base, timeout=30) as http:
        page = http.get(preferences.group(0))
        assert page.status_code == 200 and "Papers I like" in page.text
        t = re.search(FIELD.format("t"), page.text)
        ft = re.search(FIELD.format("form_token"), page.text)
        assert t and ft
        fields = {"t": t.group(1), "form_token": ft.group(1)}
        seeded = http.post(
            "preferences/papers", data={**fields, "papers": f"{title}\nNo Such Paper Anywhere"}
        )
        assert seeded.status_code == 200
        assert "Added 1 paper" in seeded.text and "No Such Paper Anywhere" in seeded.text
        assert len(_votes(store)) == 1
        off = http.post("preferences/ranking", data={**fields, "action": "off"})
        assert "Ranking is off" in off.text and 'id="ranking-on"' in off.text
        vote_page = http.get(_links(text, "up")[1])  # says the vote orders nothing now
        assert "Ranking is off for" in vote_page.text and "will put papers" not in vote_page.text
        with store.read() as tx:
            assert not tx.votes.ranking_enabled(_reader(store).id)
        reset = http.post("preferences/ranking", data={**fields, "action": "reset"})
        assert "Forgot your 1 vote" in reset.text
        assert _votes(store) == []
        forged = http.post(
            "preferences/ranking", data={**fields, "form_token": "x", "action": "on"}
        )
        assert forged.status_code == 400
        with store.read() as tx:
            assert not tx.votes.ranking_enabled(_reader(store).id)


def test_voting_through_an_edition_never_keeps_a_reader_from_unsubscribing(
    delivered: Served,
) -> None:
    """Votes are limited in a bucket of their own: 30 vote posts in an hour (more than the
    forms' 20) all record, the unsubscribe button still works after them, and a vote link
    of an address that has left records nothing."""
    base, _settings, store, _smtp, _report, text = delivered
    links = _links(text, "up") + _links(text, "down")
    with httpx.Client(base_url=base, timeout=30) as http:
        forms = [_form(http.get(link).text) for link in links]
        posts = [http.post("vote", data=forms[i % len(forms)]) for i in range(30)]
        assert [p.status_code for p in posts] == [200] * 30
        unsubscribe = re.search(r"http://127\.0\.0\.1:\d+/unsubscribe\?t=[^\s>]+", text)
        assert unsubscribe is not None
        token = re.search(FIELD.format("t"), http.get(unsubscribe.group(0)).text)
        assert token is not None
        left = http.post("unsubscribe", data={"t": token.group(1)})
        assert left.status_code == 200, left.text
        assert _reader(store).status == "unsubscribed"
        recorded = _votes(store)
        late = http.post("vote", data=forms[0])
        assert late.status_code == 410 and "not subscribed" in late.text
        assert http.get(links[0]).status_code == 410
        # the card's "Abstract" still leads to the paper's archive page, without votes
        abstract = http.get(links[0].removesuffix("/up"))
        assert abstract.status_code == 303 and "#" not in abstract.headers["location"]
        assert "/papers/" in abstract.headers["location"]
    assert _votes(store) == recorded


def test_an_unsubscribed_address_cannot_add_papers_it_likes(delivered: Served) -> None:
    """Its vote links refuse (410); so does its old preferences link's "papers I like"."""
    base, _settings, store, _smtp, report, text = delivered
    preferences = re.search(r"http://127\.0\.0\.1:\d+/preferences\?t=\S+", text)
    assert preferences
    with httpx.Client(base_url=base, timeout=30) as http:
        page = http.get(preferences.group(0))
        t = re.search(FIELD.format("t"), page.text)
        ft = re.search(FIELD.format("form_token"), page.text)
        assert t and ft
        Subscriptions(store).unsubscribe(
            _reader(store).public_id, method="test", now=datetime.now(UTC)
        )
        seeded = http.post(
            "preferences/papers",
            data={
                "t": t.group(1),
                "form_token": ft.group(1),
                "papers": report.edition.papers[0].title,
            },
        )
        assert seeded.status_code == 410 and "not subscribed any more" in seeded.text
    assert _votes(store) == []


def _refusal(page: str) -> str:
    """The refusal a page shows (its ``role="alert"`` paragraph), or ""."""
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', page, re.S)
    return found.group(1) if found else ""


def test_the_page_and_its_button_refuse_the_same_links(delivered: Served) -> None:
    """Every link the button (POST) refuses, the page (GET) refuses with the same status
    and the same words, and shows no button; the GET used to show a paper of another
    edition as votable, which the POST then refused.  The POSTs carry a form token
    valid for the paper named, so what refuses them is the link, not the form."""
    base, settings, store, _smtp, report, text = delivered
    later = pipeline.run(settings, [str(DIGEST.with_name("001_own_nov10.txt"))], DAY + timedelta(1))
    shown = {p.key for p in report.edition.papers}
    elsewhere = next(p.key for p in later.edition.papers if p.key not in shown)
    tokens = Tokens.from_settings(settings)
    reader = _reader(store)
    token = _parts(_links(text, "up")[0])[0]
    key = report.edition.papers[0].key
    old = Tokens.from_settings(settings, clock=lambda: datetime.now(UTC) - timedelta(days=200))
    expired = vote_token(old, reader.public_id, report.edition)
    no_edition = vote_token(tokens, reader.public_id, replace(report.edition, number=9))
    cases = {
        "forged token": (token[:-2] + "xx", key, "up", 400, "not valid"),
        "expired token": (expired, key, "up", 410, "expired"),
        "a paper of another edition": (token, elsewhere, "up", 404, "no paper of that edition"),
        "a paper nobody published": (token, "arxiv:0000.00000", "down", 404, "no paper of that"),
        "an edition we never made": (no_edition, key, "up", 404, "no paper of that edition"),
        "an unknown direction": (token, key, "sideways", 400, "incomplete"),
        "no paper": (token, "", "up", 400, "incomplete"),
    }
    with httpx.Client(base_url=base, timeout=30) as http:
        for case, (t, p, v, status, says) in cases.items():
            page = http.get("vote", params={"t": t, "p": p, "v": v})
            form_token = tokens.form_token(VOTE, f"{reader.public_id}:{p}")
            button = http.post("vote", data={"t": t, "p": p, "v": v, "form_token": form_token})
            assert (page.status_code, button.status_code) == (status, status), case
            assert says in _refusal(page.text) and "Nothing was changed" in page.text, case
            assert _refusal(button.text) == _refusal(page.text), case
            assert 'id="vote"' not in page.text, case
        # the short link of the other edition's paper, under this edition's token: 404 too
        short = f"v/{token}/{paper_ref(elsewhere)}/up"
        assert http.get(short).status_code == 404
        assert _votes(store) == []
        # the same recipe with a good link: the page offers it, the button records it
        page = http.get("vote", params={"t": token, "p": key, "v": "up"})
        assert page.status_code == 200 and 'id="vote"' in page.text
        done = http.post("vote", data=_form(page.text))
        assert done.status_code == 200 and "👍 noted" in done.text
    assert _votes(store) == [(key, True)]


def test_the_vote_page_shows_the_address_masked(delivered: Served) -> None:
    """Whoever holds a forwarded email opens its vote links: the page names the address
    as its first character, bullets and the domain, escaped like any text."""
    base, settings, store, _smtp, report, text = delivered
    up = _links(text, "up")[0]
    odd = "&o'brien@example.org"  # a first character HTML must escape
    Subscriptions(store).add(odd, None, confirmed=True, method="test", now=datetime.now(UTC))
    found = Subscriptions(store).by_email(odd)
    assert found is not None
    odd_token = vote_token(Tokens.from_settings(settings), found.public_id, report.edition)
    with httpx.Client(base_url=base, timeout=30) as http:
        page = http.get(up)
        assert page.status_code == 200
        assert "<strong>r•••@example.org</strong>" in page.text
        assert READER not in page.text and "reader@" not in page.text
        done = http.post("vote", data=_form(page.text))
        assert done.status_code == 200 and READER not in done.text
        _v, _token, ref, _up = urlsplit(up).path.strip("/").split("/")
        theirs = http.get(f"v/{odd_token}/{ref}/down")
        assert theirs.status_code == 200 and 'id="vote"' in theirs.text
        assert "<strong>&amp;•••@example.org</strong>" in theirs.text
        assert "brien" not in theirs.text

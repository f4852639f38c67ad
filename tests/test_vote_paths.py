"""Every paper in a subscriber's email can be voted on, whatever the size budget left out.

Issue 15: "each card in a subscriber's email carries 👍 and 👎 links signed for that
subscriber and paper".  The size budget may leave the two thumbs out of the HTML cards
of a large edition (Gmail clips past about 102 KB); the card's "Abstract" is then the
reader's signed ``/v/<token>/<ref>`` link, which the web app answers with the archive's
paper page showing the same 👍/👎 (``tests/test_browser_votes.py`` follows it in a real
browser).  A title-only line of a very large edition links there too, and the plain-text
part (no client clips it) keeps both vote links of every paper.

The digests go through the whole run (ingest, topics, archive, delivery to a Maildir),
as an operator runs them, to two subscribers on every topic (the sign-up default): one
who never voted (the shared copy of their topic set) and one who did (a ranked copy,
with a "Top picks" block and a reason under each card, whose room the budget keeps).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from corpus_kit import Corpus
from delivery_kit import BASE_URL, SAMPLE, add_subscribers, bodies, maildir_messages, make_settings
from render_kit import visible

from newsletter import pipeline
from newsletter.model import Edition
from newsletter.render.untrusted import clean_text
from newsletter.store import Database
from newsletter.subscribers.feedback import Feedback
from newsletter.subscribers.subscriptions import Subscriptions
from newsletter.urls import paper_ref

PLAIN = "plain@example.org"
RANKED = "ranked@example.org"
DAY = date(2026, 11, 2)
_CARD = re.compile(r'<div class="nl-rule"[^>]*>\s*<h3.*?</div>', re.S)
# a ranked copy's title line carries its reason after the title, inside the line
_TITLE_LINE = re.compile(
    r'<li[^>]*><a href="([^"]*)"[^>]*>([^<]*)</a>(?:<br><span[^>]*>Why: [^<]*</span>)?</li>'
)


def _vote_base(html: str, text: str) -> str:
    """The one vote link base (``…/v/<token>``) of a message, the same in both parts."""
    found = set(re.findall(rf"{re.escape(BASE_URL)}v/[A-Za-z0-9_.-]+(?=/[A-Za-z0-9_-]{{8}})", html))
    assert len(found) == 1, found
    base = found.pop()
    assert set(re.findall(rf"{re.escape(BASE_URL)}v/[A-Za-z0-9_.-]+(?=/)", text)) == {base}
    return base


def _html_paths(html: str, base: str) -> tuple[dict[str, str], int, int]:
    """Each paper shown (its ref) and how it is voted on: ``thumbs`` (👍 and 👎 signed
    links), ``abstract`` (the card's Abstract is the signed paper page), ``title`` (a
    title-only line linking there); plus the number of cards and of title lines."""
    paths: dict[str, str] = {}
    cards = _CARD.findall(html)
    for card in cards:
        refs = set(re.findall(rf'href="{re.escape(base)}/([A-Za-z0-9_-]{{8}})', card))
        assert len(refs) == 1, card  # every card links to its own paper's vote path
        ref = refs.pop()
        link = f"{base}/{ref}"
        abstract = re.search(r'<a href="([^"]*)"[^>]*>Abstract</a>', card)
        assert abstract is not None and abstract.group(1) == link, card
        thumbs = f'href="{link}/up"' in card and f'href="{link}/down"' in card
        paths[ref] = "thumbs" if thumbs else "abstract"
    lines = 0
    for href, _ in _TITLE_LINE.findall(html):
        if href.startswith(f"{base}/"):
            ref = href.removeprefix(f"{base}/")
            assert re.fullmatch(r"[A-Za-z0-9_-]{8}", ref), href
            paths.setdefault(ref, "title")
            lines += 1
    return paths, len(cards), lines


def _check(message_html: str, text: str, edition: Edition, ranked: bool, budget: int) -> str:
    base = _vote_base(message_html, text)
    assert ("Top picks for you" in text) == ranked
    assert len(message_html.encode("utf-8")) <= budget
    paths, cards, lines = _html_paths(message_html, base)
    refs = {paper_ref(p.key): p for p in edition.papers}
    page = visible(message_html)
    shown = {ref for ref, p in refs.items() if clean_text(p.title) in page}
    assert shown and set(paths) == shown  # every paper shown has a vote path, no other
    assert len(paths) == cards + lines  # one each: no card or line without one
    for ref in shown:  # the text part: both vote links of every paper it shows
        assert f"{base}/{ref}/up\n" in text and f"{base}/{ref}/down\n" in text, ref
    return "thumbs" if all(v == "thumbs" for v in paths.values()) else "fallback"


def test_every_paper_of_an_all_topics_email_can_be_voted_on(corpus: Corpus, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    settings = make_settings(tmp_path, delivery={"method": "maildir", "maildir": str(outbox)})
    add_subscribers(settings, [(PLAIN, None), (RANKED, None)])
    # the voter's votes: papers of a digest none of the corpus repeats, sent to nobody
    primed = pipeline.run(settings, [str(SAMPLE)], DAY - timedelta(days=1), send=False)
    store = Database.open(settings.database.url)
    try:
        voter = Subscriptions(store).by_email(RANKED)
        assert voter is not None
        liked = [p.title for p in primed.edition.papers[:3]]
        assert not Feedback(store).seed(voter, liked, datetime.now(UTC)).unknown
    finally:
        store.close()
    kinds: dict[str, list[str]] = {PLAIN: [], RANKED: []}
    for n, path in enumerate(corpus.files):
        report = pipeline.run(settings, [str(path)], DAY + timedelta(days=n))
        assert report.delivery is not None and report.delivery.sent == 2, path.name
        messages = maildir_messages(outbox)
        for done in (outbox / "new").iterdir():  # the next run's messages alone
            done.unlink()
        by_address = {str(m["To"]): m for m in messages}
        assert set(by_address) == {PLAIN, RANKED}, path.name
        for address, message in by_address.items():
            text, html = bodies(message)
            text = text.replace("\r\n", "\n")
            budget = settings.email.budget_bytes
            kind = _check(html, text, report.edition, address == RANKED, budget)
            kinds[address].append(kind)
    # the small digests keep both thumbs on every card
    if corpus.name == "own":
        assert set(kinds[PLAIN]) == {"thumbs"}, kinds

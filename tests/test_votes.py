"""Votes and ranked editions: 👍/👎 stored once, the next email ordered by them, privacy."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from html import unescape as html_unescape
from pathlib import Path
from typing import Any

import pytest
import render_kit
from corpus_kit import Corpus
from delivery_kit import add_subscribers, bodies, maildir_messages, make_settings
from markupsafe import escape

from newsletter import config, pipeline
from newsletter.delivery.message import DigestFrame, Recipient, Sender, transparent
from newsletter.delivery.ranked import VOTE_MARKS, Ranking, _Copy, encode_layout
from newsletter.edition import for_topics
from newsletter.ranking import Vote, train
from newsletter.render import RecipientLinks, render_email
from newsletter.render.picks import REASON_BYTES, REASON_CHARS, layout
from newsletter.render.recipients import (
    PREFERENCES_TOKEN,
    UNSUBSCRIBE_TOKEN,
    VOTE_TOKEN,
    VOTE_TOKEN_CHARS,
)
from newsletter.states import VoteChange
from newsletter.store import Database
from newsletter.subscribers import csvio
from newsletter.subscribers.feedback import Feedback, VoteRefused, read_vote_token, vote_token
from newsletter.subscribers.subscriptions import Subscriptions
from newsletter.subscribers.tokens import TokenError, Tokens
from newsletter.urls import paper_ref

DIGESTS = Path(__file__).parent / "digests"
DAY1, DAY2, DAY3 = date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 11)
NOW = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
FAN, PLAIN = "fan@example.org", "plain@example.org"
VOTE_LINK = re.compile(r"https://papers\.example\.org/v/([^/\s]+)/([^/\s]+)/(up|down)")


def _run(settings: config.Settings, name: str, day: date) -> pipeline.RunReport:
    return pipeline.run(settings, [str(DIGESTS / name)], day)


def _mail_to(settings: config.Settings, address: str) -> EmailMessage:
    box = settings.resolve(settings.delivery.maildir)
    found = [m for m in maildir_messages(box) if m["To"] == address]
    return found[-1]


def _clear_outbox(settings: config.Settings) -> None:
    for path in (settings.resolve(settings.delivery.maildir) / "new").iterdir():
        path.unlink()


def _sections(text: str) -> list[str]:
    """The paper titles of a text part's sections, in order (top picks left out)."""
    body = text[text.index("In this edition:") :]
    return re.findall(r"^\* (.+)$", body, re.M)


def _vote_from_links(settings: config.Settings, text: str, like: set[str]) -> int:
    """Vote 👍 on the papers of ``like`` (keys) and 👎 on the others, from the links in
    ``text``; how many votes."""
    db = Database.open(settings.database.url)
    feedback, tokens = Feedback(db), Tokens.from_settings(settings)
    count = 0
    try:
        for token, ref, direction in VOTE_LINK.findall(text):
            if direction != "up":
                continue
            ballot = read_vote_token(tokens, token)
            paper = feedback.resolve(ballot, ref)
            assert paper is not None, ref
            feedback.vote(ballot, paper, paper in like, NOW)
            count += 1
    finally:
        db.close()
    return count


@pytest.fixture
def voted(tmp_path: Path) -> tuple[config.Settings, pipeline.RunReport]:
    """Two subscribers get day 1; the fan likes its language-model papers, dislikes the rest."""
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(FAN, None), (PLAIN, None)])
    first = _run(settings, "000_own_nov09.txt", DAY1)
    liked = {p.key for p in first.edition.papers if p.topics and p.topics[0] == "llm"}
    assert liked
    text, _ = bodies(_mail_to(settings, FAN))
    assert _vote_from_links(settings, text, liked) == len(first.edition.papers)
    _clear_outbox(settings)
    return settings, first


# ---------------------------------------------------------------- votes


def test_a_vote_is_idempotent_and_the_other_thumb_replaces_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(FAN, None)])
    report = _run(settings, "000_own_nov09.txt", DAY1)
    paper = report.edition.papers[0].key
    with Database.open(settings.database.url) as db:
        fan = Subscriptions(db).by_email(FAN)
        assert fan is not None
        tokens = Tokens.from_settings(settings)
        ballot = read_vote_token(tokens, vote_token(tokens, fan.public_id, report.edition))
        feedback = Feedback(db)
        assert feedback.vote(ballot, paper, True, NOW) == VoteChange.RECORDED
        assert feedback.vote(ballot, paper, True, NOW + timedelta(1)) == VoteChange.UNCHANGED
        [vote] = feedback.votes_of(fan)
        assert (vote.liked, vote.at, vote.seeded) == (True, NOW, False)
        assert vote.edition_id is not None
        assert feedback.vote(ballot, paper, False, NOW + timedelta(2)) == VoteChange.REPLACED
        [vote] = feedback.votes_of(fan)
        assert (vote.liked, vote.at) == (False, NOW + timedelta(2))
        with pytest.raises(TokenError, match="not name a paper of that edition"):
            feedback.vote(ballot, "arxiv:9999.99999", True, NOW)
        assert len(feedback.votes_of(fan)) == 1


def test_a_vote_token_is_refused_for_another_purpose_and_when_expired(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    edition = render_kit.small_edition()
    old = Tokens.from_settings(settings, clock=lambda: NOW - timedelta(days=181))
    tokens = Tokens.from_settings(settings, clock=lambda: NOW)
    assert read_vote_token(tokens, vote_token(tokens, "abc", edition)).public_id == "abc"
    with pytest.raises(TokenError) as expired:
        read_vote_token(tokens, vote_token(old, "abc", edition))
    assert expired.value.reason == "expired"
    with pytest.raises(TokenError):
        read_vote_token(tokens, tokens.make("unsubscribe", "abc"))


def test_a_vote_token_is_short_names_its_edition_and_old_tokens_still_read(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    edition = replace(render_kit.small_edition(), number=2)
    tokens = Tokens.from_settings(settings, clock=lambda: NOW)
    public_id = "6rC6gr77xK7EbfZlpybs9g"  # as secrets.token_urlsafe(16) makes them
    token = vote_token(tokens, public_id, edition)
    assert len(token) <= VOTE_TOKEN_CHARS and re.fullmatch(r"[\w.-]+", token)
    ballot = read_vote_token(tokens, token)
    assert (ballot.public_id, ballot.day, ballot.number) == (public_id, edition.date, 2)
    for forged in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature
        token.replace(".202611202.", ".202611212."),  # another edition
        token.replace(public_id, "x" + public_id[1:]),  # another subscriber
        vote_token(Tokens(b"another key" * 3, 3600, lambda: NOW), public_id, edition),
    ):
        with pytest.raises(TokenError) as refused:
            read_vote_token(tokens, forged)
        assert refused.value.reason == "invalid"
    # the itsdangerous token of the first vote links (already in sent mail) still reads
    first = tokens.make("vote", f"{public_id}.{edition.date.isoformat()}.2")
    assert read_vote_token(tokens, first) == ballot


def test_every_seed_edition_keeps_its_vote_links_within_the_gmail_budget(corpus: Corpus) -> None:
    """The real seeds have 67-102 papers keyed by their whole titles: every card keeps its
    👍/👎 links, and the email with a recipient's real links stays under the budget."""
    settings = render_kit.settings()
    tokens = Tokens(b"k" * 32, 3600, lambda: NOW)
    site = "https://papers.example.org/"
    for path in corpus.files:
        edition = render_kit.seed_edition(path)
        links = RecipientLinks(
            f"{site}unsubscribe?t={'u' * 85}",
            f"{site}preferences?t={'p' * 85}",
            vote_token(tokens, "6rC6gr77xK7EbfZlpybs9g", edition),
        )
        email = render_email(edition, settings, links=links)
        cards = email.html.count(">Abstract</a>")
        refs = re.findall(r'href="https://papers\.example\.org/v/[^/"]+/([^/"]+)/up"', email.html)
        assert cards == len(edition.papers) and len(refs) == cards, path.name
        assert sorted(refs) == sorted(paper_ref(p.key) for p in edition.papers)
        size = len(email.html.encode("utf-8"))
        assert size <= settings.email.budget_bytes and size <= 102 * 1024, (path.name, size)


def test_seeds_resolve_arxiv_ids_and_titles_and_report_unknown_ones(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(FAN, None)])
    report = _run(settings, "000_own_nov09.txt", DAY1)
    by_title = report.edition.papers[0]
    by_id = next((p for p in report.edition.papers if p.arxiv_id), None)
    names = [by_title.title.upper(), "A paper nobody has seen"]
    if by_id is not None:
        names.append(f"https://arxiv.org/abs/{by_id.arxiv_id}v3")
    with Database.open(settings.database.url) as db:
        fan = Subscriptions(db).by_email(FAN)
        assert fan is not None
        seeded = Feedback(db).seed(fan, names, NOW)
        assert seeded.unknown == ("A paper nobody has seen",)
        assert next(title for _, title in seeded.found) == by_title.title
        votes = Feedback(db).votes_of(fan)
        assert all(v.seeded and v.liked for v in votes)
        assert len(votes) == len(names) - 1


def test_seeding_counts_each_paper_once_and_says_which_names_were_not_read(
    tmp_path: Path,
) -> None:
    from newsletter.subscribers.feedback import MAX_SEEDS

    settings = make_settings(tmp_path)
    add_subscribers(settings, [(FAN, None)])
    report = _run(settings, "000_own_nov09.txt", DAY1)
    title = report.edition.papers[0].title
    extra = [f"Unheard-of paper {i}" for i in range(MAX_SEEDS + 2)]
    with Database.open(settings.database.url) as db:
        fan = Subscriptions(db).by_email(FAN)
        assert fan is not None
        seeded = Feedback(db).seed(fan, [title, title.upper(), *extra], NOW)
        assert [t for _, t in seeded.found] == [title]  # one paper, typed twice
        assert len(Feedback(db).votes_of(fan)) == 1
        assert seeded.over == tuple(extra[MAX_SEEDS - 2 :])  # past the limit: said, not lost
        assert len(seeded.unknown) == MAX_SEEDS - 2


# ---------------------------------------------------------------- ranked editions


def test_a_subscriber_who_voted_gets_top_picks_with_reasons_and_the_others_todays_email(
    voted: tuple[config.Settings, pipeline.RunReport],
) -> None:
    settings, first = voted
    second = _run(settings, "001_own_nov10.txt", DAY2)
    fan_text, fan_html = bodies(_mail_to(settings, FAN))
    plain = _mail_to(settings, PLAIN)
    plain_text, plain_html = bodies(plain)

    assert "Top picks for you" in fan_html and "== Top picks for you ==" in fan_text
    picks = fan_text[fan_text.index("== Top picks") : fan_text.index("In this edition:")]
    assert len(re.findall(r"^\* ", picks, re.M)) == settings.ranking.top_picks
    assert len(re.findall(r"^  Why: ", picks, re.M)) == settings.ranking.top_picks
    # a pick is moved, not copied: one reason per paper, picks included
    assert fan_html.count("Why: ") == len(second.edition.papers)
    # the fan liked the language-model papers: today's are among the picks, and the
    # first pick says which liked paper it is like
    picked = [" ".join(t.split()) for t in re.findall(r"^\* (.+(?:\n  (?!http).+)*)$", picks, re.M)]
    llm = {p.title for p in second.edition.papers if p.topics[0] == "llm"}
    assert llm and llm <= set(picked)
    liked_titles = {p.title for p in first.edition.papers if p.topics[0] == "llm"}
    reason = re.search(r"^  Why: (.+)$", picks, re.M)
    assert reason is not None
    assert reason.group(1).startswith("matches:") or any(
        t[:40] in reason.group(1) for t in liked_titles
    )
    # the same papers, each once: the picks and the sections together are today's email's
    first_lines = re.findall(r"^\* (.+)$", picks, re.M)
    assert sorted(_sections(fan_text) + first_lines) == sorted(_sections(plain_text))
    for paper in second.edition.papers:  # a picked paper's card appears once, as for everyone
        card = f">{escape(paper.title)}</a>"
        assert fan_html.count(card) == plain_html.count(card) == 1, paper.title

    # someone who never voted: exactly the email rendering gives, no picks
    assert "Top picks" not in plain_html + plain_text
    unsubscribe = re.findall(r"<([^>]+)>", str(plain["List-Unsubscribe"]))[0]
    preferences = re.search(r"https://papers\.example\.org/preferences\?t=\S+", plain_text)
    token = VOTE_LINK.search(plain_text)
    assert preferences and token
    expected = render_email(
        second.edition,
        settings,
        topics=None,
        links=RecipientLinks(unsubscribe, preferences.group(0), token.group(1)),
    )
    assert (plain_text, plain_html) == (expected.text, expected.html)
    assert len(fan_html.encode()) <= settings.email.budget_bytes


def test_a_reader_with_only_thumbs_down_gets_no_top_picks_only_their_order(
    tmp_path: Path,
) -> None:
    """Top picks are papers the votes found something for: a reader who only pressed
    👎 gets no "Top picks for you" block (each pick would read "ranked by the papers
    you marked 👎"), their sections still in their order, each paper with its reason."""
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(FAN, None)])
    _run(settings, "000_own_nov09.txt", DAY1)
    text, _ = bodies(_mail_to(settings, FAN))
    assert _vote_from_links(settings, text, set()) > 0  # 👎 on every paper
    _clear_outbox(settings)
    second = _run(settings, "001_own_nov10.txt", DAY2)
    fan_text, fan_html = bodies(_mail_to(settings, FAN))
    assert "Top picks" not in fan_text + fan_html
    assert fan_html.count("Why: ") == len(second.edition.papers)
    assert "ranked by the papers you marked" in fan_text


def _titles_in_order(text: str, html: str) -> tuple[list[str], list[str]]:
    """Every paper title of each part's sections, in order (top picks left out)."""
    in_text = [
        " ".join(t.split())
        for t in re.findall(
            r"^\* (.+(?:\n  (?!http).+)*)$", text[text.index("In this edition:") :], re.M
        )
    ]
    body = html[html.index('id="topic-') :]
    in_html = [
        " ".join(html_unescape(t).split())
        for t in re.findall(
            r'<(?:h3[^>]*><a|li[^>]*><a) href="[^"]+" style="[^"]*">([^<]+)</a>', body
        )
    ]
    return in_text, in_html


def test_a_large_edition_is_ranked_throughout_and_unranked_emails_stay_the_same_bytes(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """Issue 15 on an edition too large for cards only (the largest real digest, 102
    papers, in a 60 KB budget): the fan's sections are each in their score order
    throughout — cards, then title-only lines, each line with its reason — and the
    subscriber who never voted gets exactly the email rendering gives, title lines in
    digest order."""
    settings = make_settings(tmp_path, email={"budget_kb": 90})
    add_subscribers(settings, [(FAN, None), (PLAIN, None)])
    first = _run(settings, "000_own_nov09.txt", DAY1)
    liked = {p.key for p in first.edition.papers if p.topics and p.topics[0] == "llm"}
    text, _ = bodies(_mail_to(settings, FAN))
    assert _vote_from_links(settings, text, liked) == len(first.edition.papers)
    _clear_outbox(settings)
    second = pipeline.run(settings, [str(seeds_dir / "003_bf041023cdecb2cb.txt")], DAY2)
    fan_text, fan_html = bodies(_mail_to(settings, FAN))
    plain = _mail_to(settings, PLAIN)
    plain_text, plain_html = bodies(plain)
    line = '<li style="margin:0 0 6px">'
    assert plain_html.count(line) >= 20 and fan_html.count(line) >= 20  # title-only lines

    # the one who never voted: the rendered email (as delivery renders it once, its
    # links placeholders: the plan is chosen with their headroom), byte for byte with
    # their links spliced in
    unsubscribe = re.findall(r"<([^>]+)>", str(plain["List-Unsubscribe"]))[0]
    preferences = re.search(r"https://papers\.example\.org/preferences\?t=\S+", plain_text)
    token = VOTE_LINK.search(plain_text)
    assert preferences and token
    shared = render_email(second.edition, settings, topics=None)

    def spliced(body: str) -> str:
        return (
            body.replace(UNSUBSCRIBE_TOKEN, unsubscribe)
            .replace(PREFERENCES_TOKEN, preferences.group(0))
            .replace(VOTE_TOKEN, token.group(1))
        )

    assert (plain_text, plain_html) == (spliced(shared.text), spliced(shared.html))
    assert "Why: " not in plain_text + plain_html

    # the fan: their scores, read back from their stored model as delivery read them
    with Database.open(settings.database.url) as db:
        ranking = Ranking(
            settings,
            db,
            second.edition,
            lambda: Sender("Test", "digest@papers.example.org", "papers.example.org", "u@x.org"),
            lambda: NOW,
        )
        models = ranking.models()
        fan = Subscriptions(db).by_email(FAN)
        assert models is not None and fan is not None
        topics = ranking._topics[fan.id]
        copy = ranking._copy(topics)
        assert copy is not None
        scored = ranking._scored(fan.id, models, copy, topics)
    assert copy.layout.lines  # its title lines are ranked too
    titles = {p.key: " ".join(p.title.split()) for p in second.edition.papers}
    picks = settings.ranking.top_picks
    order = [s.paper_key for s in scored]
    in_text, in_html = _titles_in_order(fan_text, fan_html)
    assert in_text == in_html
    # the rule, written out: a section showing N cards shows its N best papers as cards;
    # the picks are the best of those; each section, but its picks, in score order
    sections = list(zip(copy.layout.html.sections, copy.layout.html.titles, strict=True))
    best = set()
    for cards, lines in sections:
        members = set(cards) | set(lines)
        best |= set([k for k in order if k in members][: len(cards)])
    chosen = [k for k in order if k in best][:picks]
    reordered = 0  # sections whose order is not the digest's
    for cards, lines in sections:
        members = set(cards) | set(lines)
        expected_order = [titles[k] for k in order if k in members and k not in chosen]
        if not expected_order:
            continue
        reordered += expected_order != [titles[k] for k in (*cards, *lines) if k not in chosen]
        at = in_text.index(expected_order[0])
        assert in_text[at : at + len(expected_order)] == expected_order
        first = fan_html.index(">" + str(escape(expected_order[0])) + "<")
        start = fan_html.rindex("<h2 ", 0, first)
        end = fan_html.find("<h2 ", first)
        part = fan_html[start : end if end > 0 else len(fan_html)]
        shown_cards = len(cards) - len(members & set(chosen))
        assert (part.count("<h3"), part.count("<li")) == (shown_cards, len(lines))
        assert part.count("Why: ") == shown_cards + len(lines)
    assert reordered >= len(sections) // 2
    assert [titles[k] for k in chosen] == [
        " ".join(t.split())
        for t in re.findall(
            r"^\* (.+(?:\n  (?!http).+)*)$",
            fan_text[fan_text.index("== Top picks") : fan_text.index("In this edition:")],
            re.M,
        )
    ]
    shown = len(copy.layout.keys) + len(copy.layout.lines)
    assert fan_text.count("\n  Why: ") == fan_html.count("Why: ") == shown
    assert re.search(r"</a><br><span [^>]*>Why: [^<]+</span></li>", fan_html)
    assert len(fan_html.encode()) <= settings.email.budget_bytes


def test_ranking_off_then_reset_return_the_digest_order(
    voted: tuple[config.Settings, pipeline.RunReport],
) -> None:
    settings, _ = voted
    with Database.open(settings.database.url) as db:
        fan = Subscriptions(db).by_email(FAN)
        assert fan is not None
        assert Feedback(db).set_ranking(fan, False, NOW)
    _run(settings, "001_own_nov10.txt", DAY2)
    fan_text, fan_html = bodies(_mail_to(settings, FAN))
    plain_text, _ = bodies(_mail_to(settings, PLAIN))
    assert "Top picks" not in fan_html and _sections(fan_text) == _sections(plain_text)
    _clear_outbox(settings)
    with Database.open(settings.database.url) as db:
        fan = Subscriptions(db).by_email(FAN)
        assert fan is not None
        Feedback(db).set_ranking(fan, True, NOW)
        assert Feedback(db).reset(fan) > 0
        assert Feedback(db).votes_of(fan) == []
    _run(settings, "003_own_nov11.txt", DAY3)
    fan_text, fan_html = bodies(_mail_to(settings, FAN))
    plain_text, _ = bodies(_mail_to(settings, PLAIN))
    assert "Top picks" not in fan_html and _sections(fan_text) == _sections(plain_text)


def test_a_ranked_email_stays_within_the_budget_and_escapes_its_reasons(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, email={"budget_kb": 90})
    edition = render_kit.large_edition(120)
    made = layout(edition, settings, None, 5)
    assert made is not None
    ranked = list(reversed(made.keys))
    hostile = "because you liked “<script>alert(1)</script>” " + "x" * 300
    reasons = dict.fromkeys(ranked, hostile)
    html = "".join(made.html.pieces(ranked, reasons, 5))
    text = "".join(made.text.pieces(ranked, reasons, 5))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert(1)</script>" in text  # the text part is text
    assert max(len(line) for line in re.findall(r"Why: (.*)", text)) <= REASON_CHARS
    # as sent: each vote token the longest a real one is, the other links' headroom
    real = html.replace("%%VOTE_TOKEN%%", "t" * VOTE_TOKEN_CHARS)
    assert len(real.encode()) + 2 * 300 <= settings.email.budget_bytes
    # every reason line is cut to the room kept for it (the worst case: escaped, UTF-8)
    lines = re.findall(r'<p class="nl-muted"[^>]*>Why: .*?</p>', html)
    assert len(lines) == len(made.keys)
    assert max(len(line.encode()) for line in lines) <= REASON_BYTES + 120
    # the picks are the best-ranked cards, in order
    n = min(5, len(ranked))
    top = re.findall(r'<h3[^>]*><a href="[^"]+"[^>]*>([^<]+)</a>', html)[:n]
    titles = {p.key: p.title for p in edition.papers}
    assert n and top == [titles[k] for k in ranked[:n]]


def test_a_ranked_copy_of_each_seed_edition_keeps_cards_and_every_title(corpus: Corpus) -> None:
    """Room for the picks and a reason per card is found by shortening teasers and
    dropping vote links first, as the unranked email does: a voter's copy of a
    full-size edition keeps 40 or more of its papers as cards and every title (it
    once became a bare title list: the reasons' room was taken from the budget after
    the plan was chosen)."""
    settings = render_kit.settings()
    for path in corpus.files:
        edition = render_kit.seed_edition(path)
        made = layout(edition, settings, None, 5)
        assert made is not None, path.name
        assert len(made.keys) >= min(40, len(edition.papers)), (path.name, len(made.keys))
        ranked = list(reversed(made.keys))
        html = "".join(made.html.pieces(ranked, dict.fromkeys(ranked, "because"), 5))
        for paper in edition.papers:
            assert str(escape(paper.title)) in html, (path.name, paper.title)
        assert html.count("Why: because") >= len(made.keys), path.name


def test_a_ranked_message_is_its_pieces_with_the_recipients_links_spliced() -> None:
    """The cheap path (shared pieces encoded once, the vote token a marker replaced once
    per message) gives exactly the bodies the pieces make, with this recipient's links."""
    settings = render_kit.settings()
    edition = render_kit.seed_edition(render_kit.ARCHIVE_DIGESTS / "000_own_nov09.txt")
    made = layout(edition, settings, None, 3)
    assert made is not None
    sender = Sender("Test", "digest@papers.example.org", "papers.example.org", "u@x.org")
    copy = _Copy(made, DigestFrame.build(sender, made.subject, NOW), encode_layout(made))
    ranked = list(reversed(made.keys))
    reasons = {k: f"because you liked “Paper {i}” & more" for i, k in enumerate(ranked)}
    who = Recipient(
        "r@example.org",
        "<m.1@papers.example.org>",
        "https://papers.example.org/unsubscribe?t=U1",
        "https://papers.example.org/unsubscribe?t=U1",
        "https://papers.example.org/preferences?t=P1",
        "unsubscribe U1",
        "TOKEN.202611091.g1g.SIGNATURE",
    )
    text = made.text.pieces(ranked, reasons, 3)
    html = made.html.pieces(ranked, reasons, 3)
    message = copy.frame.spliced(
        copy.segments("text", text), copy.segments("html", html), repeated=VOTE_MARKS
    )
    raw = message.for_recipient(who, smtp=False)
    assert b"\x00" not in raw
    assert message.for_recipient(who, smtp=True) == transparent(raw)
    got_text, got_html = bodies(email.message_from_bytes(raw, policy=email.policy.default))

    def spliced(body: str) -> str:
        return (
            body.replace("%%VOTE_TOKEN%%", who.vote_token)
            .replace("%%UNSUBSCRIBE_URL%%", who.unsubscribe_url)
            .replace("%%PREFERENCES_URL%%", who.preferences_url)
        )

    assert got_html.replace("\r\n", "\n") == spliced("".join(html)).replace("\r\n", "\n")
    assert got_text.replace("\r\n", "\n") == spliced("".join(text)).replace("\r\n", "\n")
    # 👍, 👎 and "Abstract" (to the archive page, via the vote link) once per card: the
    # picks are moved out of their sections, not copied
    assert got_html.count(f"/v/{who.vote_token}/") == 3 * len(made.keys)


# ---------------------------------------------------------------- privacy


def test_feeds_and_archive_stay_unpersonalised(
    voted: tuple[config.Settings, pipeline.RunReport],
) -> None:
    settings, _ = voted
    _run(settings, "001_own_nov10.txt", DAY2)
    site = settings.output.site_dir
    published = [
        p for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".xml", ".json")
    ]
    assert published
    for path in published:
        content = path.read_text(encoding="utf-8", errors="replace")
        assert "/vote?" not in content and "papers.example.org/v/" not in content, path
        assert "Top picks" not in content, path
        assert FAN not in content, path


def test_export_carries_the_votes_and_purge_deletes_them(
    voted: tuple[config.Settings, pipeline.RunReport],
) -> None:
    settings, first = voted
    with Database.open(settings.database.url) as db:
        out = io.StringIO()
        csvio.export_csv(Subscriptions(db), out)
        rows = {r["email"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
        liked = {p.key for p in first.edition.papers if p.topics[0] == "llm"}
        exported = rows[FAN]["votes"].split()
        assert sorted(exported) == sorted(
            ("+" if p.key in liked else "-") + p.key.replace(" ", "%20")
            for p in first.edition.papers
        )
        assert rows[PLAIN]["votes"] == "" and rows[PLAIN]["votes_detail"] == ""
        detail = json.loads(rows[FAN]["votes_detail"])  # each vote with its time and edition
        assert [
            ("+" if d["vote"] == "up" else "-") + d["paper"].replace(" ", "%20") for d in detail
        ] == exported
        assert all(d["at"] and d["edition"] and not d["seeded"] for d in detail)
        assert rows[FAN]["ranking"] == "on"
        fan = Subscriptions(db).by_email(FAN)
        assert fan is not None
        Feedback(db).set_ranking(fan, False, NOW)
        out = io.StringIO()
        csvio.export_csv(Subscriptions(db), out)
        assert "off" in [
            r["ranking"] for r in csv.DictReader(io.StringIO(out.getvalue())) if r["email"] == FAN
        ]
        assert fan is not None
        Subscriptions(db).remove(FAN, method="test", now=NOW, purge=True)
        with db.read() as tx:
            assert tx.votes.of(fan.id) == []
            assert fan.id not in tx.votes.rankable()


def test_unsubscribing_deletes_the_votes_as_the_pages_promise(
    voted: tuple[config.Settings, pipeline.RunReport],
) -> None:
    """ "After you unsubscribe we send nothing more and keep only that record": the
    votes, the model and the ranking switch go with the one click (the consent record
    stays); signing up again starts from the digest's order."""
    settings, _first = voted
    with Database.open(settings.database.url) as db:
        subs = Subscriptions(db)
        fan = subs.by_email(FAN)
        assert fan is not None
        with db.read() as tx:
            assert tx.votes.of(fan.id) and fan.id in tx.votes.rankable()
        Feedback(db).set_ranking(fan, False, NOW)
        subs.unsubscribe(fan.public_id, method="one-click", now=NOW)
        with db.read() as tx:
            assert tx.votes.of(fan.id) == [] and fan.id not in tx.votes.rankable()
            assert tx.votes.ranking_enabled(fan.id)  # the switch is gone: the default
        assert [c.action for c in subs.consents(fan.id)][-1] == "unsubscribed"
        # and nothing writes them again: not a vote page left open, a seed, the switch
        feedback = Feedback(db)
        tokens = Tokens.from_settings(settings)
        ballot = read_vote_token(tokens, vote_token(tokens, fan.public_id, _first.edition))
        for write in (
            lambda: feedback.vote(ballot, _first.edition.papers[0].key, True, NOW),
            lambda: feedback.seed(fan, [_first.edition.papers[0].title], NOW),
            lambda: feedback.set_ranking(fan, False, NOW),
        ):
            with pytest.raises(VoteRefused):
                write()
        with db.read() as tx:
            assert tx.votes.of(fan.id) == [] and tx.votes.ranking_enabled(fan.id)


def test_cli_seeds_and_resets_a_subscribers_ranking(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(FAN, None)])
    report = _run(settings, "000_own_nov09.txt", DAY1)
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'[newsletter]\nbase_url = "https://papers.example.org/"\n'
        f'[database]\nurl = "{settings.database.url}"\n',
        encoding="utf-8",
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newsletter", "--config", str(config_file), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    title = report.edition.papers[0].title
    seeded = cli("subscribers", "seed", FAN, title, "no such paper at all")
    assert seeded.returncode == 1, seeded.stderr
    assert f"liked: {title}" in seeded.stdout
    assert "not found: no such paper at all" in seeded.stderr
    shown = cli("subscribers", "ranking", FAN)
    assert "ranking on, 1 vote" in shown.stdout, shown.stderr
    off = cli("subscribers", "ranking", FAN, "--off")
    assert "ranking off" in off.stdout, off.stderr
    both = cli("subscribers", "ranking", FAN, "--on", "--off")  # a usage error, not "last wins"
    assert both.returncode == 2 and "contradict" in both.stderr, both.stderr
    assert "ranking off" in cli("subscribers", "ranking", FAN).stdout  # unchanged
    reset = cli("subscribers", "ranking", FAN, "--reset", "--on")
    assert "forgot 1 vote" in reset.stdout and "ranking on" in reset.stdout, reset.stderr
    unknown = cli("subscribers", "seed", "nobody@example.org", title)
    assert unknown.returncode == 1 and "not on the list" in unknown.stderr


def test_the_largest_seed_ranked_email_keeps_a_vote_link_on_every_card(seeds_dir: Path) -> None:
    """The largest real digest (102 papers): its ranked copy, picks moved out of their
    sections, keeps 👍 and 👎 on every card it shows, each title-only line links to the
    paper's signed page (its 👍/👎 there; both in the text part), and it stays in the
    budget."""
    settings = render_kit.settings()
    largest = max(sorted(seeds_dir.glob("0*.txt")), key=lambda p: len(render_kit.seed_entries(p)))
    edition = render_kit.seed_edition(largest)
    made = layout(edition, settings, None, settings.ranking.top_picks)
    assert made is not None
    ranked = list(reversed(made.keys))
    reasons = dict.fromkeys(ranked, "because you liked “" + "x" * 200 + "”")
    html = "".join(made.html.pieces(ranked, reasons, settings.ranking.top_picks))
    text = "".join(made.text.pieces(ranked, reasons, settings.ranking.top_picks))
    # most of the edition as cards (12 a section: the room the title lines' reasons
    # take, a reason under every paper, costs the 15-a-section plan), every other
    # paper a title line
    assert len(made.keys) >= 45 and len(made.keys) + len(made.lines) == len(edition.papers)
    lines = [p.key for p in edition.papers if p.key not in made.keys]
    # the HTML card's "Abstract" goes via the vote link too, a title line is only that
    for body, per_card, per_line in ((html, 3, 1), (text, 2, 2)):
        assert body.count("%%VOTE_TOKEN%%/") == per_card * len(made.keys) + per_line * len(lines)
        for key in made.keys:  # each card once, with both thumbs
            ref = paper_ref(key)
            assert body.count(f"/{ref}/up") == body.count(f"/{ref}/down") == 1, key
        for key in lines:
            ref = paper_ref(key)
            assert body.count(f"%%VOTE_TOKEN%%/{ref}") == per_line, key
    cost = len(html.encode()) + html.count("%%VOTE_TOKEN%%") * 40
    assert cost <= settings.email.budget_bytes


def test_a_size_plan_that_drops_something_says_so_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = render_kit.settings(email__budget_kb=40)
    edition = render_kit.large_edition(60)
    links = RecipientLinks("https://x/u", "https://x/p", "t" * 40)
    with caplog.at_level("WARNING", logger="newsletter.render.email"):
        render_email(edition, settings, links=links)
        render_email(edition, settings, links=links)  # the same edition: said once
    said = [r.getMessage() for r in caplog.records if "drops" in r.getMessage()]
    assert len(said) == 1 and "email.budget_kb" in said[0], said
    assert "👍/👎 links" in said[0] or "cards after the first" in said[0]
    # an email that fits whole says nothing
    caplog.clear()
    with caplog.at_level("WARNING", logger="newsletter.render.email"):
        render_email(render_kit.large_edition(3), settings, links=links)
    assert not [r for r in caplog.records if "drops" in r.getMessage()]


def _evaluation() -> Any:
    """``bench/ranking_eval.py``, the evaluation the docs report (not a package)."""
    bench = str(Path(__file__).parents[1] / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    import ranking_eval

    return ranking_eval


@pytest.mark.parametrize("topics", [None, frozenset({"llm"})])
def test_delivery_ranks_with_the_features_and_order_the_evaluation_measured(
    voted: tuple[config.Settings, pipeline.RunReport], topics: frozenset[str] | None
) -> None:
    """The figures of docs/ranking.md hold for what subscribers get: delivery gives the
    model each paper's topics (read back from the editions that published them) and
    ranks a topic subscriber's copy in its topic filter's order, exactly as the
    evaluation does — the same votes give the same papers, scores and reasons."""
    settings, first = voted
    second = pipeline.run(settings, [str(DIGESTS / "001_own_nov10.txt")], DAY2, send=False)
    ev = _evaluation()
    with Database.open(settings.database.url) as db:
        with db.write() as tx:
            fan = tx.subscribers.by_email(FAN)
            assert fan is not None
            tx.subscribers.set_topics(fan.id, topics, NOW)
        ranking = Ranking(
            settings,
            db,
            second.edition,
            lambda: Sender("Test", "digest@papers.example.org", "papers.example.org", "u@x.org"),
            lambda: NOW,
        )
        models = ranking.models()  # trained and stored, as a delivery does
        assert models is not None and fan.id in models.ids
        copy = ranking._copy(topics)
        assert copy is not None
        ours = ranking._scored(fan.id, models, copy)  # read back from the stored model
        with db.read() as tx:
            stored = tx.votes.rankable()
            shown = tx.votes.shown(stored)
    # the evaluation's way: the editions' papers with their topics, the same votes
    corpus = [ev._text(p) for p in (*first.edition.papers, *second.edition.papers)]
    votes = {
        sid: [Vote(v.paper_key, v.liked, v.at, v.seeded) for v in vs] for sid, vs in stored.items()
    }
    evaluation = train(corpus, votes, shown, topics={fan.id: topics})
    titles = {s.topic: s.title for s in second.edition.sections}
    edition = list(
        second.edition.papers
        if topics is None
        else for_topics(second.edition, topics, titles).papers
    )
    assert [p.key for p in copy.candidates] == [p.key for p in edition]  # the same order
    assert all(p.topics for p in copy.candidates)  # and the topics as features
    theirs = evaluation.rank(fan.id, [ev._text(p) for p in edition])
    # the same papers in the same order with the same reasons; the scores as far as
    # the stored model's float16 weights carry them
    assert [(s.paper_key, s.reason) for s in ours] == [(s.paper_key, s.reason) for s in theirs]
    assert [s.score for s in ours] == pytest.approx([s.score for s in theirs], rel=1e-2, abs=1e-3)
    assert [p.key for p in ev.topics_and_ranking(evaluation, fan.id, edition, ())] == [
        s.paper_key for s in ours
    ]

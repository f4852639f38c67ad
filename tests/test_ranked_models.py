"""Stored ranking models: a run retrains only the subscribers whose votes changed, and
scores the others from their stored model, a batch at a time."""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from delivery_kit import add_subscribers, bodies, maildir_messages, make_settings, parse

from newsletter import config, pipeline
from newsletter.delivery import ranked
from newsletter.delivery.message import Recipient
from newsletter.delivery.sending import sender_for
from newsletter.model import Edition
from newsletter.store import Database
from newsletter.subscribers.subscriptions import Subscriptions

DIGESTS = Path(__file__).parent / "digests"
FAN, OTHER, QUIET = "fan@example.org", "other@example.org", "quiet@example.org"
VOTED_AT = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
RETRAINED = re.compile(r"ranking: (\d+) subscribers with a model, (\d+) retrained")


def _run(settings: config.Settings, name: str, day: date) -> pipeline.RunReport:
    return pipeline.run(settings, [str(DIGESTS / name)], day)


def _vote(settings: config.Settings, address: str, likes: dict[str, bool], at: datetime) -> None:
    """Record ``address``'s votes (paper key → 👍) as the vote page does."""
    with Database.open(settings.database.url) as db:
        subscriber = Subscriptions(db).by_email(address)
        assert subscriber is not None
        with db.write() as tx:
            for key, liked in likes.items():
                tx.votes.record(subscriber.id, key, liked, at)


def _models(settings: config.Settings) -> dict[str, tuple[str, int]]:
    """Per address: when its stored model was trained and its size in bytes, read
    straight from the SQLite file."""
    path = settings.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT s.email, m.trained_at, length(m.model) FROM ranking_models m "
            "JOIN subscribers s ON s.id = m.subscriber_id"
        ).fetchall()
    return {email: (str(at), int(size or 0)) for email, at, size in rows}


def _retrained(caplog: pytest.LogCaptureFixture) -> tuple[int, int]:
    found = [RETRAINED.search(r.getMessage()) for r in caplog.records]
    hits = [m for m in found if m]
    assert hits, "no ranking line in the run's log"
    return int(hits[-1].group(1)), int(hits[-1].group(2))


def _order(settings: config.Settings, edition: Edition, address: str) -> list[str]:
    """``address``'s ranked order of ``edition`` as a fresh delivery pass makes it (its
    text part's top picks, then its sections), by paper title."""
    with Database.open(settings.database.url) as db:
        subscriber = Subscriptions(db).by_email(address)
        assert subscriber is not None
        ranking = ranked.Ranking(
            settings, db, edition, lambda: sender_for(settings), lambda: datetime.now(UTC)
        )
        compiled = ranking.compiled(subscriber.id, None)
        assert compiled is not None, f"{address} got no ranked copy"
    who = Recipient(address, "<m@x>", "https://x/u", "https://x/u", "https://x/p", "u", "t")
    text, _ = bodies(parse(compiled.for_recipient(who, smtp=False)))
    return [" ".join(t.split()) for t in re.findall(r"^\* (.+(?:\n  (?!http).+)*)$", text, re.M)]


@pytest.fixture
def readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[config.Settings, pipeline.RunReport]:
    """Three subscribers get day 1; the fan likes its language-model papers, the other
    reader its vision ones; the quiet one never votes.  The vocabulary is never refitted
    in these tests (the stores here double every day)."""
    monkeypatch.setattr(ranked, "REFIT_GROWTH", 1000.0)
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(FAN, None), (OTHER, None), (QUIET, None)])
    first = _run(settings, "000_own_nov09.txt", date(2026, 11, 9))
    papers = first.edition.papers
    _vote(settings, FAN, {p.key: p.topics[0] == "llm" for p in papers}, VOTED_AT)
    _vote(settings, OTHER, {p.key: p.topics[0] == "vision" for p in papers}, VOTED_AT)
    return settings, first


def test_a_subscriber_without_new_votes_is_not_retrained_and_one_with_a_new_vote_is(
    readers: tuple[config.Settings, pipeline.RunReport], caplog: pytest.LogCaptureFixture
) -> None:
    settings, first = readers
    caplog.set_level(logging.INFO, logger="newsletter.delivery.ranked")
    _run(settings, "001_own_nov10.txt", date(2026, 11, 10))
    assert _retrained(caplog) == (2, 2)  # the first ranked edition trains both
    trained = _models(settings)
    assert set(trained) == {FAN, OTHER}  # nobody else has a model
    assert all(0 < size < 64_000 for _, size in trained.values())  # a small blob each

    caplog.clear()
    third = _run(settings, "003_own_nov11.txt", date(2026, 11, 11))
    assert _retrained(caplog) == (2, 0)  # no vote since: both models reused as stored
    assert _models(settings) == trained
    box = settings.resolve(settings.delivery.maildir)
    got = [m["To"] for m in maildir_messages(box) if "Top picks for you" in bodies(m)[1]]
    assert sorted(got) == sorted([FAN, OTHER, FAN, OTHER])  # ranked from the stored models

    # the fan turns around: every language-model paper 👎, everything else 👍
    before = _order(settings, third.edition, FAN)
    _vote(
        settings,
        FAN,
        {p.key: p.topics[0] != "llm" for p in first.edition.papers},
        VOTED_AT + timedelta(days=2),
    )
    caplog.clear()
    after = _order(settings, third.edition, FAN)
    assert _retrained(caplog) == (2, 1)  # the fan only
    now = _models(settings)
    assert now[OTHER] == trained[OTHER] and now[FAN][0] != trained[FAN][0]
    # and the fan's order follows the new votes: what they liked most is now last
    assert sorted(before) == sorted(after) and before != after
    assert after.index(before[0]) > before.index(before[0])


def test_a_reset_forgets_the_stored_model(
    readers: tuple[config.Settings, pipeline.RunReport],
) -> None:
    settings, _ = readers
    _run(settings, "001_own_nov10.txt", date(2026, 11, 10))
    assert FAN in _models(settings)
    with Database.open(settings.database.url) as db:
        fan = Subscriptions(db).by_email(FAN)
        assert fan is not None
        with db.write() as tx:
            assert tx.votes.reset(fan.id) > 0
    assert FAN not in _models(settings) and OTHER in _models(settings)


def test_a_grown_store_refits_the_vocabulary_and_retrains_everyone(
    readers: tuple[config.Settings, pipeline.RunReport],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, _ = readers
    caplog.set_level(logging.INFO, logger="newsletter.delivery.ranked")
    _run(settings, "001_own_nov10.txt", date(2026, 11, 10))
    monkeypatch.setattr(ranked, "REFIT_GROWTH", 1.2)  # day 3 adds more than a fifth
    caplog.clear()
    _run(settings, "003_own_nov11.txt", date(2026, 11, 11))
    said = [r.getMessage() for r in caplog.records]
    assert any("vocabulary" in line and "fitted" in line for line in said)
    assert _retrained(caplog) == (2, 2)  # no vote changed, but the columns did
    path = settings.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        versions = conn.execute("SELECT version FROM ranking_vocabularies").fetchall()
        kept = conn.execute("SELECT DISTINCT vocabulary_version FROM ranking_models").fetchall()
    assert len(versions) == 1 and kept == versions  # the old one and its models are gone


def test_scoring_streams_batches_and_never_holds_every_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six ranked subscribers, batches of two, at most two batches held: every one still
    gets their own ranked email, and no more than four models were ever in memory."""
    monkeypatch.setattr(ranked, "SCORE_BATCH", 2)
    monkeypatch.setattr(ranked, "KEEP_BATCHES", 2)
    loaded: list[ranked.Ranking] = []
    load = ranked.Ranking._load

    def spy(self: ranked.Ranking, models: object, ids: object) -> object:
        loaded.append(self)
        return load(self, models, ids)  # type: ignore[arg-type]

    monkeypatch.setattr(ranked.Ranking, "_load", spy)
    settings = make_settings(tmp_path)
    readers = [f"reader{i}@example.org" for i in range(6)]
    add_subscribers(settings, [(a, None) for a in readers])
    first = _run(settings, "000_own_nov09.txt", date(2026, 11, 9))
    topics = sorted({p.topics[0] for p in first.edition.papers})
    for i, address in enumerate(readers):
        liked = topics[i % len(topics)]
        likes = {p.key: p.topics[0] == liked for p in first.edition.papers}
        _vote(settings, address, likes, VOTED_AT)
    _run(settings, "001_own_nov10.txt", date(2026, 11, 10))
    box = settings.resolve(settings.delivery.maildir)
    ranked_to = {m["To"] for m in maildir_messages(box) if "Top picks for you" in bodies(m)[1]}
    assert ranked_to == set(readers)
    ranking = loaded[-1]
    assert ranking.batches_loaded >= 3  # six subscribers, two a batch
    assert ranking.most_held <= 4 < len(readers)


def test_a_stored_model_reads_back_as_it_was_trained_to_within_float16() -> None:
    """Columns far apart (a gap wider than 16 bits), unsorted, and none at all."""
    import numpy as np
    from scipy import sparse

    from newsletter.ranking.interests import Interests
    from newsletter.ranking.persist import decode, encode, liked_keys
    from newsletter.ranking.ranker import _Profile

    for columns in ([3, 10, 70_000, 200_000], [5, 1, 9], []):
        cols = np.array(columns, dtype=np.int32)
        weights = np.random.default_rng(0).normal(size=len(cols))
        interests = Interests(np.array([0.1, -0.2]), np.array([1, 2]))
        profile = _Profile(
            cols, weights, 0.5, sparse.csr_matrix((1, 5)), ("t",), True, interests, 0.3, ("k", "é")
        )
        blob = encode(profile)
        back = decode(blob, sparse.csr_matrix((2, 5)), ["a", "b"])
        order = np.argsort(cols)
        assert list(back.features) == sorted(columns)
        assert np.allclose(back.weights, weights[order], atol=5e-3)
        assert liked_keys(blob) == ["k", "é"] and back.liked_titles == ("a", "b")
        assert (back.intercept, back.prior_weight, back.has_positives) == (0.5, 0.3, True)
        assert len(blob) <= 100 + 6 * len(columns)  # ~4 bytes a column, plus the header

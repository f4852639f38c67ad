"""A run reads the archive's totals and only the editions it shows papers of
(``newsletter/history.py``, ``store/summaries.py``) — and publishes the same site
as one that reads every edition."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from render_kit import seed_editions, settings

from newsletter.history import PAGE_SIZE
from newsletter.model import Edition, Paper, Section
from newsletter.render import publish_site
from newsletter.store import Database

NOW = datetime(2026, 12, 20, 6, 0, tzinfo=UTC)


def _archive() -> list[Edition]:
    """Fifteen editions, oldest first, over two months; in the middle five every paper
    is in ``llm``, so that topic's numbered pages fill."""
    seeds = seed_editions()

    def round_of(n: int, days: int, only_llm: bool) -> list[Edition]:
        out = []
        for i, e in enumerate(seeds):
            sections = tuple(
                replace(
                    s,
                    papers=tuple(
                        replace(
                            p, key=f"{p.key} {n}.{i}", topics=("llm",) if only_llm else p.topics
                        )
                        for p in s.papers
                    ),
                )
                for s in e.sections
            )
            out.append(replace(e, date=e.date + timedelta(days=days), sections=sections))
        return out

    # keys unique throughout, as novelty makes them (a paper is published once)
    return round_of(0, 0, False) + round_of(1, 5, True) + round_of(2, 12, False)


def _files(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and "pagefind" not in p.relative_to(site).parts
    }


def test_a_run_reading_summaries_publishes_the_site_a_run_reading_every_edition_does(
    db_url: str, tmp_path: Path
) -> None:
    editions = _archive()
    assert editions[-1].date.month != editions[0].date.month  # the index lists two months
    s = settings(**{"feeds.max_items": 20})
    bounded = tmp_path / "bounded"
    read: list[tuple[int, int]] = []  # editions read, editions before
    with Database.open(db_url) as db:
        for edition in editions:
            with db.write() as tx:
                stored = tx.editions.record(edition, NOW)
            with db.read() as tx:
                history = tx.editions.history(
                    stored.edition, feed_items=s.feeds.max_items, page_size=PAGE_SIZE
                )
            read.append((len(history.editions), history.count))
            publish_site(stored.edition, history, s, bounded)
    reference = tmp_path / "reference"
    history_list: list[Edition] = []
    for edition in editions:
        publish_site(edition, history_list, s, reference)
        history_list.insert(0, edition)
    assert _files(bounded) == _files(reference)
    assert read[-1][1] == len(editions) - 1


def _paper(n: int, topic: str) -> Paper:
    return Paper(
        key=f"arxiv:2001.{n:05d}",
        title=f"Study {n}",
        abstract="An abstract.",
        url=f"https://arxiv.org/abs/2001.{n:05d}",
        source="s.txt",
        topics=(topic,),
    )


def test_a_run_at_day_200_reads_as_many_editions_as_one_at_day_20(db_url: str) -> None:
    topics = ("llm", "vision", "generative")
    first = date(2026, 1, 1)

    def day(i: int) -> Edition:
        papers = [_paper(i * 30 + k, topics[k % 3]) for k in range(30)]
        return Edition(
            date=first + timedelta(days=i),
            sections=tuple(
                Section(t, t.title(), tuple(p for p in papers if p.topic == t)) for t in topics
            ),
        )

    read = {}
    with Database.open(db_url) as db:
        with db.write() as tx:
            for i in range(200):
                tx.editions.record(day(i), NOW)
        for at in (20, 200):
            with db.read() as tx:
                history = tx.editions.history(day(at), feed_items=20, page_size=PAGE_SIZE)
            read[at] = history
    # 10 papers a topic per edition: PAGE_SIZE + 10 of a topic are in the newest 6
    # editions; the week and month add the rest of the editions read
    assert read[200].count == 200 and read[20].count == 20
    assert len(read[200].editions) <= 31, len(read[200].editions)
    assert dict(read[200].topic_counts) == {t: 2000 for t in topics}
    assert read[200].latest[0].date == first + timedelta(days=199)
    assert read[200].months[0] == (2026, 7, 30 * 19)  # July 1-19
    assert sum(n for _, _, n in read[200].months) == 6000

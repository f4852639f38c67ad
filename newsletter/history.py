"""What a run reads of the archive's history: a bounded set of editions plus totals.

Publishing an edition needs, of everything published before it, only

* the editions whose papers it shows again: the newest ``feeds.max_items``
  papers (the feeds), for each topic its newest ``PAGE_SIZE`` + new papers
  (the topic's first page and the numbered pages its new papers fall on) and
  ``feeds.max_items`` papers (its feed), the editions of its week and month,
  and the two editions before it (the one before gains a "next" link and
  keeps its "previous" one);
* totals: how many editions and how many papers per topic and per month there
  are, and the newest :data:`LATEST_EDITIONS` editions as index lines.

:class:`History` is that: ``editions`` (newest first, possibly with gaps: an
edition in none of the sets above is not read) and the totals, which the store
keeps in its edition summary tables (``store/summaries.py``) so a run never
parses the JSON of every earlier edition.  :meth:`History.of` builds the same
value from a full list of editions (tests, previews).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from newsletter.model import Edition

LATEST_EDITIONS = 30
"""Editions the archive index lists; older ones are reached through the month pages."""
PAGE_SIZE = 50
"""Papers per topic page (:mod:`newsletter.render.archive`)."""


@dataclass(frozen=True)
class EditionLine:
    """One edition as the archive index shows it: date, number, size, sections' sizes.

    ``sections`` holds (section title, papers) of its non-empty sections, in order.
    """

    date: date
    number: int
    paper_count: int
    sections: tuple[tuple[str, int], ...]


def line_of(edition: Edition) -> EditionLine:
    return EditionLine(
        date=edition.date,
        number=edition.number,
        paper_count=edition.paper_count,
        sections=tuple((s.title, len(s.papers)) for s in edition.sections if s.papers),
    )


def topic_counts_of(edition: Edition) -> dict[str, int]:
    """Papers of ``edition`` carrying each topic (a paper counts once per topic)."""
    counts: dict[str, int] = {}
    seen: set[str] = set()
    for section in edition.sections:
        for paper in section.papers:
            if paper.key in seen:
                continue
            seen.add(paper.key)
            for topic in dict.fromkeys(paper.topics):
                counts[topic] = counts.get(topic, 0) + 1
    return counts


@dataclass(frozen=True)
class History:
    """Editions published before the one being published, as much as it needs.

    Attributes:
        editions: the editions read, newest first (see the module docstring).
        count: how many editions there are in all.
        latest: the newest :data:`LATEST_EDITIONS` editions as index lines, newest first.
        topic_counts: papers per topic over every edition.
        months: (year, month, papers) of every month with an edition, newest first.
    """

    editions: tuple[Edition, ...]
    count: int
    latest: tuple[EditionLine, ...]
    topic_counts: Mapping[str, int] = field(default_factory=dict)
    months: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def of(cls, editions: Sequence[Edition]) -> History:
        """The history of a full list of editions (newest first).

        A paper in several editions counts once, in the newest (the archive shows it
        there); the store counts per edition, papers being published once."""
        counts: dict[str, int] = {}
        months: dict[tuple[int, int], int] = {}
        seen: set[str] = set()
        for e in editions:
            for section in e.sections:
                for paper in section.papers:
                    if paper.key not in seen:
                        seen.add(paper.key)
                        for topic in dict.fromkeys(paper.topics):
                            counts[topic] = counts.get(topic, 0) + 1
            key = (e.date.year, e.date.month)
            months[key] = months.get(key, 0) + e.paper_count
        return cls(
            editions=tuple(editions),
            count=len(editions),
            latest=tuple(line_of(e) for e in editions[:LATEST_EDITIONS]),
            topic_counts=counts,
            months=_newest_first(months.items()),
        )

    def with_newest(self, edition: Edition) -> History:
        """This history with ``edition`` published on top of it."""
        counts = dict(self.topic_counts)
        for topic, n in topic_counts_of(edition).items():
            counts[topic] = counts.get(topic, 0) + n
        months = {(y, m): n for y, m, n in self.months}
        key = (edition.date.year, edition.date.month)
        months[key] = months.get(key, 0) + edition.paper_count
        return History(
            editions=(edition, *self.editions),
            count=self.count + 1,
            latest=(line_of(edition), *self.latest)[:LATEST_EDITIONS],
            topic_counts=counts,
            months=_newest_first(months.items()),
        )


def _newest_first(
    months: Iterable[tuple[tuple[int, int], int]],
) -> tuple[tuple[int, int, int], ...]:
    return tuple((y, m, n) for (y, m), n in sorted(months, reverse=True))

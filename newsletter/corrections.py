"""Operator corrections of paper identity, and what ``explain`` finds in the store.

When novelty is wrong the operator says so::

    newsletter papers distinct "Qwen2.5-Math Technical Report" "Qwen2.5-Coder Technical Report"
    newsletter papers same arxiv:2403.01234 "The Old Title of That Paper"
    newsletter papers decisions          # what is in force
    newsletter papers undo 3             # take decision #3 back

A decision names two papers (a key such as ``arxiv:2403.01234`` or
``title:…``, a bare arXiv id, or a title in any form) and outranks every rule
of :mod:`newsletter.novelty` from the next run on: a paper marked *distinct*
is new, one marked *same* is seen.  A merge the operator overrules is undone
for the next run: the entry the run took for the other paper was kept as a
*sighting*, and the next run brings it back, so it appears in the next
edition.  Each function here opens the store, does one thing and returns a
value for the CLI to print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newsletter.errors import InputError, NewsletterError
from newsletter.identity import (
    Decision,
    decision_reason,
    names_of,
    parse_arxiv_id,
    title_key,
)
from newsletter.model import RawEntry
from newsletter.store import Database
from newsletter.store.corrections import Corrections, Sighting, StoredPaper
from newsletter.store.papers import title_hash

VERDICTS = ("same", "distinct")
CORRECTIONS_DIGEST = "operator corrections"


class UnknownPaper(InputError):
    """A KEY_OR_TITLE that names no paper, or several."""

    default_hint = "name a paper by its key (arxiv:… or title:…, as explain prints it) or title"


@dataclass(frozen=True)
class Named:
    """A paper as the operator named it: the name a decision records, and what
    the store knows of it — the seen paper, or (for an entry taken for another
    paper) its sightings."""

    name: str
    title: str
    stored: StoredPaper | None = None
    sightings: tuple[Sighting, ...] = ()

    def describe(self) -> str:
        if self.stored is not None:
            when = (
                self.stored.edition_date.isoformat() if self.stored.edition_date else "no edition"
            )
            return f"{self.stored.title!r} ({self.name}, seen in edition {when})"
        last = self.sightings[-1]
        return f"{last.title!r} ({self.name}, listed and taken for {last.same_as})"


@dataclass(frozen=True)
class DecisionReport:
    decision: Decision
    first: Named
    second: Named
    reinstated: int  # entries the next run brings back because of it


@dataclass(frozen=True)
class StoredRecord:
    """A seen paper, the entries later taken for it, and the decisions about it."""

    paper: StoredPaper
    sightings: tuple[Sighting, ...]
    decisions: tuple[Decision, ...]


def resolve(store: Database, text: str) -> Named:
    """The paper ``text`` names: a key, an arXiv id or URL, or a title in any form —
    of a seen paper, or of an entry a run took for one (a *sighting*).

    A name that matches neither is an error: a decision about a paper the store
    has never held would be a decision about nothing (a typo, most often), and
    nothing would ever show that it did nothing.  A title that several papers
    carry is ambiguous: the error lists them, each with the key that names it.
    """
    text = text.strip()
    if not text:
        raise UnknownPaper("an empty paper name", hint="give a key (arxiv:… or title:…) or a title")
    with store.read() as tx:
        repo = tx.corrections
        if text.startswith(("title:", "arxiv:")) and (found := repo.papers(keys=[text])):
            return _named(repo, found[0])
        arxiv = parse_arxiv_id(text)
        if arxiv is not None:
            found = repo.papers(arxiv_ids=[arxiv.id], keys=[f"arxiv:{arxiv.id}"])
            if found:
                return _named(repo, found[0])
            name = f"arxiv:{arxiv.id}"
            by_id = tuple(repo.sightings(names=[name]))
            if by_id:
                return Named(name, by_id[-1].title, None, by_id)
            raise UnknownPaper(f"no paper in the store is {text!r} ({name})", hint=_UNKNOWN_HINT)
        tkey = title_key(text.removeprefix("title:"))
        if not tkey:
            raise UnknownPaper(f"{text!r} names no paper", hint="give a key or a title")
        found = [p for p in repo.papers(title_hashes=[title_hash(tkey)]) if p.title_key == tkey]
        if len(found) > 1:
            listed = "; ".join(f"{p.key} ({_edition(p)})" for p in found)
            raise UnknownPaper(
                f"{len(found)} seen papers carry the title {text!r}: {listed}",
                hint="name one of them by its key",
            )
        if found:
            return _named(repo, found[0])
        sighted = [
            s for s in repo.sightings(title_hashes=[title_hash(tkey)]) if s.title_key == tkey
        ]
        names = sorted({s.name for s in sighted})
        if len(names) > 1:
            raise UnknownPaper(
                f"{len(names)} listed entries carry the title {text!r}: {', '.join(names)}",
                hint="name one of them by its key",
            )
        if not names:
            raise UnknownPaper(f"no paper in the store has the title {text!r}", hint=_UNKNOWN_HINT)
        return Named(names[0], sighted[-1].title, None, tuple(sighted))


_UNKNOWN_HINT = (
    "only papers a run has seen (or taken for another) can be named; "
    "'newsletter explain WORDS' finds them, with their keys"
)


def _edition(paper: StoredPaper) -> str:
    when = paper.edition_date.isoformat() if paper.edition_date else "no edition"
    return f"{paper.title!r}, seen in edition {when}"


def decide(
    database_url: str, first: str, second: str, verdict: str, now: datetime
) -> DecisionReport:
    """Record that ``first`` and ``second`` are the ``same`` paper or ``distinct`` ones."""
    if verdict not in VERDICTS:
        raise NewsletterError(f"unknown verdict {verdict!r}", hint="same or distinct")
    store = _open(database_url)
    try:
        a, b = resolve(store, first), resolve(store, second)
        if a.name == b.name:
            raise UnknownPaper(
                f"{first!r} and {second!r} name the same paper ({a.name})",
                hint="name two different papers",
            )
        with store.write() as tx:
            decision = tx.corrections.decide((a.name, a.title), (b.name, b.title), verdict, now)
        reinstated = len(reinstated_entries(store)) if verdict == "distinct" else 0
        return DecisionReport(decision, a, b, reinstated)
    finally:
        store.close()


@dataclass(frozen=True)
class UndoReport:
    decision: Decision
    reinstated: int  # entries the next run brings back because it is undone


def undo(database_url: str, decision_id: int, now: datetime) -> UndoReport:
    """Take a decision back; the next run decides those two papers by the rules
    again.  Entries an undone "same" took for the other paper are listed again by
    the next run (and are new there unless the rules see them)."""
    store = _open(database_url)
    try:
        with store.write() as tx:
            revoked = tx.corrections.revoke(decision_id, now)
        if revoked is None:
            raise NewsletterError(
                f"no decision #{decision_id} in force", hint="newsletter papers decisions"
            )
        reinstated = len(reinstated_entries(store)) if revoked.verdict == "same" else 0
        return UndoReport(revoked, reinstated)
    finally:
        store.close()


def decisions(database_url: str, *, include_revoked: bool = False) -> list[Decision]:
    with Database.open_read_only(database_url) as db, db.read() as tx:
        return tx.corrections.decisions(include_revoked=include_revoked)


def reinstated_entries(store: Database) -> list[RawEntry]:
    """Entries a run took for a seen paper that the operator has since called a
    different paper — or took because of a "same" decision since undone — and
    that are not seen papers themselves yet: the next run lists them again (so
    they appear in its edition).

    An entry an undone "same" took comes back once: when its newest sighting is
    still the one that decision made (if the rules then see it again, that new
    sighting stops it coming back).
    """
    with store.read() as tx:
        repo = tx.corrections
        distinct = [d for d in repo.decisions() if d.verdict == "distinct"]
        undone = [
            d
            for d in repo.decisions(include_revoked=True)
            if d.verdict == "same" and d.revoked_at is not None
        ]
        if not distinct and not undone:
            return []
        named = [n for d in (*distinct, *undone) for n in (d.first, d.second)]
        sightings = repo.sightings(names=named)
        if not sightings:
            return []
        targets = {p.key: p for p in repo.papers(keys=[s.same_as for s in sightings])}
        stored = {p.key for p in repo.papers(keys=[s.name for s in sightings])}
    newest = {s.name: s for s in sightings}  # oldest first: the last one wins
    latest: dict[str, Sighting] = {}
    for s in sightings:
        target = targets.get(s.same_as)
        other = names_of(target.key, target.arxiv_id, target.title_key) if target else {s.same_as}
        mine = names_of(s.name, s.arxiv_id, s.title_key)
        if s.name in stored:
            continue
        called_distinct = any(d.about(mine, other) for d in distinct)
        undone_same = newest[s.name] is s and any(
            d.about(mine, other) and s.reason.startswith(decision_reason(d.id)) for d in undone
        )
        if called_distinct or undone_same:
            latest[s.name] = s
    return [
        RawEntry(
            title=s.title,
            abstract=s.abstract,
            source=CORRECTIONS_DIGEST,
            digest_date=s.digest_date,
            url=s.url,
            arxiv_id=s.arxiv_id,
        )
        for s in sorted(latest.values(), key=lambda s: s.id)
    ]


def stored_records(store: Database, query: str, limit: int = 10) -> list[StoredRecord]:
    """Seen papers whose title contains ``query``, each with the entries later
    taken for it and the decisions naming it (for ``explain``)."""
    with store.read() as tx:
        repo = tx.corrections
        found = repo.search_papers(query, limit)
        records = []
        for paper in found:
            names = names_of(paper.key, paper.arxiv_id, paper.title_key)
            records.append(
                StoredRecord(
                    paper=paper,
                    sightings=tuple(repo.sightings(same_as=[paper.key])),
                    decisions=tuple(repo.decisions_about(sorted(names))),
                )
            )
        return records


def sightings_matching(store: Database, query: str, limit: int = 10) -> list[Sighting]:
    """Entries taken for a seen paper whose own title contains ``query``."""
    with store.read() as tx:
        return tx.corrections.search_sightings(query, limit)


def papers_by_key(store: Database, keys: Sequence[str]) -> dict[str, StoredPaper]:
    with store.read() as tx:
        return {p.key: p for p in tx.corrections.papers(keys=keys)}


def decisions_about(store: Database, names: Sequence[str]) -> list[Decision]:
    with store.read() as tx:
        return tx.corrections.decisions_about(names)


def _named(repo: Corrections, paper: StoredPaper) -> Named:
    return Named(paper.key, paper.title, paper, tuple(repo.sightings(names=[paper.key])))


def _open(database_url: str) -> Database:
    return Database.open(database_url)

"""The pipeline the CLI and the scheduler call: collect → novelty → papers → edition.

``preview`` runs every stage against the current state and writes files only
into its output folder; ``run`` does the same and then records the edition and
its papers in one transaction before publishing.  Both return a RunReport.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from newsletter import corrections, faults, topics
from newsletter import note as editor_note
from newsletter.config import Settings
from newsletter.delivery import sending as delivery
from newsletter.delivery.mailer import Mailer
from newsletter.delivery.mailer import from_settings as mailer_from_settings
from newsletter.edition import build_edition
from newsletter.errors import NewsletterError
from newsletter.identity import Decision, names_of, paper_key
from newsletter.listings import new_papers
from newsletter.model import (
    DeliveryReport,
    Digest,
    DigestReport,
    Edition,
    RunReport,
)
from newsletter.novelty import Verdict, split
from newsletter.publish import publish_preview, publish_run
from newsletter.sources.collect import Collected, collect_sources, read_text
from newsletter.store import runs as runlog
from newsletter.store.corrections import Sighting
from newsletter.store.database import Alias, EditionExists, NewPaper, Store

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Plan:
    """What a run would publish, before anything is written."""

    edition: Edition
    verdicts: tuple[Verdict, ...]
    digests: tuple[DigestReport, ...]


def collect(
    settings: Settings,
    inputs: Sequence[str],
    edition_date: date,
    progress: Progress | None = None,
    *,
    store: Store | None = None,
    client: httpx.Client | None = None,
) -> Collected:
    """Read every input; a bad one becomes a report with an error, the rest go on.

    Without ``inputs`` the ``[[sources]]`` of the config are read (paths
    relative to the config file; text files ingested before, as known to
    ``store``, are skipped).  Given inputs are relative to the current folder
    and always read.
    """
    if not inputs:
        return collect_sources(settings, store, edition_date, client=client, progress=progress)
    return read_text(inputs, Path.cwd(), edition_date, progress=progress)


def plan(
    settings: Settings,
    store: Store | None,
    collected: Collected,
    edition_date: date,
) -> Plan:
    """Decide what is new and group it into an edition; writes nothing.

    Entries an earlier run took for a seen paper that the operator has since
    called a different paper come first, as the digest "operator corrections".
    """
    digests = collected.digests
    reinstated = corrections.reinstated_entries(store) if store is not None else []
    if reinstated:
        digests = (Digest(corrections.CORRECTIONS_DIGEST, tuple(reinstated)), *digests)
    entries = [entry for digest in digests for entry in digest.entries]
    verdicts = split(entries, store, settings.novelty)
    origin = {name: (source, kind) for name, source, kind in collected.kinds}
    reports: list[DigestReport] = []
    position = 0
    for digest in digests:
        mine = verdicts[position : position + len(digest.entries)]
        position += len(digest.entries)
        new = sum(1 for v in mine if v.new)
        source, kind = origin.get(digest.name, ("", ""))
        replaced = sum(1 for v in mine if v.entry.announce in ("replace", "replace-cross"))
        reports.append(
            DigestReport(
                digest.name,
                entries=len(mine),
                new=new,
                seen=len(mine) - new,
                source=source,
                kind=kind,
                note=f"{replaced} replacements" if replaced else None,
            )
        )
    edition = replace(
        build_edition(new_papers(verdicts, settings.taxonomy), settings.taxonomy, edition_date),
        note=editor_note.pending(settings.newsletter.editor_note, store),
    )
    return Plan(
        edition=edition,
        verdicts=tuple(verdicts),
        digests=tuple(reports + list(collected.reports)),
    )


def _history(store: Store, edition: Edition) -> list[Edition]:
    """Every edition before ``edition``, newest first: the archive index lists them
    all, and each topic feed keeps its own newest ``feeds.max_items`` papers."""
    return store.recent_editions(sys.maxsize, before=(edition.date, edition.number))


def assess(collected: Collected, result: Plan) -> tuple[str, str | None, tuple[str, ...]]:
    """The status of a run that found ``result``, why it publishes nothing, and warnings.

    Nothing new is never silent: every source failing, every source returning
    what it returned last time and every entry seen before each have their
    status and a reason, and each make the run fail (exit status 1).
    """
    warnings = list(collected.warnings)
    for report in result.digests:
        if report.kind in ("feed", "hf") and report.entries and not report.new:
            warnings.append(
                f"source {report.source}: all {report.entries} entries were seen before "
                "(is it serving an old batch?)"
            )
    if result.edition.paper_count:
        return "published", None, tuple(warnings)
    if collected.digests:
        return "empty", "no new papers: every entry was seen before", tuple(warnings)
    unchanged = [r for r in result.digests if r.unchanged]
    errors = [r for r in result.digests if r.error]
    if unchanged:  # sources answered, with nothing new: stale, even if another one failed
        names = ", ".join(r.name for r in unchanged)
        if not errors:
            reason = f"nothing new: every source returned what it returned last time ({names})"
        else:
            failed = ", ".join(r.name for r in errors)
            reason = (
                f"nothing new: the sources that answered returned what they returned "
                f"last time ({names}); {len(errors)} could not be read ({failed})"
            )
        return "stale", reason, tuple(warnings)
    if not result.digests:
        return "failed", "no sources configured and no digest given", tuple(warnings)
    return "failed", "no source could be read", tuple(warnings)  # each error says which


def preview(
    settings: Settings,
    inputs: Sequence[str],
    edition_date: date,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    client: httpx.Client | None = None,
    force: bool = False,
) -> RunReport:
    """Exactly what the next run would publish, written to ``out_dir``; the state is untouched.

    When the date has an edition already, the next ``run`` (without ``--force``)
    publishes that edition again, so that is what the preview shows.
    """
    store = Store.open(settings.database.url, create=False)
    if store is not None and not force and store.editions_on(edition_date):
        try:
            stored = store.latest_edition_on(edition_date)
            assert stored is not None
            history = _history(store, stored)
        finally:
            store.close()
        outputs = publish_preview(stored, history, settings, out_dir)
        return RunReport(
            edition=stored,
            digests=(),
            outputs=tuple(str(p) for p in outputs),
            status="exists",
            skipped_reason=f"an edition for {edition_date.isoformat()} exists already "
            f"({stored.paper_count} papers); the next run publishes it again "
            "(preview --force shows another edition that day)",
        )
    try:
        collected = collect(settings, inputs, edition_date, progress, store=store, client=client)
        result = plan(settings, store, collected, edition_date)
        number = (store.editions_on(edition_date) + 1) if store else 1
        edition = replace(result.edition, number=number)
        history = store.recent_editions(settings.feeds.max_items) if store else []
    finally:
        if store:
            store.close()
    status, reason, warnings = assess(collected, result)
    outputs = publish_preview(edition, history, settings, out_dir)
    return RunReport(
        edition=edition,
        digests=result.digests,
        outputs=tuple(str(p) for p in outputs),
        status=status,
        skipped_reason=reason,
        warnings=warnings,
    )


def run(
    settings: Settings,
    inputs: Sequence[str],
    edition_date: date,
    *,
    force: bool = False,
    progress: Progress | None = None,
    client: httpx.Client | None = None,
    trigger: str = "cli",
    clock: Callable[[], datetime] = _utcnow,
    mailer: Mailer | None = None,
    sleep: Callable[[float], None] | None = None,
    send: bool = True,
) -> RunReport:
    """Publish the next edition: record it, mark its papers seen and write its send
    ledger in one transaction; then send it to the subscribers.

    If the date has an edition already (and not ``force``), nothing is recorded;
    the stored edition is published again and its unsent ledger rows are sent,
    so a run killed before, during or after sending is finished by running it
    again.  ``mailer`` defaults to ``delivery.method``.  ``send=False`` (``run
    --no-send``) primes the state: the edition is recorded and published with
    no send ledger, so nobody is ever sent it.

    Every run leaves a run report in the database (``newsletter status``),
    whatever happens: one that breaks off with an error is recorded as
    ``failed`` with the error, then the error goes on to the caller.
    """
    started = clock()
    store = Store.open(settings.database.url, create=True)
    assert store is not None
    try:
        try:
            report = _run(settings, store, inputs, edition_date, force, progress, client, send)
            if send and report.status in ("published", "exists"):
                report = replace(
                    report,
                    delivery=_deliver(settings, store, report.edition, mailer, clock, sleep),
                )
        except Exception as exc:
            _record_broken_run(store, exc, edition_date, started, clock(), trigger)
            raise
        runlog.record_report(store, report, started=started, finished=clock(), trigger=trigger)
    finally:
        store.close()
    return report


def _record_broken_run(
    store: Store,
    exc: Exception,
    edition_date: date,
    started: datetime,
    finished: datetime,
    trigger: str,
) -> None:
    """The report of a run that broke off, so ``status`` and ``/healthz`` can tell."""
    reason = exc.message if isinstance(exc, NewsletterError) else f"{type(exc).__name__}: {exc}"
    report = RunReport(
        edition=Edition(date=edition_date, sections=()),
        digests=(),
        status="failed",
        skipped_reason=" ".join(f"the run broke off: {reason}".split()),
    )
    try:
        runlog.record_report(store, report, started=started, finished=finished, trigger=trigger)
    except Exception:  # the store itself may be what broke: the error goes on regardless
        log.warning("could not record the report of the broken run", exc_info=True)


def _deliver(
    settings: Settings,
    store: Store,
    edition: Edition,
    mailer: Mailer | None,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None] | None,
) -> DeliveryReport:
    chosen = mailer or mailer_from_settings(settings)
    kwargs = {"sleep": sleep} if sleep is not None else {}
    report = delivery.deliver(settings, store, edition, chosen, clock=clock, **kwargs)
    if report.recipients:
        log.info(
            "delivery: %d sent, %d skipped, %d failed, %d deferred",
            report.sent,
            report.skipped,
            report.failed,
            report.deferred,
        )
    return report


def resume_delivery(
    settings: Settings, *, mailer: Mailer | None = None, clock: Callable[[], datetime] = _utcnow
) -> list[DeliveryReport]:
    """Send what interrupted runs left unsent, for every edition with unsent ledger rows."""
    store = Store.open(settings.database.url, create=True)
    assert store is not None
    try:
        return [
            _deliver(settings, store, edition, mailer, clock, None)
            for edition in delivery.unfinished_editions(store)
        ]
    finally:
        store.close()


def _run(
    settings: Settings,
    store: Store,
    inputs: Sequence[str],
    edition_date: date,
    force: bool,
    progress: Progress | None,
    client: httpx.Client | None,
    send: bool = True,
) -> RunReport:
    if not force and store.editions_on(edition_date):
        return _republish(settings, store, edition_date)
    collected = collect(settings, inputs, edition_date, progress, store=store, client=client)
    faults.hit("after-ingest")  # inert unless NEWSLETTER_FAULT names it (docs/hardening.md)
    result = plan(settings, store, collected, edition_date)
    status, reason, warnings = assess(collected, result)
    for warning in warnings:
        log.info("%s", warning)  # in the report: the caller shows it
    if result.edition.paper_count == 0:
        if not force and store.editions_on(edition_date):  # a concurrent run made it meanwhile
            return _republish(settings, store, edition_date)
        # nothing new in it: nothing to lose
        store.record_ingested(collected.ingested, _sightings(result.verdicts))
        log.info("no edition for %s: %s", edition_date.isoformat(), reason)  # in the report
        return RunReport(
            edition=result.edition,
            digests=result.digests,
            skipped_reason=reason,
            status=status,
            warnings=warnings,
        )
    papers = {paper.key: paper for paper in result.edition.papers}
    new = [
        NewPaper(papers[v.key], v.title_key, v.signature, v.terms, v.rare_pairs)
        for v in result.verdicts
        if v.new
    ]
    aliases = [
        Alias(v.same_as, v.entry.arxiv_id)
        for v in result.verdicts
        if not v.new and v.same_as and v.entry.arxiv_id
    ]
    ingested = collected.ingested
    if result.edition.note:  # the note goes into this edition and no later one
        record = editor_note.record(result.edition.note, settings.newsletter.editor_note)
        ingested = replace(ingested, files=(*ingested.files, record))
    try:
        edition = store.record_edition(
            result.edition,
            new,
            aliases,
            force=force,
            ingested=ingested,
            ledger_domain=settings.delivery.sender_domain if send else None,  # --no-send: none
            sightings=_sightings(result.verdicts),
        )
    except EditionExists:
        return _republish(settings, store, edition_date)
    faults.hit("after-commit")
    history = _history(store, edition)
    try:
        outputs = publish_run(edition, history, settings)
    except NewsletterError as exc:  # recorded, not published: a failed run, said so
        return RunReport(
            edition=edition,
            digests=result.digests,
            recorded=True,
            status="failed",
            skipped_reason=_unpublished(edition, exc),
            warnings=warnings,
        )
    log.info("recorded edition %s with %d papers", edition.date, edition.paper_count)
    return RunReport(
        edition=edition,
        digests=result.digests,
        recorded=True,
        outputs=tuple(str(p) for p in outputs),
        status="published",
        warnings=warnings,
    )


def _sightings(verdicts: Sequence[Verdict]) -> list[Sighting]:
    """The entries taken for another paper, kept so an operator's "distinct" can
    bring them back (and ``explain`` can show them)."""
    return [
        Sighting(
            name=paper_key(v.title_key, v.entry.arxiv_id),
            title_key=v.title_key,
            same_as=v.same_as,
            reason=v.reason,
            title=v.entry.title,
            abstract=v.entry.abstract,
            url=v.entry.url,
            source=v.entry.source,
            digest_date=v.entry.digest_date,
            arxiv_id=v.entry.arxiv_id,
        )
        for v in verdicts
        if not v.new and v.same_as
    ]


def _republish(settings: Settings, store: Store, edition_date: date) -> RunReport:
    edition = store.latest_edition_on(edition_date)
    if edition is None:  # pragma: no cover - raced with a deletion
        raise NewsletterError(f"the edition for {edition_date} vanished from the database")
    history = _history(store, edition)
    try:
        outputs = publish_run(edition, history, settings)
    except NewsletterError as exc:
        return RunReport(
            edition=edition, digests=(), status="failed", skipped_reason=_unpublished(edition, exc)
        )
    return RunReport(
        edition=edition,
        digests=(),
        skipped_reason=f"an edition for {edition_date.isoformat()} exists already "
        f"({edition.paper_count} papers); published its files again, recorded nothing "
        "(use --force for another edition that day)",
        outputs=tuple(str(p) for p in outputs),
        status="exists",
    )


def _unpublished(edition: Edition, exc: NewsletterError) -> str:
    """Why a recorded edition has no files (yet), and what to do."""
    day = edition.date.isoformat()
    return (
        f"the edition for {day} ({edition.paper_count} papers) is recorded, but its files "
        f"could not be published: {exc.message}; fix that and run again "
        f"('newsletter run --date {day}'): it publishes the files and sends the edition"
    )


@dataclass(frozen=True)
class Explanation:
    """One entry's verdict for ``explain``, with the paper it was compared with."""

    verdict: Verdict
    classification: topics.Classification
    compared_title: str | None  # the title of verdict.compared_with
    compared_edition: date | None  # the edition that paper was first sent in (seen before)
    decisions: tuple[Decision, ...]  # the operator's decisions about this entry


@dataclass(frozen=True)
class ExplainReport:
    entries: tuple[Explanation, ...]
    stored: tuple[corrections.StoredRecord, ...]  # seen papers whose title matches
    sightings: tuple[Sighting, ...]  # entries taken for a seen paper whose title matches

    @property
    def empty(self) -> bool:
        return not (self.entries or self.stored or self.sightings)


def explain(
    settings: Settings, query: str, inputs: Sequence[str], edition_date: date
) -> ExplainReport:
    """Why the entries whose title contains ``query`` are new or seen (against
    which paper, in which edition, on what evidence), their topics; and what the
    store holds under that title: seen papers, the entries later taken for
    them, the operator's decisions."""
    store = Store.open(settings.database.url, create=False)
    try:
        collected = collect(settings, inputs, edition_date)
        found = plan(settings, store, collected, edition_date).verdicts
        needle = query.casefold()
        first_listing = {v.key: v.entry.title for v in found if v.new}
        compared = sorted({v.compared_with for v in found if v.compared_with})
        known = corrections.papers_by_key(store, compared) if store else {}
        explained = []
        for v in found:
            if needle not in v.entry.title.casefold():
                continue
            other = known.get(v.compared_with or "")
            names = names_of(v.key, v.entry.arxiv_id, v.title_key)
            explained.append(
                Explanation(
                    verdict=v,
                    classification=topics.classify(
                        v.entry.title, v.entry.abstract, v.entry.categories, settings.taxonomy
                    ),
                    compared_title=other.title
                    if other
                    else first_listing.get(v.compared_with or ""),
                    compared_edition=other.edition_date if other else None,
                    decisions=tuple(corrections.decisions_about(store, sorted(names)))
                    if store
                    else (),
                )
            )
        stored = corrections.stored_records(store, query) if store else []
        sightings = corrections.sightings_matching(store, query) if store else []
    finally:
        if store:
            store.close()
    return ExplainReport(tuple(explained), tuple(stored), tuple(sightings))


def send_test(
    settings: Settings,
    address: str,
    edition_date: date | None = None,
    *,
    topics: frozenset[str] | None = None,
    mailer: Mailer | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> tuple[Edition, str]:
    """Send a recorded edition (of ``edition_date``, else the newest) to one address as a
    test, through ``delivery.method``; the ledger and the subscribers are not touched
    (see :func:`newsletter.delivery.sending.send_test`).  Returns the edition and the reply.
    """
    from newsletter.subscribers.subscriptions import normalize_address

    to = normalize_address(address)
    store = Store.open(settings.database.url, create=False)
    try:
        if store is None:
            edition = None
        elif edition_date is not None:
            edition = store.latest_edition_on(edition_date)
        else:
            newest = store.recent_editions(1)
            edition = newest[0] if newest else None
    finally:
        if store is not None:
            store.close()
    if edition is None:
        which = f"for {edition_date.isoformat()}" if edition_date else "yet"
        raise NewsletterError(
            f"no edition recorded {which}",
            hint="make one with 'newsletter run' ('run --no-send' records it without sending)",
        )
    chosen = mailer or mailer_from_settings(settings)
    reply = delivery.send_test(settings, edition, to, chosen, topics=topics, clock=clock)
    log.info("test of the edition %s sent to %s: %s", edition.date, to, reply)
    return edition, reply


def migrate(settings: Settings) -> list[int]:
    """Create or upgrade the schema; returns the versions applied."""
    store = Store.connect(settings.database.url)
    try:
        return store.migrate()
    finally:
        store.close()

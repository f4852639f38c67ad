"""The pipeline the CLI and the scheduler call: collect → novelty → papers → edition.

``preview`` runs every stage against the current state and writes files only
into its output folder; ``run`` does the same and then records the edition and
its papers in one transaction before publishing.  Both return a RunReport.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from newsletter import corrections, faults, topics
from newsletter import note as editor_note
from newsletter.config import Settings
from newsletter.delivery import ledger
from newsletter.delivery import sending as delivery
from newsletter.delivery.mailer import Mailer, MailerFactory
from newsletter.delivery.mailer import from_settings as mailer_from_settings
from newsletter.edition import build_edition
from newsletter.errors import NewsletterError
from newsletter.history import PAGE_SIZE, History
from newsletter.identity import Decision, names_of, normalize_text, paper_key
from newsletter.listings import bounded, new_papers
from newsletter.model import (
    DeliveryReport,
    Digest,
    DigestReport,
    Edition,
    RunReport,
)
from newsletter.novelty import SeenBefore, Verdict, split
from newsletter.publish import publish_preview, publish_run
from newsletter.render.context import with_texts
from newsletter.scheduler import DailyJob
from newsletter.sources.collect import Collected, collect_sources, read_text
from newsletter.states import RunStatus
from newsletter.store import Database, EditionExists, StoredEdition, Transaction
from newsletter.store.corrections import Sighting, StoredPaper
from newsletter.store.papers import Alias, NewPaper
from newsletter.wording import counted

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
    warnings: tuple[str, ...] = ()
    """What bounding the listings cut (:func:`newsletter.listings.bounded`)."""


def collect(
    settings: Settings,
    inputs: Sequence[str],
    edition_date: date,
    progress: Progress | None = None,
    *,
    db: Database | None = None,
    client: httpx.Client | None = None,
) -> Collected:
    """Read every input; a bad one becomes a report with an error, the rest go on.

    Without ``inputs`` the ``[[sources]]`` of the config are read (paths
    relative to the config file; text files ingested before, as known to
    ``db``, are skipped).  Given inputs are relative to the current folder
    and always read.
    """
    if not inputs:
        return collect_sources(settings, db, edition_date, client=client, progress=progress)
    return read_text(inputs, Path.cwd(), edition_date, progress=progress)


def plan(
    settings: Settings,
    db: Database,
    collected: Collected,
    edition_date: date,
) -> Plan:
    """Decide what is new (against the papers seen in ``db``) and group it into an
    edition; writes nothing.

    Entries an earlier run took for a seen paper that the operator has since
    called a different paper come first, as the digest "operator corrections".
    """
    digests = collected.digests
    reinstated = corrections.reinstated_entries(db)
    if reinstated:
        digests = (Digest(corrections.CORRECTIONS_DIGEST, tuple(reinstated)), *digests)
    warnings: list[str] = []  # every listing bounded before novelty reads it
    entries = [bounded(entry, warnings) for digest in digests for entry in digest.entries]
    with db.read() as tx:
        verdicts = split(entries, tx.seen, settings.novelty)
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
                note=counted(replaced, "replacement") if replaced else None,
            )
        )
    # Each paper's cleaned text and contribution sentence made here, once, at ingest: the
    # edition's renderings (every topic set's email, the site, the feeds) and the store
    # (which keeps them with the edition for a later `send`) read them instead.
    edition = replace(
        with_texts(
            build_edition(
                new_papers(verdicts, settings.taxonomy, warnings), settings.taxonomy, edition_date
            )
        ),
        note=editor_note.pending(settings.newsletter.editor_note, db),
    )
    return Plan(
        edition=edition,
        verdicts=tuple(verdicts),
        digests=tuple(reports + list(collected.reports)),
        warnings=tuple(warnings),
    )


def _history(tx: Transaction, edition: Edition, settings: Settings) -> History:
    """What publishing ``edition`` reads of the editions before it: the archive's
    totals from the summary tables and only the editions whose papers it shows
    again (feeds, topic pages, week, month, neighbours), so a run's cost does
    not grow with the archive (``newsletter/history.py``)."""
    return tx.editions.history(edition, feed_items=settings.feeds.max_items, page_size=PAGE_SIZE)


def assess(collected: Collected, result: Plan) -> tuple[RunStatus, str | None, tuple[str, ...]]:
    """The status of a run that found ``result``, why it publishes nothing, and warnings.

    Nothing new is never silent: every source failing, every source returning
    what it returned last time and every entry seen before each have their
    status and a reason, and each make the run fail (exit status 1).  An empty
    drop folder (no file in it) did not answer and did not fail: beside a feed
    that answered it changes nothing, beside feeds that failed the day is
    ``failed``, alone it is ``stale`` (nothing came).
    """
    warnings = [*collected.warnings, *result.warnings]
    for report in result.digests:
        if report.kind in ("feed", "hf") and report.entries and not report.new:
            entries = counted(report.entries, "entry", "entries")
            every = "its one entry was" if report.entries == 1 else f"all {entries} were"
            warnings.append(
                f"source {report.source}: {every} seen before (is it serving an old batch?)"
            )
    if result.edition.paper_count:
        return RunStatus.PUBLISHED, None, tuple(warnings)
    if collected.digests:
        return RunStatus.EMPTY, "no new papers: every entry was seen before", tuple(warnings)
    unchanged = [r.name for r in result.digests if r.unchanged]
    errors = [r.name for r in result.digests if r.error]
    empty = [r.name for r in result.digests if r.empty]  # answered nothing, failed nothing
    if unchanged and not errors and not empty:
        names = ", ".join(unchanged)
        reason = f"nothing new: every source returned what it returned last time ({names})"
        return RunStatus.STALE, reason, tuple(warnings)
    if unchanged:  # sources answered, with nothing new: stale, even if another one failed
        parts = [f"unchanged since last time: {', '.join(unchanged)}"]
        if empty:
            parts.append(f"no file in {', '.join(empty)}")
        if errors:
            parts.append(
                f"{counted(len(errors), 'source')} could not be read ({', '.join(errors)})"
            )
        return RunStatus.STALE, "nothing new: " + "; ".join(parts), tuple(warnings)
    if errors:  # an empty drop folder did not answer: nothing could be read
        also = f"; no file in {', '.join(empty)}" if empty else ""
        return RunStatus.FAILED, f"no source could be read{also}", tuple(warnings)
    if empty:  # only empty drop folders: nothing came, nothing failed
        return RunStatus.STALE, f"nothing new: no file in {', '.join(empty)}", tuple(warnings)
    if not result.digests:
        return RunStatus.FAILED, "no sources configured and no digest given", tuple(warnings)
    return RunStatus.FAILED, "no source could be read", tuple(warnings)


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
    with Database.open_read_only(settings.database.url) as db:
        with db.read() as tx:
            stored = None if force else tx.editions.latest_on(edition_date)
            history = list(_history(tx, stored.edition, settings).editions) if stored else []
        if stored is not None:
            given = _given(settings, db, inputs, edition_date, progress)
            outputs = publish_preview(stored.edition, history, settings, out_dir)
            return RunReport(
                edition=stored.edition,
                digests=given,
                outputs=tuple(str(p) for p in outputs),
                status=RunStatus.EXISTS,
                skipped_reason=_exists_reason(stored.edition, given, preview=True),
                unrecorded=_unrecorded(given),
            )
        collected = collect(settings, inputs, edition_date, progress, db=db, client=client)
        result = plan(settings, db, collected, edition_date)
        with db.read() as tx:
            edition = replace(result.edition, number=tx.editions.count_on(edition_date) + 1)
            history = tx.editions.recent(settings.feeds.max_items)
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
    mailer: Mailer | MailerFactory | None = None,
    sleep: Callable[[float], None] | None = None,
    send: bool = True,
    delivery_progress: Callable[[delivery.Progress], None] | None = None,
) -> RunReport:
    """Publish the next edition: record it, mark its papers seen and write its send
    ledger in one transaction; then send it to the subscribers.

    If the date has an edition already (and not ``force``), nothing is recorded;
    the stored edition is published again and its unsent ledger rows are sent,
    so a run killed before, during or after sending is finished by running it
    again.  Whatever the run found, it also resumes the unsent mail of every
    earlier edition within ``delivery.max_age_days`` (deferred recipients, a
    killed send), oldest first.  ``mailer`` defaults to ``delivery.method``.
    ``send=False`` (``run --no-send``) primes the state: the edition is recorded
    and published with no send ledger, so nobody is ever sent it, and nothing
    else is sent either.

    Every run leaves a run report in the database (``newsletter status``),
    whatever happens: one that breaks off with an error is recorded as
    ``failed`` with the error, then the error goes on to the caller.
    """
    started = clock()
    with Database.open(settings.database.url) as db:
        try:
            report, stored = _run(
                settings, db, inputs, edition_date, force, progress, client, clock, send
            )
            if send:
                delivered, resumed = _deliver(
                    settings, db, stored, mailer, clock, sleep, delivery_progress
                )
                report = replace(report, resumed=resumed)
                if stored is not None:
                    report = replace(report, delivery=delivered)
        except Exception as exc:
            _record_broken_run(db, exc, edition_date, started, clock(), trigger)
            raise
        with db.write() as tx:
            tx.runs.record(report, started=started, finished=clock(), trigger=trigger)
    return report


def _record_broken_run(
    db: Database,
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
        status=RunStatus.FAILED,
        skipped_reason=" ".join(f"the run broke off: {reason}".split()),
    )
    try:
        with db.write() as tx:
            tx.runs.record(report, started=started, finished=finished, trigger=trigger)
    except Exception:  # the database itself may be what broke: the error goes on regardless
        log.warning("could not record the report of the broken run", exc_info=True)


def _deliver(
    settings: Settings,
    db: Database,
    stored: StoredEdition | None,
    mailer: Mailer | MailerFactory | None,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None] | None,
    progress: Callable[[delivery.Progress], None] | None = None,
) -> tuple[DeliveryReport, tuple[DeliveryReport, ...]]:
    """Resume every unfinished edition (oldest first): the report on ``stored``'s, and
    those on the earlier editions this run resumed (what it sent of each)."""
    passes = delivery.resume(
        settings, db, mailer, clock=clock, sleep=sleep or time.sleep, progress=progress
    )
    resumed = tuple(r for other, r in passes if stored is None or other.id != stored.id)
    for result in resumed:
        log.info(
            "delivery of the edition of %s resumed: %d sent now%s",
            result.label,
            result.sent_now,
            f"; stopped: {result.stopped}" if result.stopped else "",
        )
    if stored is None:
        return DeliveryReport(), resumed
    report = next((r for other, r in passes if other.id == stored.id), None)
    if report is None:  # nothing due for it (or an earlier edition's pass stopped)
        stopped = next((r.stopped for _, r in passes if r.stopped), None)
        report = delivery.Delivery(settings, db, mailer).summary(stored, stopped=stopped)
    if report.recipients:
        log.info(
            "delivery: %d sent, %d skipped, %d failed, %d deferred, %d pending",
            report.sent,
            report.skipped,
            report.failed,
            report.deferred,
            report.pending,
        )
    return report, resumed


def send(
    settings: Settings,
    *,
    watch: float | None = None,
    stop: threading.Event | None = None,
    mailer: Mailer | MailerFactory | None = None,
    progress: Callable[[delivery.Progress], None] | None = None,
    clock: Callable[[], datetime] = _utcnow,
    retry_unconfirmed: bool = False,
) -> list[tuple[StoredEdition, DeliveryReport]]:
    """``newsletter send``: one pass over every unfinished edition within
    ``delivery.max_age_days`` (what every run does after its own edition); with
    ``watch``, another pass every ``watch`` seconds until ``stop`` is set.

    ``retry_unconfirmed`` (``send --retry-unconfirmed``) first puts the
    ``unconfirmed`` rows of those editions back for one more copy each — the
    operator's call, after checking the relay's log: it may be their third.

    Several senders may run at once, in several processes on several machines:
    they share the work through the ledger's leases (on PostgreSQL, claims skip
    each other's locked rows).  On SQLite they take turns at the one write lock,
    so a second sender adds safety, not speed."""
    stop = stop or threading.Event()
    done: list[tuple[StoredEdition, DeliveryReport]] = []
    with Database.open(settings.database.url) as db:
        if retry_unconfirmed:
            since = clock() - timedelta(days=settings.delivery.max_age_days)
            with db.write() as tx:
                again = tx.ledger.retry_unconfirmed(since, ledger.MAX_UNCERTAIN - 1)
            log.warning("%d unconfirmed message(s) go out once more", again)
        while True:
            done += delivery.resume(settings, db, mailer, clock=clock, progress=progress)
            if watch is None or stop.wait(watch):
                return done


def resume_delivery(
    settings: Settings, *, mailer: Mailer | None = None, clock: Callable[[], datetime] = _utcnow
) -> list[DeliveryReport]:
    """Send what is due of every unfinished edition within ``delivery.max_age_days``:
    interrupted sends, deferred recipients, rows another sender left behind."""
    with Database.open(settings.database.url) as db:
        return [report for _, report in delivery.resume(settings, db, mailer, clock=clock)]


def _run(
    settings: Settings,
    db: Database,
    inputs: Sequence[str],
    edition_date: date,
    force: bool,
    progress: Progress | None,
    client: httpx.Client | None,
    clock: Callable[[], datetime] = _utcnow,
    send: bool = True,
) -> tuple[RunReport, StoredEdition | None]:
    """The run up to delivery: the report, and the edition to deliver (None: nothing)."""
    if not force and _edition_exists(db, edition_date):
        return _republish(
            settings, db, edition_date, _given(settings, db, inputs, edition_date, progress)
        )
    collected = collect(settings, inputs, edition_date, progress, db=db, client=client)
    faults.hit("after-ingest")  # inert unless NEWSLETTER_FAULT names it (docs/hardening.md)
    result = plan(settings, db, collected, edition_date)
    status, reason, warnings = assess(collected, result)
    for warning in warnings:
        log.info("%s", warning)  # in the report: the caller shows it
    if result.edition.paper_count == 0:
        if not force and _edition_exists(db, edition_date):  # a concurrent run made it meanwhile
            return _republish(
                settings, db, edition_date, _given(settings, db, inputs, edition_date, None)
            )
        ingested, sightings = collected.ingested, _sightings(result.verdicts)
        if ingested.sources or ingested.files or sightings:  # nothing new: nothing to lose
            with db.write() as tx:
                now = _utcnow()
                tx.sources.record(ingested, now)
                tx.corrections.record_sightings(sightings, None, now)
        log.info("no edition for %s: %s", edition_date.isoformat(), reason)  # in the report
        report = RunReport(
            edition=result.edition,
            digests=result.digests,
            skipped_reason=reason,
            status=status,
            warnings=warnings,
        )
        return report, None
    try:
        stored = record(settings, db, result, collected, force=force, send=send, now=clock())
    except EditionExists:
        return _republish(
            settings, db, edition_date, _given(settings, db, inputs, edition_date, None)
        )
    faults.hit("after-commit")
    with db.read() as tx:
        history = _history(tx, stored.edition, settings)
    try:
        outputs = publish_run(stored.edition, history, settings)
    except NewsletterError as exc:  # recorded, not published: a failed run, said so
        failed = RunReport(
            edition=stored.edition,
            digests=result.digests,
            recorded=True,
            status=RunStatus.FAILED,
            skipped_reason=_unpublished(stored.edition, exc),
            warnings=warnings,
        )
        return failed, None
    log.info("recorded edition %s with %d papers", stored.edition.date, stored.edition.paper_count)
    report = RunReport(
        edition=stored.edition,
        digests=result.digests,
        recorded=True,
        outputs=tuple(str(p) for p in outputs),
        status=RunStatus.PUBLISHED,
        warnings=warnings,
    )
    return report, stored


def record(
    settings: Settings,
    db: Database,
    result: Plan,
    collected: Collected,
    *,
    force: bool = False,
    send: bool = True,
    now: datetime | None = None,
) -> StoredEdition:
    """The one transaction of a run: the edition, the papers it marks seen (their
    bands, term counts and rare pairs; arXiv ids learnt for papers seen before),
    what the sources returned, the entries taken for seen papers (sightings), and
    the send ledger — a row per confirmed subscriber (none with ``send=False``:
    ``run --no-send``, an edition nobody is sent).  All of it commits, or none.

    Raises EditionExists when the date has an edition and ``force`` is off.
    """
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
        note = editor_note.record(result.edition.note, settings.newsletter.editor_note)
        ingested = replace(ingested, files=(*ingested.files, note))
    now = now or _utcnow()
    with db.write() as tx:
        stored = tx.editions.record(result.edition, now, force=force)
        tx.papers.mark_seen(new, stored.id, now)
        tx.papers.learn_aliases(aliases)
        tx.sources.record(ingested, now)
        tx.corrections.record_sightings(_sightings(result.verdicts), stored.id, now)
        if send:
            ledger.create_rows(tx, stored.edition, stored.id, settings.delivery.sender_domain, now)
        faults.hit("before-commit")  # inert unless NEWSLETTER_FAULT names it
    return stored


def _edition_exists(db: Database, day: date) -> bool:
    with db.read() as tx:
        return bool(tx.editions.count_on(day))


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


def _given(
    settings: Settings,
    db: Database,
    inputs: Sequence[str],
    edition_date: date,
    progress: Progress | None,
) -> tuple[DigestReport, ...]:
    """The digests named on the command line, read and checked against the store
    although the date has its edition (so nothing of them will be recorded): a
    missing or malformed file is its usual error, and each says how many of its
    entries are new.  Without ``inputs`` (the configured sources) nothing is read."""
    if not inputs:
        return ()
    collected = read_text(inputs, Path.cwd(), edition_date, progress=progress)
    return plan(settings, db, collected, edition_date).digests


def _unrecorded(given: Sequence[DigestReport]) -> int:
    """New papers in digests given on the command line that a run does not record."""
    return sum(d.new for d in given if d.name != corrections.CORRECTIONS_DIGEST)


def _exists_reason(edition: Edition, given: Sequence[DigestReport], *, preview: bool) -> str:
    """Why nothing is recorded when the date has its edition; says what the digests
    named on the command line held, since none of it goes in."""
    head = (
        f"an edition for {edition.date.isoformat()} exists already "
        f"({counted(edition.paper_count, 'paper')})"
    )
    new = _unrecorded(given)
    force = "preview --force shows" if preview else "run --force makes"
    if new:
        what = f"the {counted(new, 'new paper')} in the digests given"
        if preview:
            return (
                f"{head}: the next run would record none of {what} and publish that "
                f"edition again ({force} a second edition that day with them)"
            )
        return f"{head}: {what} are not recorded ({force} a second edition that day with them)"
    read = given and not any(d.error for d in given)  # else the errors say what happened
    held = "; the digests given hold no new paper" if read else ""
    if preview:
        return f"{head}{held}; the next run publishes it again ({force} another edition that day)"
    return (
        f"{head}{held}; published its files again, recorded nothing "
        "(use --force for another edition that day)"
    )


def _republish(
    settings: Settings,
    db: Database,
    edition_date: date,
    given: tuple[DigestReport, ...] = (),
) -> tuple[RunReport, StoredEdition | None]:
    """Publish the date's edition again (recording nothing): a second run resumes
    the first.  ``given`` are the digests named on the command line, reported."""
    with db.read() as tx:
        stored = tx.editions.latest_on(edition_date)
        if stored is None:  # pragma: no cover - raced with a deletion
            raise NewsletterError(f"the edition for {edition_date} vanished from the database")
        history = _history(tx, stored.edition, settings)
    edition = stored.edition
    try:
        outputs = publish_run(edition, history, settings)
    except NewsletterError as exc:
        failed = RunReport(
            edition=edition,
            digests=given,
            status=RunStatus.FAILED,
            skipped_reason=_unpublished(edition, exc),
            unrecorded=_unrecorded(given),
        )
        return failed, None  # sent once its files are there: the mail links to them
    report = RunReport(
        edition=edition,
        digests=given,
        skipped_reason=_exists_reason(edition, given, preview=False),
        outputs=tuple(str(p) for p in outputs),
        status=RunStatus.EXISTS,
        unrecorded=_unrecorded(given),
    )
    return report, stored


def _unpublished(edition: Edition, exc: NewsletterError) -> str:
    """Why a recorded edition has no files (yet), and what to do."""
    day = edition.date.isoformat()
    return (
        f"the edition for {day} ({counted(edition.paper_count, 'paper')}) is recorded, "
        "but its files "
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
    # This very listing was recorded as new in that edition; ``verdict`` is then
    # why it was new, against the papers seen before it.
    first_published: date | None = None


@dataclass(frozen=True)
class ExplainReport:
    entries: tuple[Explanation, ...]
    stored: tuple[corrections.StoredRecord, ...]  # seen papers whose title matches
    sightings: tuple[Sighting, ...]  # entries taken for a seen paper whose title matches
    # the title and first edition of each paper a sighting was taken for
    taken_for: tuple[tuple[str, str, date | None], ...] = ()

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
    with Database.open_read_only(settings.database.url) as store:
        collected = collect(settings, inputs, edition_date)
        found = list(plan(settings, store, collected, edition_date).verdicts)
        # Folded as titles are (case, accents, full-width and look-alike letters,
        # punctuation), so a query typed with a Cyrillic "о" finds the entry.
        needle = normalize_text(query)
        compared = sorted({v.compared_with for v in found if v.compared_with})
        known = corrections.papers_by_key(store, compared)
        found, published_in = _as_first_published(settings, store, found, known)
        first_listing = {v.key: v.entry.title for v in found if v.new}
        compared = sorted({v.compared_with for v in found if v.compared_with})
        known = corrections.papers_by_key(store, compared)
        explained = []
        for index, v in enumerate(found):
            if needle not in v.title_key:
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
                    decisions=tuple(corrections.decisions_about(store, sorted(names))),
                    first_published=published_in.get(index),
                )
            )
        stored = corrections.stored_records(store, query)
        sightings = corrections.sightings_matching(store, query)
        targets = corrections.papers_by_key(store, sorted({s.same_as for s in sightings}))
    taken_for = tuple((key, p.title, p.edition_date) for key, p in sorted(targets.items()))
    return ExplainReport(tuple(explained), tuple(stored), tuple(sightings), taken_for)


def _as_first_published(
    settings: Settings,
    store: Database,
    verdicts: list[Verdict],
    known: dict[str, StoredPaper],
) -> tuple[list[Verdict], dict[int, date | None]]:
    """Explaining a digest after its own run, each entry is "seen" — as itself.  For
    each listing that is the very paper recorded (its title as listed, not only
    folded: a repeat in capitals or with entities is a repeat), decide again against the papers
    seen before its edition: why it was new then, and in which edition it went out."""
    itself: dict[int, StoredPaper] = {}
    for i, v in enumerate(verdicts):
        paper = known.get(v.same_as or "")
        if (
            not v.new
            and paper is not None
            and v.compared_where == "seen before"
            and paper.title_key == v.title_key
            and paper.title == v.entry.title
            and paper.abstract == v.entry.abstract
        ):
            itself[i] = paper
    if not itself:
        return verdicts, {}
    out = list(verdicts)
    by_edition: dict[date | None, list[int]] = {}
    for i, paper in itself.items():
        by_edition.setdefault(paper.edition_date, []).append(i)
    entries = [v.entry for v in verdicts]
    for indexes in by_edition.values():
        first_id = min(itself[i].id for i in indexes)
        with store.read() as tx:
            again = split(entries, SeenBefore(tx.seen, first_id), settings.novelty)
        for i in indexes:
            if again[i].new:
                out[i] = again[i]
            else:  # recorded, yet a repeat of an older paper by today's rules: say so
                itself.pop(i)
    return out, {i: itself[i].edition_date for i in itself}


def daily_job(
    settings: Settings, *, clock: Callable[[], datetime] = _utcnow, owner: str | None = None
) -> DailyJob:
    """The scheduler's daily job, making editions with :func:`run` and resuming unsent
    mail with :func:`resume_delivery`."""

    def runner(
        settings: Settings,
        inputs: tuple[str, ...],
        edition_date: date,
        *,
        trigger: str,
        clock: Callable[[], datetime],
    ) -> RunReport:
        return run(settings, inputs, edition_date, trigger=trigger, clock=clock)

    return DailyJob(
        settings,
        runner=runner,
        resumer=resume_delivery,
        clock=clock,
        owner=owner,
        intake=read_returns,
    )


def read_returns(settings: Settings) -> object:
    """One round of the bounce intake (``bounces.intake``), logged: what ``serve`` and
    ``schedule`` run every ``bounces.interval_minutes``.

    One INFO line per round with every count (read, applied by kind, seen before, to
    the operator folder, skipped), one WARNING line per message moved to the operator
    folder (someone has to read it), and an INFO line for a round skipped because
    another round (a ``bounces fetch``) holds the mailbox: None then."""
    from newsletter.returns.mailboxes import IntakeBusy
    from newsletter.returns.rounds import fetch

    try:
        with Database.open(settings.database.url) as db:
            report = fetch(settings, db)
    except IntakeBusy as busy:
        log.info("bounce intake %s: round skipped: another round is reading it", busy.source)
        return None
    log.info("%s", report.log_line())
    for line in report.operator_lines():
        log.warning("%s", line)
    return report


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
    with Database.open_read_only(settings.database.url) as db, db.read() as tx:
        if edition_date is not None:
            stored = tx.editions.latest_on(edition_date)
            edition = stored.edition if stored else None
        else:
            newest = tx.editions.recent(1)
            edition = newest[0] if newest else None
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
    return Database.upgrade(settings.database.url)

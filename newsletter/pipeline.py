"""The pipeline the CLI and the scheduler call: collect → novelty → topics → edition.

``preview`` runs every stage against the current state and writes files only
into its output folder; ``run`` does the same and then records the edition and
its papers in one transaction before publishing.  Both return a RunReport.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from newsletter import faults, topics
from newsletter.config import Settings
from newsletter.delivery import sending as delivery
from newsletter.delivery.mailer import Mailer
from newsletter.edition import build_edition
from newsletter.errors import InputError, NewsletterError
from newsletter.model import (
    DeliveryReport,
    Digest,
    DigestReport,
    Edition,
    RawEntry,
    RunReport,
)
from newsletter.novelty import Thresholds, Verdict, split
from newsletter.publish import publish_preview, publish_run
from newsletter.sources.collect import Collected, collect_sources
from newsletter.sources.text import expand_inputs, read_digest
from newsletter.store import runs as runlog
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
    files, problems = expand_inputs(list(inputs), Path.cwd())
    failed = [DigestReport(name=p.split(":", 1)[0], error=p) for p in problems]
    digests: list[Digest] = []
    for path in files:
        if progress:
            progress(path.name)
        try:
            digests.append(read_digest(path, edition_date))
        except InputError as exc:
            log.warning("%s", exc)
            failed.append(DigestReport(name=path.name, error=str(exc)))
    return Collected(
        digests=tuple(digests),
        reports=tuple(failed),
        kinds=tuple((d.name, "", "text") for d in digests),
    )


def plan(
    settings: Settings,
    store: Store | None,
    collected: Collected,
    edition_date: date,
) -> Plan:
    """Decide what is new and group it into an edition; writes nothing."""
    digests = collected.digests
    entries = [entry for digest in digests for entry in digest.entries]
    thresholds = Thresholds(
        same_abstract=settings["novelty.same_abstract"],
        different_abstract=settings["novelty.different_abstract"],
    )
    verdicts = _enrich(split(entries, store, thresholds))
    verdicts = [
        replace(v, paper=topics.assign(v.paper, settings.taxonomy)) if v.new else v
        for v in verdicts
    ]
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
    edition = build_edition([v.paper for v in verdicts if v.new], settings.taxonomy, edition_date)
    return Plan(
        edition=edition,
        verdicts=tuple(verdicts),
        digests=tuple(reports + list(collected.reports)),
    )


def _enrich(verdicts: list[Verdict]) -> list[Verdict]:
    """A paper listed by several sources in one run appears once, with what each knew.

    The first listing makes the paper; a later one (the same paper "earlier in
    this run") fills in what the first lacked: an arXiv id, upvotes, authors,
    categories.
    """
    first = {v.paper.key: i for i, v in enumerate(verdicts) if v.new}
    result = list(verdicts)
    for v in verdicts:
        if v.new or v.same_as not in first:
            continue
        index = first[v.same_as]
        paper, entry = result[index].paper, v.entry
        result[index] = replace(
            result[index],
            paper=replace(
                paper,
                arxiv_id=paper.arxiv_id or entry.arxiv_id,
                url=_better_url(entry)
                if entry.arxiv_id and paper.url.startswith(ARXIV_SEARCH)
                else paper.url,
                upvotes=paper.upvotes if paper.upvotes is not None else entry.upvotes,
                authors=paper.authors or entry.authors,
                categories=paper.categories or entry.categories,
            ),
        )
    return result


ARXIV_SEARCH = "https://arxiv.org/search/"


def _history(store: Store, edition: Edition) -> list[Edition]:
    """Every edition before ``edition``, newest first: the archive index lists them
    all, and each topic feed keeps its own newest ``feeds.max_items`` papers."""
    return store.recent_editions(sys.maxsize, before=(edition.date, edition.number))


def _better_url(entry: RawEntry) -> str:
    """The link of a listing that knows the arXiv id, for a paper first seen without one."""
    return entry.url or f"https://arxiv.org/abs/{entry.arxiv_id}"


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
    if unchanged and not errors:
        names = ", ".join(r.name for r in unchanged)
        return (
            "stale",
            f"nothing new: every source returned what it returned last time ({names})",
            tuple(warnings),
        )
    if not result.digests:
        return "failed", "no sources configured and no digest given", tuple(warnings)
    return "failed", "no source could be read", tuple(warnings)


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
    store = Store.open(settings.database_url, create=False)
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
        history = store.recent_editions(settings["feeds.max_items"]) if store else []
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
) -> RunReport:
    """Publish the next edition: record it, mark its papers seen and write its send
    ledger in one transaction; then send it to the subscribers.

    If the date has an edition already (and not ``force``), nothing is recorded;
    the stored edition is published again and its unsent ledger rows are sent,
    so a run killed before, during or after sending is finished by running it
    again.  Whatever the run found, it also resumes the unsent mail of every
    earlier edition within ``delivery.max_age_days`` (deferred recipients, a
    killed send), oldest first.  ``mailer`` defaults to ``delivery.method``.
    Every run leaves a run report in the database (``newsletter status``).
    """
    started = clock()
    store = Store.open(settings.database_url, create=True)
    assert store is not None
    try:
        report = _run(settings, store, inputs, edition_date, force, progress, client)
        own = report.edition if report.status in ("published", "exists") else None
        delivered = _deliver(settings, store, own, mailer, clock, sleep)
        if own is not None:
            report = replace(report, delivery=delivered)
        runlog.record_report(store, report, started=started, finished=clock(), trigger=trigger)
    finally:
        store.close()
    return report


def _deliver(
    settings: Settings,
    store: Store,
    edition: Edition | None,
    mailer: Mailer | None,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None] | None,
) -> DeliveryReport:
    """Resume every unfinished edition (oldest first) and report on ``edition``'s."""
    passes = delivery.resume(settings, store, mailer, clock=clock, sleep=sleep or time.sleep)

    def same(other: Edition) -> bool:
        return edition is not None and (other.date, other.number) == (edition.date, edition.number)

    for other, result in passes:
        if not same(other) and (result.sent_now or result.stopped):
            log.info(
                "delivery of the edition of %s resumed: %d sent now%s",
                other.date.isoformat(),
                result.sent_now,
                f"; stopped: {result.stopped}" if result.stopped else "",
            )
    if edition is None:
        return DeliveryReport()
    report = next((r for e, r in passes if same(e)), None)
    if report is None:  # nothing due for it (or an earlier edition's pass stopped)
        stopped = next((r.stopped for _, r in passes if r.stopped), None)
        report = delivery.Delivery(settings, store, mailer).summary(edition, stopped=stopped)
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
    """Send what is due of every unfinished edition within ``delivery.max_age_days``:
    interrupted sends, deferred recipients, rows another sender left behind."""
    store = Store.open(settings.database_url, create=True)
    assert store is not None
    try:
        return [report for _, report in delivery.resume(settings, store, mailer, clock=clock)]
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
) -> RunReport:
    if not force and store.editions_on(edition_date):
        return _republish(settings, store, edition_date)
    collected = collect(settings, inputs, edition_date, progress, store=store, client=client)
    faults.hit("after-ingest")  # inert unless NEWSLETTER_FAULT names it (docs/hardening.md)
    result = plan(settings, store, collected, edition_date)
    status, reason, warnings = assess(collected, result)
    for warning in warnings:
        log.warning("%s", warning)
    if result.edition.paper_count == 0:
        if not force and store.editions_on(edition_date):  # a concurrent run made it meanwhile
            return _republish(settings, store, edition_date)
        store.record_ingested(collected.ingested)  # nothing new in it: nothing to lose
        log.error("no edition for %s: %s", edition_date.isoformat(), reason)
        return RunReport(
            edition=result.edition,
            digests=result.digests,
            skipped_reason=reason,
            status=status,
            warnings=warnings,
        )
    new = [NewPaper(v.paper, v.title_key, v.signature) for v in result.verdicts if v.new]
    aliases = [
        Alias(v.same_as, v.entry.arxiv_id)
        for v in result.verdicts
        if not v.new and v.same_as and v.entry.arxiv_id
    ]
    try:
        edition = store.record_edition(
            result.edition,
            new,
            aliases,
            force=force,
            ingested=collected.ingested,
            ledger_domain=settings.sender_domain,
        )
    except EditionExists:
        return _republish(settings, store, edition_date)
    faults.hit("after-commit")
    history = _history(store, edition)
    outputs = publish_run(edition, history, settings)
    log.info("recorded edition %s with %d papers", edition.date, edition.paper_count)
    return RunReport(
        edition=edition,
        digests=result.digests,
        recorded=True,
        outputs=tuple(str(p) for p in outputs),
        status="published",
        warnings=warnings,
    )


def _republish(settings: Settings, store: Store, edition_date: date) -> RunReport:
    edition = store.latest_edition_on(edition_date)
    if edition is None:  # pragma: no cover - raced with a deletion
        raise NewsletterError(f"the edition for {edition_date} vanished from the database")
    history = _history(store, edition)
    outputs = publish_run(edition, history, settings)
    return RunReport(
        edition=edition,
        digests=(),
        skipped_reason=f"an edition for {edition_date.isoformat()} exists already "
        f"({edition.paper_count} papers); published its files again, recorded nothing "
        "(use --force for another edition that day)",
        outputs=tuple(str(p) for p in outputs),
        status="exists",
    )


def explain(
    settings: Settings, query: str, inputs: Sequence[str], edition_date: date
) -> list[tuple[Verdict, topics.Classification]]:
    """Novelty verdict and topic classification of every entry whose title contains ``query``."""
    store = Store.open(settings.database_url, create=False)
    try:
        collected = collect(settings, inputs, edition_date)
        entries = [e for d in collected.digests for e in d.entries]
        thresholds = Thresholds(
            same_abstract=settings["novelty.same_abstract"],
            different_abstract=settings["novelty.different_abstract"],
        )
        verdicts = split(entries, store, thresholds)
    finally:
        if store:
            store.close()
    needle = query.casefold()
    return [
        (v, topics.classify(v.entry.title, v.entry.abstract, v.entry.categories, settings.taxonomy))
        for v in verdicts
        if needle in v.entry.title.casefold()
    ]


def migrate(settings: Settings) -> list[int]:
    """Create or upgrade the schema; returns the versions applied."""
    store = Store.connect(settings.database_url)
    try:
        return store.migrate()
    finally:
        store.close()

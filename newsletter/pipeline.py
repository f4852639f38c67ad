"""The pipeline the CLI (and later the scheduler) calls: collect → novelty → topics → edition.

``preview`` runs every stage against the current state and writes files only
into its output folder; ``run`` does the same and then records the edition and
its papers in one transaction before publishing.  Both return a RunReport.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from newsletter import topics
from newsletter.config import Settings
from newsletter.edition import build_edition
from newsletter.errors import InputError, NewsletterError
from newsletter.model import Digest, DigestReport, Edition, RunReport
from newsletter.novelty import Thresholds, Verdict, split
from newsletter.publish import publish_preview, publish_run
from newsletter.sources.text import expand_inputs, read_digest
from newsletter.store import Alias, EditionExists, NewPaper, Store

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


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
) -> tuple[list[Digest], list[DigestReport]]:
    """Read every input digest; a bad one becomes a report with an error, the rest go on.

    Without ``inputs`` the ``[[sources]]`` of the config are read (paths
    relative to the config file); given inputs are relative to the current folder.
    """
    if inputs:
        files, problems = expand_inputs(list(inputs), Path.cwd())
    else:
        files, problems = [], []
        for source in settings.sources:
            found, missing = expand_inputs([source.path], settings.base_dir)
            files += found
            problems += [f"source {source.name}: {m}" for m in missing]
        files = sorted(dict.fromkeys(files), key=lambda p: (p.name, str(p)))
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
    return digests, failed


def plan(
    settings: Settings,
    store: Store | None,
    digests: Sequence[Digest],
    failed: Sequence[DigestReport],
    edition_date: date,
) -> Plan:
    """Decide what is new and group it into an edition; writes nothing."""
    entries = [entry for digest in digests for entry in digest.entries]
    thresholds = Thresholds(
        same_abstract=settings["novelty.same_abstract"],
        different_abstract=settings["novelty.different_abstract"],
    )
    verdicts = split(entries, store, thresholds)
    verdicts = [
        replace(v, paper=topics.assign(v.paper, settings.taxonomy)) if v.new else v
        for v in verdicts
    ]
    reports: list[DigestReport] = []
    position = 0
    for digest in digests:
        mine = verdicts[position : position + len(digest.entries)]
        position += len(digest.entries)
        new = sum(1 for v in mine if v.new)
        reports.append(DigestReport(digest.name, entries=len(mine), new=new, seen=len(mine) - new))
    edition = build_edition([v.paper for v in verdicts if v.new], settings.taxonomy, edition_date)
    return Plan(edition=edition, verdicts=tuple(verdicts), digests=tuple(reports + list(failed)))


def preview(
    settings: Settings,
    inputs: Sequence[str],
    edition_date: date,
    out_dir: Path,
    progress: Progress | None = None,
) -> RunReport:
    """Exactly what the next run would publish, written to ``out_dir``; the state is untouched."""
    store = Store.open(settings.database_url, create=False)
    try:
        digests, failed = collect(settings, inputs, edition_date, progress)
        result = plan(settings, store, digests, failed, edition_date)
        number = (store.editions_on(edition_date) + 1) if store else 1
        edition = replace(result.edition, number=number)
        history = store.recent_editions(settings["feeds.max_items"]) if store else []
    finally:
        if store:
            store.close()
    outputs = publish_preview(edition, history, settings, out_dir)
    return RunReport(
        edition=edition,
        digests=result.digests,
        outputs=tuple(str(p) for p in outputs),
    )


def run(
    settings: Settings,
    inputs: Sequence[str],
    edition_date: date,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    """Publish the next edition: record it and mark its papers seen in one transaction.

    If the date has an edition already (and not ``force``), nothing is recorded;
    the stored edition is published again, so a run that crashed after its
    commit still gets its files written.
    """
    store = Store.open(settings.database_url, create=True)
    assert store is not None
    try:
        if not force and store.editions_on(edition_date):
            return _republish(settings, store, edition_date)
        digests, failed = collect(settings, inputs, edition_date, progress)
        result = plan(settings, store, digests, failed, edition_date)
        if result.edition.paper_count == 0:
            reason = "no new papers" if digests else "no digest could be read"
            return RunReport(edition=result.edition, digests=result.digests, skipped_reason=reason)
        new = [NewPaper(v.paper, v.title_key, v.signature) for v in result.verdicts if v.new]
        aliases = [
            Alias(v.same_as, v.entry.arxiv_id)
            for v in result.verdicts
            if not v.new and v.same_as and v.entry.arxiv_id
        ]
        try:
            edition = store.record_edition(result.edition, new, aliases, force=force)
        except EditionExists:
            return _republish(settings, store, edition_date)
        history = store.recent_editions(
            settings["feeds.max_items"], before=(edition.date, edition.number)
        )
    finally:
        store.close()
    outputs = publish_run(edition, history, settings)
    return RunReport(
        edition=edition,
        digests=result.digests,
        recorded=True,
        outputs=tuple(str(p) for p in outputs),
    )


def _republish(settings: Settings, store: Store, edition_date: date) -> RunReport:
    edition = store.latest_edition_on(edition_date)
    if edition is None:  # pragma: no cover - raced with a deletion
        raise NewsletterError(f"the edition for {edition_date} vanished from the database")
    history = store.recent_editions(
        settings["feeds.max_items"], before=(edition.date, edition.number)
    )
    outputs = publish_run(edition, history, settings)
    return RunReport(
        edition=edition,
        digests=(),
        skipped_reason=f"an edition for {edition_date.isoformat()} exists already "
        f"({edition.paper_count} papers); published its files again, recorded nothing "
        "(use --force for another edition that day)",
        outputs=tuple(str(p) for p in outputs),
    )


def explain(
    settings: Settings, query: str, inputs: Sequence[str], edition_date: date
) -> list[tuple[Verdict, topics.Classification]]:
    """Novelty verdict and topic classification of every entry whose title contains ``query``."""
    store = Store.open(settings.database_url, create=False)
    try:
        digests, _failed = collect(settings, inputs, edition_date)
        entries = [e for d in digests for e in d.entries]
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

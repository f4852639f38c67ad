"""Read every configured source into digests, reports and what to record as ingested.

One source failing never stops the others: its error becomes a
:class:`DigestReport`.  A source that gave nothing new without failing (a
feed answering ``304 Not Modified`` or the same bytes as last time, a drop
folder holding only files ingested before) is reported as ``unchanged``, so
the run can say loudly that it has nothing new instead of publishing an
empty or repeated edition.

What was read (feed validators and content hashes, text files by content
hash) is only *returned*; the caller records it in the same transaction as
the edition, so an input counts as ingested only once its papers are.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from newsletter.config import Settings, SourceSettings
from newsletter.errors import InputError
from newsletter.model import Digest, DigestReport
from newsletter.sources.feed import ParsedFeed, parse_feed
from newsletter.sources.fetch import FetchPolicy, Validators, fetch, make_client
from newsletter.sources.hf import parse_hf
from newsletter.sources.text import expand_inputs, parse_digest, read_bytes
from newsletter.store import Database
from newsletter.store.sources import Ingested, IngestedFile, SourceState

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Collected:
    """Everything the sources gave: digests to plan with, reports of the inputs
    that gave nothing (errors and unchanged sources), what to record, warnings."""

    digests: tuple[Digest, ...]
    reports: tuple[DigestReport, ...]
    ingested: Ingested = field(default_factory=Ingested)
    warnings: tuple[str, ...] = ()
    kinds: tuple[tuple[str, str, str], ...] = ()  # (digest name, source name, kind)


def collect_sources(
    settings: Settings,
    store: Database | None,
    edition_date: date,
    *,
    client: httpx.Client | None = None,
    progress: Progress | None = None,
) -> Collected:
    """Read the ``[[sources]]`` of the config, each as its kind requires."""
    digests: list[Digest] = []
    reports: list[DigestReport] = []
    files: list[IngestedFile] = []
    states: list[SourceState] = []
    warnings: list[str] = []
    kinds: list[tuple[str, str, str]] = []
    seen_paths: set[Path] = set()
    own_client = None
    if client is None and any(s.kind != "text" for s in settings.sources):
        own_client = client = make_client(settings.user_agent, settings["fetch.timeout_seconds"])
    previous = _source_states(store)
    try:
        for source in settings.sources:
            if source.kind == "text":
                got = _read_text_source(source, settings, store, edition_date, seen_paths, progress)
                digests += got.digests
                reports += got.reports
                files += got.ingested.files
                kinds += got.kinds
                continue
            assert client is not None
            if progress:
                progress(source.name)
            try:
                result = _read_fetched_source(source, settings, client, previous.get(source.name))
            except InputError as exc:
                log.warning("source %s: %s", source.name, exc)
                reports.append(
                    DigestReport(
                        name=source.name, error=str(exc), source=source.name, kind=source.kind
                    )
                )
                continue
            if isinstance(result, DigestReport):
                reports.append(result)
                continue
            parsed, state = result
            digests.append(parsed.digest)
            kinds.append((parsed.digest.name, source.name, source.kind))
            warnings += parsed.warnings
            states.append(state)
    finally:
        if own_client is not None:
            own_client.close()
    return Collected(
        digests=tuple(digests),
        reports=tuple(reports),
        ingested=Ingested(sources=tuple(states), files=tuple(files)),
        warnings=tuple(warnings),
        kinds=tuple(kinds),
    )


def _read_text_source(
    source: SourceSettings,
    settings: Settings,
    store: Database | None,
    edition_date: date,
    seen_paths: set[Path],
    progress: Progress | None,
) -> Collected:
    """The files of a text source not ingested before (by content, whatever their name)."""
    found, missing = expand_inputs([source.path], settings.base_dir)
    reports = [
        DigestReport(name=source.name, error=f"source {source.name}: {m}", source=source.name)
        for m in missing
    ]
    paths = [p for p in found if p.resolve() not in seen_paths]
    seen_paths.update(p.resolve() for p in paths)
    blobs: list[tuple[Path, bytes, str]] = []
    for path in paths:
        try:
            data = read_bytes(path)
        except InputError as exc:
            reports.append(DigestReport(path.name, error=str(exc), source=source.name, kind="text"))
            continue
        blobs.append((path, data, hashlib.sha256(data).hexdigest()))
    known = _ingested_files(store, [h for _, _, h in blobs])
    digests: list[Digest] = []
    files: list[IngestedFile] = []
    skipped: list[str] = []
    hashes_this_run: set[str] = set()
    for path, data, content_hash in blobs:
        if content_hash in known or content_hash in hashes_this_run:
            before = known.get(content_hash)
            skipped.append(path.name)
            log.info(
                "%s: same content as %s, ingested before; skipped",
                path.name,
                before.name if before else "another file of this run",
            )
            continue
        hashes_this_run.add(content_hash)
        if progress:
            progress(path.name)
        try:
            digest = parse_digest(data, name=path.name, edition_date=edition_date)
        except InputError as exc:
            log.warning("%s", exc)
            reports.append(DigestReport(path.name, error=str(exc), source=source.name, kind="text"))
            continue
        digests.append(digest)
        files.append(IngestedFile(content_hash, path.name, source.name))
    if not digests and not missing:
        note = f"no new file: {len(skipped)} already ingested" if skipped else "no file in it"
        reports.append(
            DigestReport(source.name, source=source.name, kind="text", note=note, unchanged=True)
        )
    return Collected(
        digests=tuple(digests),
        reports=tuple(reports),
        ingested=Ingested(files=tuple(files)),
        kinds=tuple((d.name, source.name, "text") for d in digests),
    )


def _read_fetched_source(
    source: SourceSettings,
    settings: Settings,
    client: httpx.Client,
    previous: SourceState | None,
) -> DigestReport | tuple[ParsedFeed, SourceState]:
    """Fetch and parse a feed or HF source; an unchanged one gives a report instead."""
    policy = FetchPolicy(
        timeout=float(settings["fetch.timeout_seconds"]),
        max_bytes=int(settings["fetch.max_mb"]) * 1024 * 1024,
        max_redirects=int(settings["fetch.max_redirects"]),
        allow_private=source.allow_private,
    )
    validators = (
        Validators(previous.etag, previous.last_modified, previous.content_hash)
        if previous
        else None
    )
    fetched = fetch(client, source.url, policy, validators)
    since = (
        f" since {previous.changed_at:%Y-%m-%d %H:%M} UTC"
        if previous and previous.changed_at
        else ""
    )
    if fetched.not_modified:
        return _unchanged(source, f"unchanged{since} (304 Not Modified)")
    if previous and previous.content_hash == fetched.content_hash:
        return _unchanged(source, f"unchanged{since} (same content as last time)")
    if source.kind == "hf":
        parsed = parse_hf(fetched.content, name=source.name)
    else:
        parsed = parse_feed(fetched.content, name=source.name, content_type=fetched.content_type)
    log.info("source %s: %d entries from %s", source.name, len(parsed.digest.entries), fetched.url)
    return parsed, SourceState(
        source.name, fetched.etag, fetched.last_modified, fetched.content_hash
    )


def _unchanged(source: SourceSettings, note: str) -> DigestReport:
    log.warning("source %s: %s", source.name, note)
    return DigestReport(
        source.name, source=source.name, kind=source.kind, note=note, unchanged=True
    )


def _source_states(db: Database | None) -> dict[str, SourceState]:
    if db is None:
        return {}
    with db.read() as tx:
        return tx.sources.states()


def _ingested_files(db: Database | None, hashes: list[str]) -> dict[str, IngestedFile]:
    if db is None:
        return {}
    with db.read() as tx:
        return tx.sources.ingested_files(hashes)

"""The values that cross stage boundaries.

They are frozen so a stage can never change what an earlier stage produced;
a later stage makes a new value with :func:`dataclasses.replace`.

``RawEntry`` (what a source read) → ``Paper`` (with its identity key, repaired
text, URL and topics; made once, complete, in :mod:`newsletter.listings`) →
``Section`` / ``Edition`` (what one run publishes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from newsletter.states import RunStatus


@dataclass(frozen=True)
class RawEntry:
    """One paper as a source saw it, text already repaired for display.

    ``source`` names where it came from (a digest file name, a feed name) and
    ``line`` the line of its title in a text digest, for error messages.
    ``announce`` is an arXiv feed's announce type (new, cross, replace, ...).
    """

    title: str
    abstract: str
    source: str
    digest_date: date | None = None
    url: str | None = None
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    upvotes: int | None = None
    line: int | None = None
    announce: str | None = None


@dataclass(frozen=True)
class Digest:
    """One input digest (a text file, one fetch of a feed) and its entries."""

    name: str
    entries: tuple[RawEntry, ...]
    digest_date: date | None = None


TEXT_RULES = 1
"""The version of the rules that make a :class:`PaperText` (cleaning, the contribution
sentence): texts stored under another version are ignored and made again, so a change of
those rules never shows a stale teaser.  Bump it with any change to
:func:`newsletter.render.context.paper_text`'s output (``tests/test_render_texts.py``
pins that output on the project's digests and says so)."""


@dataclass(frozen=True)
class PaperText:
    """What every rendering of a paper shows of its text, cleaned once.

    Made at ingest (:func:`newsletter.render.context.paper_text`) and kept with the
    edition in the store, because choosing the contribution sentence and cleaning
    the abstract are most of what an edition's first email costs, and they depend
    on the paper alone.  ``title`` is "" when the cleaned title is empty.
    """

    title: str
    abstract: str
    teaser: str
    authors: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Paper:
    """A paper with its identity, as every stage after novelty sees it.

    ``key`` is ``arxiv:<id>`` when an arXiv id is known, else ``title:<normalized
    title>``; it is the feed guid and never changes once the paper is published.
    ``url`` is always a real link (see :func:`newsletter.listings.link`).
    ``topics`` holds every matching topic, the primary first, and is never
    empty; :attr:`topic` is that primary topic (the paper's section).
    """

    key: str
    title: str
    abstract: str
    url: str
    source: str
    topics: tuple[str, ...]
    digest_date: date | None = None
    arxiv_id: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    upvotes: int | None = None
    text: PaperText | None = field(default=None, compare=False, repr=False)
    """The paper's cleaned text when it was made already (at ingest, or read back from
    the store); None makes a rendering compute it, with the same result.  Not part of
    the paper's value: equality, hashing and the edition's JSON ignore it."""

    def __post_init__(self) -> None:
        if not self.topics:
            raise ValueError(f"paper {self.key!r} has no topic (every paper has one at least)")

    @property
    def topic(self) -> str:
        """The primary topic: the section the paper is in."""
        return self.topics[0]


@dataclass(frozen=True)
class Section:
    """The papers of one topic in an edition, in a stable order."""

    topic: str
    title: str
    papers: tuple[Paper, ...]


@dataclass(frozen=True)
class Edition:
    """What one run publishes: the novel papers of that run, by topic.

    ``number`` counts editions for the same ``date`` (1 unless ``run --force``).
    ``note`` is the editor's note (Markdown) this edition opens with, if any:
    a note goes into one edition only (see :mod:`newsletter.note`).
    """

    date: date
    sections: tuple[Section, ...]
    number: int = 1
    note: str | None = None

    @property
    def papers(self) -> tuple[Paper, ...]:
        return tuple(p for s in self.sections for p in s.papers)

    @property
    def paper_count(self) -> int:
        return sum(len(s.papers) for s in self.sections)


@dataclass(frozen=True)
class DigestReport:
    """Per input: how many entries it had, how many were new, how many seen.

    ``source`` is the configured source it came from, ``kind`` its kind;
    ``note`` says why an input gave nothing without failing (already ingested,
    not modified) and ``unchanged`` marks exactly that case; ``empty`` marks a
    drop folder with no file in it, which neither answered nor failed.
    """

    name: str
    entries: int = 0
    new: int = 0
    seen: int = 0
    error: str | None = None
    source: str = ""
    kind: str = ""
    note: str | None = None
    unchanged: bool = False
    empty: bool = False


@dataclass(frozen=True)
class Reason:
    """One of the most common last replies of an edition's rows in ``state``."""

    state: str
    reply: str
    count: int

    @property
    def text(self) -> str:
        """The reply on one line, cut to a readable length (it is the server's text)."""
        flat = " ".join(self.reply.split()) or "no reply recorded"
        return flat if len(flat) <= 160 else flat[:159] + "…"


@dataclass(frozen=True)
class DeliveryReport:
    """What sending an edition came to, over its whole send ledger.

    ``sent``, ``skipped`` (unsubscribed since, or nothing in their topics),
    ``failed`` (5xx, or given up) and ``unconfirmed`` are finished rows; the
    unfinished ones are named by why they wait: ``deferred`` (a server said
    "try later": a temporary reply), ``pending`` (not reached yet: the pass
    stopped, or nothing tried it), ``uncertain`` (in flight at an interruption:
    sent once more) and ``claimed`` (held by another sender right now).
    ``sent_now`` and ``resent_uncertain`` are what this run did; ``reasons`` the
    most common last replies of the deferred and failed rows.  ``stopped`` says
    why sending stopped early (authentication, ...).
    """

    recipients: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    deferred: int = 0
    """Rows a server answered with a temporary reply: tried again from ``next_attempt_at``."""
    sent_now: int = 0
    resent_uncertain: int = 0
    stopped: str | None = None
    unconfirmed: int = 0
    """Handed over twice without a reply: probably delivered, never sent a third time."""
    note: str | None = None
    """Why the pass ended early without an error (the daily limit, another sender)."""
    pending: int = 0
    uncertain: int = 0
    claimed: int = 0
    reasons: tuple[Reason, ...] = ()
    edition_date: date | None = None
    edition_number: int = 1

    @property
    def unsent(self) -> int:
        """Rows a later pass still has to do something with."""
        return self.pending + self.uncertain + self.claimed + self.deferred

    @property
    def label(self) -> str:
        day = self.edition_date.isoformat() if self.edition_date else "?"
        return day + (f" #{self.edition_number}" if self.edition_number > 1 else "")


@dataclass(frozen=True)
class RunReport:
    """What a preview or run did, for the CLI summary and ``status``.

    ``status`` is one of ``published``, ``exists`` (the date has its edition),
    ``empty`` (no new papers), ``stale`` (every source returned what it
    returned last time) or ``failed`` (no source could be read); only
    ``published`` and ``exists`` are successes.  ``unrecorded`` counts the new
    papers of digests named on the command line that were read and checked but
    not recorded, because the date has its edition (a run that leaves them out
    exits 1, never silently).
    """

    edition: Edition
    digests: tuple[DigestReport, ...]
    recorded: bool = False
    skipped_reason: str | None = None
    outputs: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    status: str = ""
    delivery: DeliveryReport | None = None
    resumed: tuple[DeliveryReport, ...] = ()
    """Earlier editions this run sent to (deferred rows come due, a killed send)."""
    unrecorded: int = 0

    @property
    def ok(self) -> bool:
        return self.status in (RunStatus.PUBLISHED, RunStatus.EXISTS, "")

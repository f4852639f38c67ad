"""Ranked delivery: each subscriber who voted gets the edition in their own order.

Once per edition (on the first message a delivery pass builds) the models are
brought up to date, and only where something changed:

- **The vocabulary** (TF-IDF terms and IDF, :class:`newsletter.ranking.vocabulary.Vocabulary`)
  is stored, versioned, and kept between runs; it is refitted on the store's
  newest papers only when the store has grown to :data:`REFIT_GROWTH` times the
  papers it was fitted on (or there is none yet).  A refit is a new version:
  every model then retrains, since its weights are over the old columns.
- **A subscriber's model** (their 👍, 👎, seeds, and papers they were sent but
  did not vote on) is stored under the vocabulary version and a fingerprint of
  their votes (:mod:`newsletter.ranking.persist`), and retrained only when one
  of those changed: a new, changed or removed vote or seed, or a new
  vocabulary.  New papers sent since (the random negatives' pool) alone do not
  retrain a model.  Retraining goes in batches of :data:`TRAIN_BATCH`, each
  written before the next is fitted, so memory does not grow with the list.

No votes anywhere: nothing is trained and every message is the shared one — an
installation that never votes pays nothing.

Scoring streams too: the subscribers with a model are cut, in id order (the
ledger's order), into batches of :data:`SCORE_BATCH`; a batch's models are read
and scored on the edition's papers with one sparse product (stacked weights ×
candidates, :meth:`newsletter.ranking.Ranker.scores`) the first time one of its
subscribers is sent, and at most :data:`KEEP_BATCHES` batches are held at once.
The orders and reasons are made for a batch's subscribers on one copy at once
(:meth:`newsletter.ranking.Ranker.explained_many`: the fusion, the order, the
topic reasons and the terms' pushes as array operations), for the papers the copy
shows only (its cards and, in a very large edition, its title-only lines: each section
is ordered by score throughout, :meth:`newsletter.render.picks.Body.arrange`); the
liked paper nearest each of them comes from one similarity matrix per edition
(edition papers × every liked paper), not a product per subscriber.

Per topic set, the ranked copy is rendered once and cut
(:func:`newsletter.render.picks.layout`); each piece of it (constant text,
every card) is encoded to quoted-printable once.  A ranked subscriber's
message is then their order of those shared pieces plus their reasons, joined
in the same :class:`~newsletter.delivery.message.DigestFrame` — no render, no
MIME build per subscriber; the recipient's links are spliced as in every
message.  Each shared piece is kept as its joined bytes (:class:`_Flat`), and a
reason that needs no escaping nor encoding (most: "matches: …" names vocabulary
words) is its own bytes in both bodies, so a message is a list of byte strings
joined once per body (:meth:`_Copy.body`, the same bytes as the piece-by-piece
:meth:`_Copy.segments`: ``tests/test_ranked_messages.py``).  A subscriber without
a model (no votes, ranking off) gets exactly the shared message.
"""

from __future__ import annotations

import binascii
import bisect
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from newsletter.config import Settings
from newsletter.delivery.message import (
    CRLF,
    SOFT_BREAK,
    CompiledMessage,
    DigestFrame,
    Sender,
    body_segments,
    merged,
)
from newsletter.edition import topics_of
from newsletter.model import Edition
from newsletter.ranking import PaperText, Ranker, RankingError, Scored, Tuning, Vote, persist
from newsletter.ranking.ranker import Ordered, fit_profiles
from newsletter.ranking.reasons import DISLIKED_ONLY, NO_MATCH
from newsletter.ranking.vocabulary import Vocabulary
from newsletter.render.picks import Arrangement, Body, RankedLayout, Reason, layout, one_line
from newsletter.render.recipients import VOTE_TOKEN
from newsletter.render.untrusted import defuse
from newsletter.store import Database

log = logging.getLogger(__name__)

CORPUS_PAPERS = 20000
"""The newest stored papers the vocabulary is fitted on (plus every voted paper)."""
REFIT_GROWTH = 2.0
"""The vocabulary is refitted when the store holds this many times the papers it was
fitted on: new words then matter, and every model retrains once (a store that doubles
every few months pays that a handful of times a year, not every edition)."""
TRAIN_BATCH = 200
"""Subscribers retrained, then written, at a time."""
SCORE_BATCH = 128
"""Subscribers whose models are read and scored at a time."""
KEEP_BATCHES = 2
"""Scored batches held at once (the delivery workers send a few batches apart)."""

Segments = list[tuple[bytes | str, bytes | str]]
_Titles = tuple[
    dict[str, bytes], dict[str, bytes], dict[str, bytes], list[bytes], list[list[bytes]]
]
"""A body's title-line pieces as bytes (:meth:`_Copy._unstuffed`): each line's start and
end, each section's bridge and the text between its lines, the reason line around its
reason."""
_LineRuns = dict[str, tuple[tuple[bytes, bytes], tuple[bytes, bytes], tuple[bytes, bytes]]]
"""Each title line as :meth:`_Copy._runs` joins it, (plain, dot-stuffed) each: its start
with its reason line's start, its reason line's end with its own end, the line alone."""
_Same = tuple[dict[str, bytes], dict[str, bytes], bytes, bytes, bytes, list[list[bytes]], _Titles]
_UNKNOWN = object()


VOTE_MARKS: tuple[tuple[bytes, str], ...] = (
    (b"\x00vote-text\x00", f"text:{VOTE_TOKEN}"),
    (b"\x00vote-html\x00", f"html:{VOTE_TOKEN}"),
)
"""The recipient's vote token in a ranked copy's pieces: a marker (quoted-printable
never writes a NUL) replaced once per message (:attr:`CompiledMessage.repeated`), so
a card is one constant segment instead of five around its two vote slots."""
_MARK = {slot: (mark, mark) for mark, slot in VOTE_MARKS}


def encode_piece(kind: str, piece: str) -> Segments:
    """One shared piece as QP segments with its dot-stuffed form, the vote slots as
    markers and the constant runs joined (a card: one segment)."""
    return merged(
        _MARK.get(seg, (seg, st)) if isinstance(seg, str) else (seg, st)
        for seg, st in body_segments(kind, piece)
    )


def encode_layout(made: RankedLayout) -> dict[tuple[str, str], Segments]:
    """Every shared piece of a ranked copy, encoded once (:func:`encode_piece`)."""
    encoded: dict[tuple[str, str], Segments] = {}
    for kind, body in (("text", made.text), ("html", made.html)):
        constant = [p for p in body.parts if isinstance(p, str)]
        constant += [g for gaps in body.gaps for g in gaps]
        constant += [*body.cards.values(), body.head, *body.reason, body.moved]
        constant += [p for line in body.title_lines.values() for p in line if p]
        constant += [g for gaps in body.title_gaps for g in gaps]
        constant += [b for b in body.bridges if b] + list(body.title_reason)
        for piece in constant:
            encoded[(kind, piece)] = encode_piece(kind, piece)
    return encoded


class _Flat(NamedTuple):
    """One encoded piece as a message joins it: a piece without slots (a card, the
    text between cards) is its bytes joined once, so a message appends two strings
    for it instead of looking at each segment.  (A tuple: one is made per reason.)"""

    constant: bool
    any: bool
    """Whether it has any segment (an empty piece adds no soft break after it)."""
    plain: bytes
    stuffed: bytes
    segments: Segments


_NOT_PLAIN = re.compile(r"[&<>\"'%=]")
"""What HTML escapes, a marker starts with (``%%``) or quoted-printable writes as ``=XX``."""


def _plain_reason(reason: str) -> bytes:
    """The reason's bytes when its escaped and encoded form is the text itself, in
    both bodies — ASCII, one line, nothing to escape, no ``%`` or ``=``, shorter than a
    quoted-printable line, not starting with "." — or ``b""`` (then the reason goes the
    long way: :meth:`Body.reason_line`, :meth:`_Copy._reason`).  Most reasons are
    ("matches: diffusion, video editing"): vocabulary terms are word characters."""
    if not reason.isascii() or _NOT_PLAIN.search(reason) is not None:
        return b""  # the long way (cached per reason), without cutting it here first
    line = one_line(reason)
    if (
        line
        and len(line) <= 76
        and line.isascii()
        and line[0] != "."
        and _NOT_PLAIN.search(line) is None
    ):
        return line.encode("ascii")
    return b""


_PLAIN_CHARS = 76
"""The longest reason :func:`reasons_as_bytes` takes as its own bytes (a quoted-printable
line)."""


def reasons_as_bytes(reasons: dict[str, str]) -> dict[str, bytes]:
    """The reasons (by card) that are their own bytes in both bodies, as those bytes —
    what :func:`_plain_reason` gives them (a test checks), told by a few checks in C
    each and made once per message for both bodies (most reasons are "matches: …" of
    vocabulary words, and nearly all are one subscriber's own: a cache of them only
    costs).  Printable ASCII (no control character, so no line break), nothing HTML
    escapes, a marker starts with or quoted-printable encodes (``&<>"'%=``), single
    spaces between words (:func:`one_line` leaves it as it is), not starting with ".",
    at most :data:`_PLAIN_CHARS` characters.  The others are left to the reason lines
    (:meth:`_Copy.body`)."""
    search = _NOT_PLAIN.search
    return {
        key: reason.encode("ascii")
        for key, reason in reasons.items()
        if reason
        and len(reason) <= _PLAIN_CHARS
        and reason.isascii()
        and reason.isprintable()
        and reason[0] not in ". "
        and reason[-1] != " "
        and "  " not in reason
        and search(reason) is None
    }


def _stuffed(data: bytes) -> bytes:
    """``data`` dot-stuffed for SMTP where its lines start (after a CRLF): what
    :func:`encode_piece` and :meth:`_Copy._reason` make of a piece, which never starts
    with "." (a reason's first dot is written ``=2E``)."""
    return data.replace(b"\r\n.", b"\r\n..") if b"\r\n." in data else data


def _title_pieces(made: Body) -> list[str]:
    """A body's title-line pieces that are always written (each line's start, its end
    and its section's bridge when not empty, the reason line around its reason)."""
    if not made.title_lines:
        return []
    found = [p for line in made.title_lines.values() for p in line if p]
    return found + [b for b in made.bridges if b] + list(made.title_reason)


def _flat(segments: Segments) -> _Flat:
    if all(isinstance(seg, bytes) and isinstance(st, bytes) for seg, st in segments):
        return _Flat(
            True,
            bool(segments),
            b"".join(seg for seg, _ in segments),  # type: ignore[misc]
            b"".join(st for _, st in segments),  # type: ignore[misc]
            [],
        )
    return _Flat(False, bool(segments), b"", b"", segments)


@dataclass
class _Copy:
    """One topic set's ranked copy: its layout, its frame and its encoded pieces."""

    layout: RankedLayout
    frame: DigestFrame
    encoded: dict[tuple[str, str], Segments]
    candidates: tuple[PaperText, ...] = ()
    """The papers this copy can reorder (its cards and title lines): the only ones
    explained."""
    reasons: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    """Reasons as encoded so far (many subscribers share one: "because you liked …")."""
    flat: dict[tuple[str, str], _Flat] = field(default_factory=dict)
    """Each piece's segments as used per message: a constant piece as its joined bytes."""
    shared: dict[str, dict[str, _Flat]] = field(default_factory=dict)
    """Per body kind: every shared piece's :class:`_Flat` (what :meth:`body` joins)."""
    lines: dict[str, dict[str, tuple[_Flat, _Flat, _Flat]]] = field(default_factory=dict)
    """Per body kind: reason lines made so far, by reason."""
    unstuffed: dict[str, _Same | None] = field(default_factory=dict)
    """Per body kind: the blocks' pieces as bytes when dot-stuffing changes none."""
    constant_runs: dict[str, bool] = field(default_factory=dict)
    """Per body kind: whether its picks and sections are all constant pieces."""
    line_runs: dict[str, _LineRuns] = field(default_factory=dict)
    """Per body kind: each title line's pieces pre-joined (:meth:`_line_runs`)."""
    plain_reasons: dict[str, bytes] = field(default_factory=dict)
    """Reasons whose bytes are their text in both bodies (:func:`_plain_reason`)."""
    _columns: list[int] | None = None

    def segments(self, kind: str, pieces: list[str]) -> Segments:
        """One body: the pieces' encoded segments, a soft line break between two
        pieces, each run of constant bytes joined (a body is a few segments: the
        footer's links are its only slots; the vote token is a marker)."""
        plain: list[bytes] = []
        stuffed: list[bytes] = []
        out: Segments = []
        flat = self.flat
        for piece in pieces:
            if plain or out:
                plain.append(SOFT_BREAK)
                stuffed.append(SOFT_BREAK)
            if isinstance(piece, Reason):  # this subscriber's own: plain text, no slots
                data, data_stuffed = self._reason(piece)
                plain.append(data)
                stuffed.append(data_stuffed)
                continue
            found = flat.get((kind, piece))
            if found is None:
                found = _flat(self.encoded.get((kind, piece)) or encode_piece(kind, piece))
                flat[(kind, piece)] = found
            if found.constant:
                if found.any:
                    plain.append(found.plain)
                    stuffed.append(found.stuffed)
                continue
            for seg, st in found.segments:
                if isinstance(seg, bytes) and isinstance(st, bytes):
                    plain.append(seg)
                    stuffed.append(st)
                else:
                    if plain:
                        out.append((b"".join(plain), b"".join(stuffed)))
                        plain, stuffed = [], []
                    out.append((seg, st))
        if plain:
            out.append((b"".join(plain), b"".join(stuffed)))
        return out

    def body(
        self,
        kind: str,
        ranked: Sequence[str],
        reasons: dict[str, str],
        picks: int,
        arranged: Arrangement | None = None,
        own: dict[str, bytes] | None = None,
    ) -> Segments:
        """What :meth:`segments` makes of the layout's pieces (byte for byte, a test
        checks), from the pieces encoded once: the layout hands each shared piece's
        :class:`_Flat` and each reason line's, and a message joins their bytes.  A
        reason that is its own bytes (:func:`_plain_reason`) goes in as those bytes,
        no object made for it; ``arranged`` is the subscriber's arrangement of the
        cards when the other body made it already (:meth:`Body.arrange`), ``own`` the
        reasons that are their own bytes (:func:`reasons_as_bytes`) when made already."""
        made = self.layout.text if kind == "text" else self.layout.html
        shared = self.shared.get(kind)
        if shared is None:
            shared = self.shared[kind] = {
                piece: _flat(segments) for (k, piece), segments in self.encoded.items() if k == kind
            }
        lines = self.lines.setdefault(kind, {})
        before, after = shared[made.reason[0]], shared[made.reason[1]]
        plain_reasons = self.plain_reasons

        def line(reason: str) -> tuple[_Flat, _Flat | bytes, _Flat]:
            simple = plain_reasons.get(reason)
            if simple is None:
                if len(plain_reasons) > 50000:
                    plain_reasons.clear()
                simple = plain_reasons[reason] = _plain_reason(reason)
            if simple:  # the same bytes in both bodies: no escaping, no encoding
                return (before, simple, after)
            found = lines.get(reason)
            if found is None:  # made once: many subscribers share one ("because you liked")
                _, text, _ = made.reason_line(reason)
                data, data_stuffed = self._reason(text)
                found = (before, _Flat(True, True, data, data_stuffed, []), after)
                if len(lines) > 50000:
                    lines.clear()
                lines[reason] = found
            return found

        if self._runs_constant(kind, made, shared):
            arranged = arranged or made.arrange(ranked, picks)
            same = self._unstuffed(kind, made, shared)
            blocks = None
            if same is not None:
                if own is None:
                    own = reasons_as_bytes(reasons)
                blocks = self._runs_same(made, shared, same, arranged, reasons, line, own)
            flats = blocks or self._runs(
                made,
                shared,
                arranged,
                reasons,
                line,
                self._line_runs(kind, made, shared),
                own or {},
            )
        else:
            flats = made.pieces(ranked, reasons, picks, shared=shared, line=line, arranged=arranged)
        # as :meth:`segments`: a soft break between two pieces once anything is written,
        # so each run of constant pieces is those pieces joined by soft breaks
        out: Segments = []
        plain: list[bytes] = []  # the current run's pieces
        stuffed: list[bytes] = []
        add, add_stuffed = plain.append, stuffed.append
        started = False
        placeholder = False  # the run holds only the empty piece after a slot
        for found in flats:
            if found.__class__ is bytes:  # a plain reason (never empty)
                add(found)
                add_stuffed(found)
                started = True
                placeholder = False
                continue
            assert isinstance(found, _Flat)
            if found.constant:
                if found.any:
                    add(found.plain)
                    add_stuffed(found.stuffed)
                    started = True
                    placeholder = False
                elif started:  # an empty piece: two soft breaks in a row
                    add(b"")
                    add_stuffed(b"")
                    placeholder = False
                continue
            segments = found.segments
            if not segments:
                if started:
                    add(b"")
                    add_stuffed(b"")
                    placeholder = False
                continue
            head: list[tuple[bytes | str, bytes | str]] = []
            at = 0
            while at < len(segments) and isinstance(segments[at][0], bytes):
                head.append(segments[at])
                at += 1
            if head or started:  # the piece's constant start (and its soft break) ends the run
                add(b"".join(seg for seg, _ in head))  # type: ignore[misc]
                add_stuffed(b"".join(st for _, st in head))  # type: ignore[misc]
            if plain:
                out.append((SOFT_BREAK.join(plain), SOFT_BREAK.join(stuffed)))
                plain.clear()
                stuffed.clear()
            between: list[tuple[bytes | str, bytes | str]] = []
            for seg, st in segments[at:]:
                if isinstance(seg, bytes) and isinstance(st, bytes):
                    between.append((seg, st))
                else:
                    if between:
                        out.append(
                            (
                                b"".join(x for x, _ in between),  # type: ignore[misc]
                                b"".join(y for _, y in between),  # type: ignore[misc]
                            )
                        )
                        between = []
                    out.append((seg, st))
            # what follows the last slot starts the next run (empty: the soft break
            # before the next piece still goes in)
            add(b"".join(x for x, _ in between))  # type: ignore[misc]
            add_stuffed(b"".join(y for _, y in between))  # type: ignore[misc]
            placeholder = not between
            started = True
        if plain and not placeholder:
            out.append((SOFT_BREAK.join(plain), SOFT_BREAK.join(stuffed)))
        return out

    def _runs_constant(self, kind: str, made: Body, shared: dict[str, _Flat]) -> bool:
        """Whether every piece the picks and the sections are made of (cards, the text
        between them, the headings, the reason line around its reason) is constant, and
        all but the text between cards not empty: then :meth:`_runs` may join each
        block at once (made once per kind)."""
        found = self.constant_runs.get(kind)
        if found is None:
            pieces = [*made.cards.values(), made.head, made.moved, *made.reason]
            pieces += _title_pieces(made)
            # the text between two cards may be empty: within a block something is
            # always written before it, so it adds its soft break, as an empty b"" does
            gaps = [g for gaps in (*made.gaps, *made.title_gaps) for g in gaps]
            found = all(shared[p].constant and shared[p].any for p in pieces) and all(
                shared[g].constant for g in gaps
            )
            self.constant_runs[kind] = found
        return found

    def _unstuffed(self, kind: str, made: Body, shared: dict[str, _Flat]) -> _Same | None:
        """When every piece of the blocks is dot-stuffed as its bytes are where they
        follow a line break (``_stuffed``: a line that starts with "." gets a second one;
        no piece starts with one, so joining pieces by soft breaks makes no new such
        line), their bytes once, pre-joined where they always follow each other — each
        card alone, each card with the start of its reason line, the end of that line,
        the headings, the text between cards — for :meth:`_runs_same`, which stuffs
        each block once; else None.  Made once per kind."""
        if kind in self.unstuffed:
            return self.unstuffed[kind]
        pieces = [*made.cards.values(), made.head, made.moved, *made.reason]
        pieces += _title_pieces(made)
        pieces += [g for gaps in (*made.gaps, *made.title_gaps) for g in gaps]
        found = None
        if all(
            shared[p].stuffed == _stuffed(shared[p].plain) and not shared[p].plain.startswith(b".")
            for p in pieces
        ):
            before = shared[made.reason[0]].plain
            alone = {k: shared[c].plain for k, c in made.cards.items()}

            def plain(piece: str) -> bytes:
                return shared[piece].plain if piece else b""

            reason_start, reason_end = plain(made.title_reason[0]), plain(made.title_reason[1])

            def joined(*pieces: bytes) -> bytes:
                return SOFT_BREAK.join(p for p in pieces if p)

            lines = {k: (plain(h), plain(t)) for k, (h, t) in made.title_lines.items()}
            titles: _Titles = (
                {k: joined(h, reason_start) for k, (h, _) in lines.items()},
                {k: joined(reason_end, t) for k, (_, t) in lines.items()},
                {k: joined(h, t) for k, (h, t) in lines.items()},
                [plain(b) for b in made.bridges],
                [[shared[g].plain for g in gaps] for gaps in made.title_gaps],
            )
            found = (
                alone,
                {k: c + SOFT_BREAK + before for k, c in alone.items()},
                shared[made.reason[1]].plain,
                shared[made.head].plain,
                shared[made.moved].plain,
                [[shared[g].plain for g in gaps] for gaps in made.gaps],
                titles,
            )
        self.unstuffed[kind] = found
        return found

    @staticmethod
    def _runs_same(
        made: Body,
        shared: dict[str, _Flat],
        same: _Same,
        arranged: Arrangement,
        reasons: dict[str, str],
        line: Callable[[str], tuple[_Flat, _Flat | bytes, _Flat]],
        own: dict[str, bytes],
    ) -> list[_Flat | bytes]:
        """:meth:`_runs` when the blocks' pieces are dot-stuffed as their joined bytes are
        (:meth:`_unstuffed`): one list of bytes per block, fewer of them, each block
        stuffed once (:func:`_stuffed`; a reason's stuffed form is its bytes' too).
        ``own``: the cards' reasons that are their own bytes (:func:`reasons_as_bytes`),
        taken as they are; the others go through ``line``."""
        chosen, ordered = arranged
        alone, with_reason, after, head, moved, gaps_of, titled = same
        starts_before, ends_after, line_alone, bridges, between_of = titled
        titles_of = made.titles
        out: list[_Flat | bytes] = []
        plain: list[bytes] = []
        add, extend = plain.append, plain.extend
        for part in made.parts:
            if isinstance(part, str):
                out.append(shared[part])
                continue
            if part is None:
                if not chosen:
                    continue
                add(head)
                for key in chosen:
                    mid = own.get(key) or line(reasons.get(key, ""))[1]
                    if not isinstance(mid, bytes):
                        mid = mid.plain  # its stuffed form is _stuffed's (:meth:`_reason`)
                    extend((with_reason[key], mid, after))
            else:
                keys = ordered[part]
                n_lines = len(titles_of[part]) if titles_of else 0
                if n_lines:
                    keys, lines = keys[: len(keys) - n_lines], keys[len(keys) - n_lines :]
                elif not keys:
                    add(moved)
                gaps = gaps_of[part]
                for j, key in enumerate(keys):
                    if j:
                        add(gaps[j - 1])
                    found = own.get(key)
                    if found is not None:
                        mid = found
                    else:
                        reason = reasons.get(key)
                        if reason is None:
                            add(alone[key])
                            continue
                        mid = line(reason)[1]
                    if not isinstance(mid, bytes):
                        mid = mid.plain  # its stuffed form is _stuffed's (:meth:`_reason`)
                    extend((with_reason[key], mid, after))
                if n_lines:  # the title lines, as :meth:`Body.pieces` lays them out
                    if bridges[part]:
                        add(bridges[part])
                    between = between_of[part]
                    for j, key in enumerate(lines):
                        if j:
                            add(between[j - 1])
                        found = own.get(key)
                        if found is None:
                            reason = reasons.get(key)
                            if reason is None:
                                add(line_alone[key])
                                continue
                            mid = line(reason)[1]
                            if not isinstance(mid, bytes):
                                mid = mid.plain
                            found = mid
                        extend((starts_before[key], found, ends_after[key]))
            joined = SOFT_BREAK.join(plain)
            out.append(_Flat(True, True, joined, _stuffed(joined), []))
            plain.clear()
        return out

    def _line_runs(self, kind: str, made: Body, shared: dict[str, _Flat]) -> _LineRuns:
        """Each title line's pieces joined where they always follow each other (by soft
        breaks, as a block joins its pieces), made once per kind."""
        found = self.line_runs.get(kind)
        if found is None:
            found = {}
            if made.title_lines:
                before, after = (shared[p] for p in made.title_reason)
                for key, (start, end) in made.title_lines.items():
                    head = shared[start]
                    tail = shared[end] if end else None
                    found[key] = (
                        (head.plain + SOFT_BREAK + before.plain,
                         head.stuffed + SOFT_BREAK + before.stuffed),
                        (after.plain + SOFT_BREAK + tail.plain,
                         after.stuffed + SOFT_BREAK + tail.stuffed)
                        if tail else (after.plain, after.stuffed),
                        (head.plain + SOFT_BREAK + tail.plain,
                         head.stuffed + SOFT_BREAK + tail.stuffed)
                        if tail else (head.plain, head.stuffed),
                    )  # fmt: skip
            self.line_runs[kind] = found
        return found

    @staticmethod
    def _runs(
        made: Body,
        shared: dict[str, _Flat],
        arranged: Arrangement,
        reasons: dict[str, str],
        line: Callable[[str], tuple[_Flat, _Flat | bytes, _Flat]],
        line_runs: _LineRuns | None = None,
        own: dict[str, bytes] | None = None,
    ) -> list[_Flat | bytes]:
        """What :meth:`Body.pieces` lays out, with the picks and each section joined
        into one constant piece (its pieces joined by soft breaks, as the body's run
        joins them): the same bytes, a tenth of the pieces to walk.  Only when
        :meth:`_runs_constant`."""
        chosen, ordered = arranged
        cards = made.cards
        before, after = shared[made.reason[0]], shared[made.reason[1]]
        out: list[_Flat | bytes] = []
        plain: list[bytes] = []  # the block being joined
        stuffed: list[bytes] = []
        add, add_stuffed = plain.append, stuffed.append

        mine = own or {}  # reasons that are their own bytes: no look-up of their line

        def card(key: str, reason: str | None) -> None:
            found = shared[cards[key]]
            add(found.plain)
            add_stuffed(found.stuffed)
            if reason is not None:
                mid = mine.get(key) or line(reason)[1]
                add(before.plain)
                add_stuffed(before.stuffed)
                if isinstance(mid, bytes):
                    add(mid)
                    add_stuffed(mid)
                else:
                    add(mid.plain)
                    add_stuffed(mid.stuffed)
                add(after.plain)
                add_stuffed(after.stuffed)

        def piece(text: str) -> None:
            found = shared[text]
            add(found.plain)
            add_stuffed(found.stuffed)

        joined = line_runs or {}

        def title_line(key: str, reason: str | None) -> None:
            runs = joined.get(key)
            if runs is None:  # not pre-joined: piece by piece
                start, end = made.title_lines[key]
                piece(start)
                if reason is not None:
                    mid = line(reason)[1]
                    piece(made.title_reason[0])
                    add(mid if isinstance(mid, bytes) else mid.plain)
                    add_stuffed(mid if isinstance(mid, bytes) else mid.stuffed)
                    piece(made.title_reason[1])
                if end:
                    piece(end)
                return
            if reason is None:
                add(runs[2][0])
                add_stuffed(runs[2][1])
                return
            mid = mine.get(key) or line(reason)[1]
            add(runs[0][0])
            add_stuffed(runs[0][1])
            add(mid if isinstance(mid, bytes) else mid.plain)
            add_stuffed(mid if isinstance(mid, bytes) else mid.stuffed)
            add(runs[1][0])
            add_stuffed(runs[1][1])

        for part in made.parts:
            if isinstance(part, str):
                out.append(shared[part])
                continue
            if part is None:
                if not chosen:
                    continue
                head = shared[made.head]
                add(head.plain)
                add_stuffed(head.stuffed)
                for key in chosen:
                    card(key, reasons.get(key, ""))
            else:
                keys = ordered[part]
                n_lines = len(made.titles[part]) if made.titles else 0
                if n_lines:
                    keys, lines = keys[: len(keys) - n_lines], keys[len(keys) - n_lines :]
                elif not keys:
                    moved = shared[made.moved]
                    add(moved.plain)
                    add_stuffed(moved.stuffed)
                gaps = made.gaps[part]
                for j, key in enumerate(keys):
                    if j:
                        gap = shared[gaps[j - 1]]
                        add(gap.plain)
                        add_stuffed(gap.stuffed)
                    card(key, reasons.get(key))
                if n_lines:
                    if made.bridges[part]:
                        piece(made.bridges[part])
                    between = made.title_gaps[part]
                    for j, key in enumerate(lines):
                        if j:
                            piece(between[j - 1])
                        title_line(key, reasons.get(key))
            out.append(_Flat(True, True, SOFT_BREAK.join(plain), SOFT_BREAK.join(stuffed), []))
            plain.clear()
            stuffed.clear()
        return out

    def columns(self, column: dict[str, int]) -> list[int]:
        """The candidates' places among the edition's papers (the scores' columns)."""
        if self._columns is None:
            self._columns = [column[p.key] for p in self.candidates]
        return self._columns

    def _reason(self, reason: Reason) -> tuple[bytes, bytes]:
        found = self.reasons.get(reason)
        if found is None:  # a reason quotes a title: no marker may survive in it either
            data = binascii.b2a_qp(defuse(str(reason)).encode("utf-8"), istext=True).replace(
                b"\n", CRLF
            )
            if data.startswith(b"."):
                data = b"=2E" + data[1:]
            found = (data, data.replace(b"\r\n.", b"\r\n.."))
            if len(self.reasons) > 20000:
                self.reasons.clear()
            self.reasons[reason] = found
        return found


@dataclass(frozen=True)
class _Models:
    """The edition's models once brought up to date: the vocabulary and who has one."""

    vocabulary: Vocabulary
    version: int
    ids: tuple[int, ...]
    """The subscribers with a stored model, sorted (the batches are cut from it)."""
    retrained: int


@dataclass
class _Batch:
    """One batch of subscribers' models and their scores on every edition paper."""

    ranker: Ranker
    rows: dict[int, int]
    scores: Any  # numpy (subscribers × edition papers)
    liked: dict[int, Any]
    """Each subscriber's liked papers as columns of :attr:`Ranking._similarity`."""
    explained: dict[int, dict[int, Ordered]] = field(default_factory=dict)
    """Per copy (by id): each subscriber's cards in order, with reasons."""


class Ranking:
    """The ranked copies of one edition (models brought up to date once; shared by the
    delivery workers)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        edition: Edition,
        sender: Callable[[], Sender],
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.db = db
        self.edition = edition
        self.sender = sender
        self.clock = clock
        self.picks = settings.ranking.top_picks
        self.candidates = tuple(
            PaperText(p.key, p.title, p.abstract, p.authors, p.topics) for p in edition.papers
        )
        self._column = {p.key: i for i, p in enumerate(self.candidates)}
        self._lock = threading.Lock()
        self._batch_lock = threading.Lock()
        self._trained = False
        self._models: _Models | None = None
        self._batches: OrderedDict[int, _Batch] = OrderedDict()
        self._rows_cache: dict[tuple[str, ...], tuple[Any, Any, Any]] = {}
        self._liked: dict[str, int] = {}
        """A liked paper's column in :attr:`_similarity` (and :attr:`_liked_titles`)."""
        self._liked_titles: list[str] = []
        self._absent: set[str] = set()
        """Liked keys not in the store (a purged paper): not looked up again."""
        self._edition_words: Any = None
        self._similarity: Any = None
        """Edition papers × liked papers: the cosine of their words (numpy, dense)."""
        self._copies: dict[frozenset[str] | None, _Copy | None] = {}
        self._topics: dict[int, frozenset[str] | None] = {}
        """Each subscriber's topics as the pass began (None: all)."""
        self.train_seconds = 0.0
        self.batches_loaded = 0
        """How many batches of models were read and scored (a test checks the streaming)."""
        self.most_held = 0
        """The most models held at once."""

    def models(self) -> _Models | None:
        """The models of this edition's pass, brought up to date on first use (None:
        nobody votes)."""
        if not self._trained:
            with self._lock:
                if not self._trained:
                    started = time.perf_counter()
                    self._models = self._update()
                    self.train_seconds = time.perf_counter() - started
                    self._trained = True
                    if self._models is not None:
                        log.info(
                            "ranking: %d subscribers with a model, %d retrained, in %.1f s",
                            len(self._models.ids),
                            self._models.retrained,
                            self.train_seconds,
                        )
        return self._models

    def _update(self) -> _Models | None:
        with self.db.read() as tx:
            fingerprints = tx.ranking.fingerprints()
        if not fingerprints:
            return None
        try:
            vocabulary, version = self._vocabulary()
        except RankingError as exc:
            log.warning("ranking: nothing to train on (%s); every email keeps its order", exc)
            return None
        with self.db.read() as tx:
            trained = tx.ranking.trained()
        stale = sorted(s for s, f in fingerprints.items() if trained.get(s) != (version, f))
        if stale:
            self._retrain(vocabulary, version, stale, fingerprints)
        with self.db.read() as tx:
            have = tx.ranking.with_model(version)
        ids = tuple(sorted(set(fingerprints) & have))
        # who shares a copy (their reasons are made together): their topics in this
        # edition, as the ledger claims them (every topic of it for one who picked none)
        edition_topics = topics_of(self.edition)
        with self.db.read() as tx:
            self._topics = {
                s.id: edition_topics if s.topics is None else edition_topics & s.topics
                for s in tx.subscribers.all()
            }
        return _Models(vocabulary, version, ids, len(stale))

    def _corpus(self) -> list[PaperText]:
        """The papers the vocabulary is fitted on and the models drawn from: the newest
        :data:`CORPUS_PAPERS`, every voted paper, and this edition's."""
        with self.db.read() as tx:
            rows = {r.key: r for r in tx.votes.corpus(CORPUS_PAPERS)}
            voted = tx.ranking.voted_keys()
            rows.update((r.key, r) for r in tx.votes.papers(voted - set(rows)))
            # the same features as the evaluation: each paper's topics as published
            tagged = tx.votes.topics(rows)
        ours = {p.key: p.topics for p in self.candidates}
        corpus = [
            PaperText(r.key, r.title, r.abstract, (), ours.get(r.key) or tagged.get(r.key, ()))
            for r in rows.values()
        ]
        return corpus + [p for p in self.candidates if p.key not in rows]

    def _vocabulary(self) -> tuple[Vocabulary, int]:
        """The stored vocabulary, or a new one when there is none or the store has grown
        :data:`REFIT_GROWTH`-fold since it was fitted."""
        tuning = Tuning()
        with self.db.read() as tx:
            stored = tx.ranking.vocabulary()
            papers = tx.ranking.paper_count()
        if stored is not None and papers < REFIT_GROWTH * max(stored.papers, 1):
            return Vocabulary.restore(stored.state, tuning), stored.version
        corpus = self._corpus()
        try:
            vocabulary = Vocabulary(corpus, tuning)
        except ValueError as exc:  # "empty vocabulary": every text is stop words or nothing
            raise RankingError(f"the {len(corpus)} corpus papers have no usable words") from exc
        with self.db.write() as tx:
            version = tx.ranking.save_vocabulary(max(papers, 1), vocabulary.state(), self.clock())
        log.info(
            "ranking: vocabulary %d fitted on %d papers (%d terms); every model retrains",
            version,
            len(corpus),
            len(vocabulary.terms),
        )
        return vocabulary, version

    def _retrain(
        self, vocabulary: Vocabulary, version: int, stale: list[int], fingerprints: dict[int, str]
    ) -> None:
        """Fit and store the models of ``stale``, :data:`TRAIN_BATCH` at a time."""
        corpus = self._corpus()
        matrices = (vocabulary.rows(corpus), vocabulary.tags(corpus))
        wanted = set(stale)
        with self.db.read() as tx:
            picked = {s.id: s.topics for s in tx.subscribers.all() if s.id in wanted}
        edition_topics = topics_of(self.edition)
        topics = {  # what each one's copy holds: their topics in this edition (None: all)
            sid: None if chosen is None else chosen & edition_topics
            for sid, chosen in picked.items()
        }
        for i in range(0, len(stale), TRAIN_BATCH):
            batch = stale[i : i + TRAIN_BATCH]
            with self.db.read() as tx:
                stored = tx.votes.rankable(batch)
                shown = tx.votes.shown(batch)
            votes = {
                sid: [Vote(v.paper_key, v.liked, v.at, v.seeded) for v in vs]
                for sid, vs in stored.items()
            }
            profiles = fit_profiles(vocabulary, corpus, matrices, votes, shown, topics=topics)
            blobs = [
                (sid, fingerprints[sid], persist.encode(profiles[sid]) if sid in profiles else None)
                for sid in batch
            ]
            with self.db.write() as tx:
                tx.ranking.save_models(version, blobs, self.clock())

    def _scored(
        self,
        subscriber: int,
        models: _Models,
        copy: _Copy,
        topics: frozenset[str] | None = None,
    ) -> list[Scored]:
        """``subscriber``'s order of ``copy``'s cards, with reasons, from their batch."""
        found = self._ordered(subscriber, models, copy, topics)
        return [] if found is None else [Scored(*x) for x in zip(*found, strict=True)]

    def _ordered(
        self,
        subscriber: int,
        models: _Models,
        copy: _Copy,
        topics: frozenset[str] | None = None,
    ) -> Ordered | None:
        """:meth:`_scored` as lists (:meth:`newsletter.ranking.Ranker.ordered_many`)."""
        at = bisect.bisect_left(models.ids, subscriber)
        index = at // SCORE_BATCH
        with self._batch_lock:
            batch = self._batches.get(index)
            if batch is None:
                batch = self._load(
                    models, models.ids[index * SCORE_BATCH : (index + 1) * SCORE_BATCH]
                )
                self._batches[index] = batch
                while len(self._batches) > KEEP_BATCHES:
                    self._batches.popitem(last=False)
                held = sum(len(b.rows) for b in self._batches.values())
                self.most_held = max(self.most_held, held)
            else:
                self._batches.move_to_end(index)
            if subscriber not in batch.rows:
                return None
            explained = batch.explained.setdefault(id(copy), {})
            if subscriber not in explained:  # all of the batch on this copy, at once
                group = [
                    s
                    for s in batch.rows
                    if s not in explained and self._topics.get(s, _UNKNOWN) == topics
                ]
                if group:
                    explained.update(self._explain(batch, copy, sorted({*group, subscriber})))
                else:  # topics changed since the pass began: this one alone
                    return self._explain_one(subscriber, batch, copy)
        return explained[subscriber]

    def _explain_one(self, subscriber: int, batch: _Batch, copy: _Copy) -> Ordered:
        import numpy as np

        columns = copy.columns(self._column)
        theirs = batch.liked[subscriber]
        similarity = (
            self._similarity[columns][:, theirs]
            if self._similarity is not None
            else np.zeros((len(columns), 0))
        )
        row = batch.scores[batch.rows[subscriber], columns]
        found = batch.ranker.explained(subscriber, copy.candidates, row, similarity)
        return (
            [x.paper_key for x in found],
            [x.score for x in found],
            [x.reason for x in found],
        )

    def _explain(self, batch: _Batch, copy: _Copy, chosen: list[int]) -> dict[int, Ordered]:
        """``chosen`` subscribers of ``batch``: ``copy``'s cards in their order, with reasons."""
        import numpy as np

        columns = copy.columns(self._column)
        similarity = self._similarity[columns] if self._similarity is not None else None
        near = [
            similarity[:, batch.liked[s]] if similarity is not None else np.zeros((len(columns), 0))
            for s in chosen
        ]
        rows = [batch.rows[s] for s in chosen]
        return batch.ranker.ordered_many(
            chosen, copy.candidates, batch.scores[rows][:, columns], near
        )

    def _load(self, models: _Models, ids: Sequence[int]) -> _Batch:
        """Read a batch's models and score every edition paper for them at once."""
        with self.db.read() as tx:
            blobs = list(tx.ranking.models(models.version, ids))
            liked_keys = {sid: persist.liked_keys(blob) for sid, blob in blobs}
            wanted = {k for keys in liked_keys.values() for k in keys}
            missing = wanted - set(self._liked) - self._absent
            if missing:
                found = tx.votes.papers(missing)
        if missing:
            self._absent |= missing - {r.key for r in found}
            self._add_liked(models, [PaperText(r.key, r.title, r.abstract) for r in found])
        profiles = {}
        liked: dict[int, Any] = {}
        import numpy as np

        for sid, blob in blobs:
            keys = [k for k in liked_keys[sid] if k in self._liked]
            liked[sid] = np.array([self._liked[k] for k in keys], dtype=np.int64)
            # no liked rows: their similarity to every edition paper is computed once
            # per edition (:meth:`_add_liked`) and handed to the reasons by column
            profiles[sid] = persist.decode(
                blob, None, [self._liked_titles[self._liked[k]] for k in keys], liked_keys[sid]
            )
        ranker = Ranker(models.vocabulary, {}, profiles, self._rows_cache)
        chosen = sorted(profiles)
        self.batches_loaded += 1
        return _Batch(
            ranker,
            {s: i for i, s in enumerate(chosen)},
            ranker.scores(chosen, self.candidates),
            liked,
        )

    def _add_liked(self, models: _Models, papers: Sequence[PaperText]) -> None:
        """Give ``papers`` (liked by someone) a column of the edition's similarity matrix:
        the cosine of each edition paper's words with theirs, computed once per edition
        for every subscriber who liked them."""
        import numpy as np

        if not papers:
            return
        vocabulary = models.vocabulary
        if self._edition_words is None:
            self._edition_words = vocabulary.rows(self.candidates)[:, : vocabulary.words].tocsr()
        words = vocabulary.rows(papers)[:, : vocabulary.words].tocsr()
        block = np.asarray((self._edition_words @ words.T).toarray())
        self._similarity = (
            block if self._similarity is None else np.hstack([self._similarity, block])
        )
        for paper in papers:
            self._liked[paper.key] = len(self._liked_titles)
            self._liked_titles.append(paper.title)

    def compiled(self, subscriber_id: int, topics: frozenset[str] | None) -> CompiledMessage | None:
        """The subscriber's own message (slots still open), or None for the shared one."""
        models = self.models()
        if models is None:
            return None
        at = bisect.bisect_left(models.ids, subscriber_id)
        if at == len(models.ids) or models.ids[at] != subscriber_id:
            return None
        copy = self._copy(topics)
        if copy is None or not copy.candidates:
            return None
        found = self._ordered(subscriber_id, models, copy, topics)
        if found is None or not found[0]:
            return None
        ranked, _, said = found
        reasons = {k: r for k, r in zip(ranked, said, strict=True) if r}
        picks = strong_picks(said, self.picks)
        arranged = copy.layout.text.arrange(ranked, picks)  # the same in both bodies
        plain = reasons_as_bytes(reasons)  # and these reasons' bytes
        return copy.frame.spliced(
            copy.body("text", ranked, reasons, picks, arranged, plain),
            copy.body("html", ranked, reasons, picks, arranged, plain),
            repeated=VOTE_MARKS,
        )

    def _copy(self, topics: frozenset[str] | None) -> _Copy | None:
        if topics in self._copies:
            return self._copies[topics]
        with self._lock:
            if topics not in self._copies:
                self._copies[topics] = self._build(topics)
            return self._copies[topics]

    def _build(self, topics: frozenset[str] | None) -> _Copy | None:
        made = layout(self.edition, self.settings, topics, self.picks)
        if made is None:
            return None
        encoded = encode_layout(made)
        frame = DigestFrame.build(self.sender(), made.subject, self.clock())
        # in the copy's order (the topic filter's, for a subscriber with topics): the
        # order a subscriber's blend falls back to (``ranking.ranker.fuse``)
        by_key = {p.key: p for p in self.candidates}
        candidates = tuple(by_key[k] for k in dict.fromkeys(made.papers) if k in by_key)
        return _Copy(made, frame, encoded, candidates)


WEAK_REASONS = frozenset({NO_MATCH, DISLIKED_ONLY})
"""Reasons that say the votes found nothing for a paper: it is not a top pick."""


def strong_picks(said: Sequence[str], picks: int) -> int:
    """How many "Top picks for you" a subscriber gets: the leading papers of their order
    (at most ``picks``) whose reason names a match — a liked paper, matching words,
    a topic they liked.  A pick reading "no strong match with your votes", or every
    pick of a reader with only 👎 ("ranked by the papers you marked 👎"), contradicts
    its heading; such papers stay in their sections, in the reader's order."""
    strong = 0
    for reason in said[:picks]:
        if reason in WEAK_REASONS:
            break
        strong += 1
    return strong

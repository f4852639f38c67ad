"""Ranked delivery: each subscriber who voted gets the edition in their own order.

Once per edition (on the first message a delivery pass builds), the votes of
every confirmed subscriber with ranking on are read, and one
:func:`newsletter.ranking.train` fits the vocabulary on the store's papers and
a model per subscriber (their 👍, 👎, and papers they were sent but did not
vote on).  No votes anywhere: nothing is trained and every message is the
shared one — an installation that never votes pays nothing.

Per topic set, the ranked copy is rendered once and cut
(:func:`newsletter.render.picks.layout`); each piece of it (constant text,
every card) is encoded to quoted-printable once.  A ranked subscriber's
message is then their order of those shared pieces plus their reasons, joined
in the same :class:`~newsletter.delivery.message.DigestFrame` — no render, no
MIME build per subscriber; the recipient's links are spliced as in every
message.  A subscriber without a model (no votes, ranking off) gets exactly
the shared message.
"""

from __future__ import annotations

import binascii
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

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
from newsletter.ranking import PaperText, Ranker, RankingError, Vote, train
from newsletter.render.picks import RankedLayout, Reason, layout
from newsletter.render.recipients import VOTE_TOKEN
from newsletter.store import Database

log = logging.getLogger(__name__)

CORPUS_PAPERS = 20000
"""The newest stored papers the vocabulary is fitted on (plus every voted paper)."""

Segments = list[tuple[bytes | str, bytes | str]]


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
        constant += [*body.cards.values(), body.head, *body.reason]
        for piece in constant:
            encoded[(kind, piece)] = encode_piece(kind, piece)
    return encoded


@dataclass
class _Copy:
    """One topic set's ranked copy: its layout, its frame and its encoded pieces."""

    layout: RankedLayout
    frame: DigestFrame
    encoded: dict[tuple[str, str], Segments]
    candidates: tuple[PaperText, ...] = ()
    """The papers this copy can reorder (its cards): the only ones scored and explained."""
    reasons: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    """Reasons as encoded so far (many subscribers share one: "because you liked …")."""

    def segments(self, kind: str, pieces: list[str]) -> Segments:
        """One body: the pieces' encoded segments, a soft line break between two
        pieces, each run of constant bytes joined (a body is a few segments: the
        footer's links are its only slots; the vote token is a marker)."""
        plain: list[bytes] = []
        stuffed: list[bytes] = []
        out: Segments = []
        encoded = self.encoded
        for piece in pieces:
            if plain or out:
                plain.append(SOFT_BREAK)
                stuffed.append(SOFT_BREAK)
            if isinstance(piece, Reason):  # this subscriber's own: plain text, no slots
                found: Segments = [self._reason(piece)]
            else:
                found = encoded.get((kind, piece)) or encode_piece(kind, piece)
            for seg, st in found:
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

    def _reason(self, reason: Reason) -> tuple[bytes, bytes]:
        found = self.reasons.get(reason)
        if found is None:
            data = binascii.b2a_qp(reason.encode("utf-8"), istext=True).replace(b"\n", CRLF)
            if data.startswith(b"."):
                data = b"=2E" + data[1:]
            found = (data, data.replace(b"\r\n.", b"\r\n.."))
            if len(self.reasons) > 20000:
                self.reasons.clear()
            self.reasons[reason] = found
        return found


class Ranking:
    """The ranked copies of one edition (trained once; shared by the delivery workers)."""

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
        self._lock = threading.Lock()
        self._trained = False
        self._ranker: Ranker | None = None
        self._copies: dict[frozenset[str] | None, _Copy | None] = {}
        self.train_seconds = 0.0

    def ranker(self) -> Ranker | None:
        """The models of this edition's pass, trained on first use (None: nobody voted)."""
        if not self._trained:
            with self._lock:
                if not self._trained:
                    started = time.perf_counter()
                    self._ranker = self._train()
                    self.train_seconds = time.perf_counter() - started
                    self._trained = True
                    if self._ranker is not None:
                        log.info(
                            "ranking: %d subscribers with a model, trained in %.1f s",
                            len(self._ranker.subscribers),
                            self.train_seconds,
                        )
        return self._ranker

    def _train(self) -> Ranker | None:
        with self.db.read() as tx:
            stored = tx.votes.rankable()
            if not stored:
                return None
            shown = tx.votes.shown(stored)
            voted = {v.paper_key for vs in stored.values() for v in vs}
            rows = {r.key: r for r in tx.votes.corpus(CORPUS_PAPERS)}
            rows.update((r.key, r) for r in tx.votes.papers(voted - set(rows)))
            # the same features as the evaluation: each paper's topics as published
            tagged = tx.votes.topics(rows)
            picked = {s.id: s.topics for s in tx.subscribers.all() if s.id in stored}
        ours = {p.key: p.topics for p in self.candidates}
        corpus = [
            PaperText(r.key, r.title, r.abstract, (), ours.get(r.key) or tagged.get(r.key, ()))
            for r in rows.values()
        ]
        corpus += [p for p in self.candidates if p.key not in rows]
        votes = {
            sid: [Vote(v.paper_key, v.liked, v.at, v.seeded) for v in vs]
            for sid, vs in stored.items()
        }
        edition_topics = topics_of(self.edition)
        topics = {  # what each one's copy holds: their topics in this edition (None: all)
            sid: None if chosen is None else chosen & edition_topics
            for sid, chosen in picked.items()
        }
        try:
            ranker = train(corpus, votes, shown, topics=topics)
        except RankingError as exc:
            log.warning("ranking: nothing to train on (%s); every email keeps its order", exc)
            return None
        return ranker

    def compiled(self, subscriber_id: int, topics: frozenset[str] | None) -> CompiledMessage | None:
        """The subscriber's own message (slots still open), or None for the shared one."""
        ranker = self.ranker()
        if ranker is None or not ranker.has_model(subscriber_id):
            return None
        copy = self._copy(topics)
        if copy is None:
            return None
        scored = ranker.rank(subscriber_id, copy.candidates)
        ranked = [s.paper_key for s in scored]
        reasons = {s.paper_key: s.reason for s in scored if s.reason}
        text = copy.layout.text.pieces(ranked, reasons, self.picks)
        html = copy.layout.html.pieces(ranked, reasons, self.picks)
        return copy.frame.spliced(
            copy.segments("text", text), copy.segments("html", html), repeated=VOTE_MARKS
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
        candidates = tuple(by_key[k] for k in dict.fromkeys(made.keys) if k in by_key)
        return _Copy(made, frame, encoded, candidates)

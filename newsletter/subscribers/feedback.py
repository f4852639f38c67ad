"""Votes: the signed 👍/👎 links of an edition, recording a vote, seeds, reset, the switch.

A subscriber's email carries, under each card, a 👍 and a 👎 link to
``/v/<token>/<ref>/up|down``, where ``ref`` is the paper's :func:`paper_ref` (8
characters, resolved against the papers of the token's edition), so that a link
weighs the same whatever the paper's key (a title key is a whole title,
urlencoded).  Links sent before, ``/vote?t=<token>&p=<paper key>&v=up|down``,
keep working.  The token is signed like the
unsubscribe token (:class:`~newsletter.subscribers.tokens.Tokens`, its own
purpose and salt, valid :data:`~newsletter.subscribers.tokens.VOTE_SECONDS`)
and carries the subscriber's ``public_id`` and the edition (date and number),
never the address.  The paper is a parameter, checked against what that edition
published: the token lets its holder vote as that subscriber on that edition's
papers — exactly what the links of that email do — and nothing else.  One
token per recipient and edition keeps delivery's per-recipient cost one
signature, however many cards the email has (a signature per card would be
100 per recipient).

A GET of the link only shows a page with a button (link scanners follow every
GET); the POST records the vote (:meth:`Feedback.vote`), idempotently.

Seeds ("papers I like"): arXiv ids or titles, resolved against the papers the
store has seen; each is recorded as a 👍 marked ``seeded``.  Reset forgets
every vote and seed; the switch turns ranking off (the email goes back to the
digest order) without forgetting.  All of it stays in this installation's
database: nothing here is ever published or sent anywhere.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from newsletter.identity import parse_arxiv_id, title_key
from newsletter.model import Edition
from newsletter.states import SubscriberStatus, VoteChange
from newsletter.store import Database
from newsletter.store.subscribers import Subscriber
from newsletter.store.votes import StoredVote
from newsletter.subscribers.tokens import VOTE, VOTE_SECONDS, PreparedHmac, TokenError, Tokens
from newsletter.urls import REF_CHARS, paper_ref

UP = "up"
DOWN = "down"
DIRECTIONS = (UP, DOWN)
MAX_SEEDS = 50
"""Most seeds one request may name."""


def vote_token(tokens: Tokens, public_id: str, edition: Edition) -> str:
    """The signed token of one recipient's 👍/👎 links in ``edition``: compact, since an
    email carries it twice per card.

    ``<public_id>.<edition date YYYYMMDD><number>.<day issued>.<signature>``: the
    edition as digits, the day it was made (days since 1970, base 36: the link
    expires :data:`~newsletter.subscribers.tokens.VOTE_SECONDS` after it), and the
    first 12 bytes of an HMAC-SHA256 over the rest with a key derived for votes
    alone (so no other purpose's token is one).  About 52 characters, where the
    itsdangerous token of the first vote links took 85; those are still read."""
    issued = tokens.seconds() // _DAY
    value = f"{public_id}.{_edition_digits(edition.date, edition.number)}.{_base36(issued)}"
    return f"{value}.{_sign(tokens, value)}"


@functools.lru_cache(maxsize=64)
def _edition_digits(day: date, number: int) -> str:
    """``YYYYMMDD<number>``: formatted once per edition, not once per recipient."""
    return f"{day:%Y%m%d}{number}"


_DAY = 24 * 3600
_SIGNATURE_BYTES = 12
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_VOTE_KEYS: dict[bytes, PreparedHmac] = {}


@functools.lru_cache(maxsize=64)
def _base36(n: int) -> str:
    """``n`` in base 36 (a day number: the same for every recipient of a day, so cached)."""
    out = ""
    while True:
        n, digit = divmod(n, 36)
        out = _DIGITS[digit] + out
        if not n:
            return out


def _sign(tokens: Tokens, value: str) -> str:
    key = _VOTE_KEYS.get(tokens.secret)
    if key is None:  # the HMAC's two states prepared once per key (see tokens.PreparedHmac)
        derived = hashlib.sha256(b"newsletter/vote/v2" + tokens.secret).digest()
        key = _VOTE_KEYS[tokens.secret] = PreparedHmac(derived, "sha256")
    mac = key.digest(value.encode("ascii"))[:_SIGNATURE_BYTES]
    return binascii.b2a_base64(mac, newline=False).translate(_URL_SAFE).decode("ascii")


_URL_SAFE = bytes.maketrans(b"+/", b"-_")
"""Base64 to its URL-safe alphabet (``base64.urlsafe_b64encode`` without its layers;
12 bytes need no padding)."""


@dataclass(frozen=True)
class Ballot:
    """What a vote link names: whose vote, on which edition."""

    public_id: str
    day: date
    number: int


def read_vote_token(tokens: Tokens, token: str) -> Ballot:
    """The subscriber and edition of a vote token (compact, or the itsdangerous token
    of links sent before), or TokenError."""
    if not token or len(token) > 400:
        raise TokenError("this link is incomplete or not valid", "invalid")
    parts = token.split(".")
    if len(parts) != 4:  # an itsdangerous token (payload.timestamp.signature)
        return _ballot(tokens.check(VOTE, token))
    public_id, edition, issued, signature = parts
    value = f"{public_id}.{edition}.{issued}"
    if not value.isascii() or not hmac.compare_digest(_sign(tokens, value), signature):
        raise TokenError(
            "this link is not valid here (altered, or made for another page)", "invalid"
        )
    try:
        day = datetime.strptime(edition[:8], "%Y%m%d").date()
        number = int(edition[8:])
        made = int(issued, 36) * _DAY
    except ValueError:
        raise TokenError("this link is not valid here", "invalid") from None
    if tokens.clock().timestamp() - made > VOTE_SECONDS + _DAY:
        raise TokenError("this link has expired", "expired")
    return Ballot(public_id, day, number)


def _ballot(value: str) -> Ballot:
    public_id, _, rest = value.partition(".")
    day_text, _, number_text = rest.partition(".")
    try:
        return Ballot(public_id, date.fromisoformat(day_text), int(number_text))
    except ValueError:
        raise TokenError("this link is not valid here", "invalid") from None


@dataclass(frozen=True)
class Seeded:
    """What seeding did: the papers found (name as typed, paper title; one entry per
    paper, however many of the names typed are it), the names the store does not know,
    and those past :data:`MAX_SEEDS`, not looked up (so none is dropped unsaid)."""

    found: tuple[tuple[str, str], ...]
    unknown: tuple[str, ...]
    over: tuple[str, ...] = ()


class VoteRefused(TokenError):
    """A vote the link cannot make (an address no longer on the list, a paper not in
    that edition)."""


class Feedback:
    """Every change of a subscriber's votes goes through here."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def vote(self, ballot: Ballot, paper_key: str, liked: bool, now: datetime) -> VoteChange:
        """Record 👍 (``liked``) or 👎 on ``paper_key`` from the ballot's edition."""
        with self.db.write() as tx:
            subscriber = tx.subscribers.by_public_id(ballot.public_id)
            if subscriber is None:
                raise VoteRefused(
                    "this link belongs to an address that is no longer on the list", "gone"
                )
            _still_subscribed(subscriber)
            edition_id = tx.votes.edition_id(ballot.day, ballot.number)
            if edition_id is None or not tx.votes.in_edition(paper_key, edition_id):
                raise VoteRefused("this link does not name a paper of that edition", "invalid")
            return tx.votes.record(subscriber.id, paper_key, liked, now, edition_id=edition_id)

    def resolve(self, ballot: Ballot, ref: str) -> str | None:
        """The key of the paper of the ballot's edition whose :func:`paper_ref` is ``ref``;
        None when no paper (or, by a hash collision, more than one) has it."""
        if len(ref) != REF_CHARS:
            return None
        with self.db.read() as tx:
            edition_id = tx.votes.edition_id(ballot.day, ballot.number)
            keys = [] if edition_id is None else tx.votes.edition_papers(edition_id)
        found = [key for key in keys if paper_ref(key) == ref]
        return found[0] if len(found) == 1 else None

    def paper_title(self, paper_key: str) -> str | None:
        with self.db.read() as tx:
            found = tx.votes.paper(paper_key)
        return None if found is None else found.title

    def current(self, subscriber: Subscriber, paper_key: str) -> bool | None:
        """The subscriber's vote on ``paper_key``: True 👍, False 👎, None none."""
        for vote in self.votes_of(subscriber):
            if vote.paper_key == paper_key:
                return vote.liked
        return None

    def votes_of(self, subscriber: Subscriber) -> list[StoredVote]:
        with self.db.read() as tx:
            return tx.votes.of(subscriber.id)

    def seed(self, subscriber: Subscriber, names: Iterable[str], now: datetime) -> Seeded:
        """Record a seeded 👍 for each named paper the store knows; report the others."""
        typed = _names(names)
        wanted, over = typed[:MAX_SEEDS], typed[MAX_SEEDS:]
        found: list[tuple[str, str]] = []
        unknown: list[str] = []
        keys: set[str] = set()
        with self.db.write() as tx:
            _still_subscribed(tx.subscribers.by_id(subscriber.id))
            for name in wanted:
                arxiv = parse_arxiv_id(name)
                paper = tx.votes.find(
                    arxiv_id=arxiv.id if arxiv else None,
                    title_key=None if arxiv else title_key(name),
                )
                if paper is None:
                    unknown.append(name)
                    continue
                if paper.key in keys:  # "Visual Dialog" and "VISUAL DIALOG": one paper
                    continue
                keys.add(paper.key)
                tx.votes.record(subscriber.id, paper.key, True, now, seeded=True)
                found.append((name, paper.title))
        return Seeded(tuple(found), tuple(unknown), tuple(over))

    def reset(self, subscriber: Subscriber) -> int:
        """Forget every vote and seed; how many there were."""
        with self.db.write() as tx:
            return tx.votes.reset(subscriber.id)

    def ranking_enabled(self, subscriber: Subscriber) -> bool:
        with self.db.read() as tx:
            return tx.votes.ranking_enabled(subscriber.id)

    def set_ranking(self, subscriber: Subscriber, enabled: bool, now: datetime) -> bool:
        """Switch ranking on or off (votes are kept); whether it changed."""
        with self.db.write() as tx:
            _still_subscribed(tx.subscribers.by_id(subscriber.id))
            return tx.votes.set_ranking(subscriber.id, enabled, now)


def _still_subscribed(subscriber: Subscriber | None) -> None:
    """Votes, seeds and the ranking switch are kept only for a confirmed subscriber,
    checked in the transaction that writes them: an unsubscribe deletes them, and one
    committed while a vote page was open must not be followed by a new vote."""
    if subscriber is None or subscriber.status != SubscriberStatus.CONFIRMED:
        raise VoteRefused("this address is not subscribed any more", "gone")


def _names(names: Iterable[str]) -> Sequence[str]:
    """The names typed, one per line or comma-free item, blanks dropped, in order and
    without repeats (the caller reads the first :data:`MAX_SEEDS`)."""
    out: list[str] = []
    for raw in names:
        for line in raw.splitlines():
            name = " ".join(line.split())[:300]
            if name and name not in out:
                out.append(name)
    return out

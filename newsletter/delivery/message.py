"""Email messages: the digest compiled once per topic set, spliced per recipient.

Building an ``EmailMessage`` per recipient costs milliseconds (DESIGN.md);
a newsletter to thousands must not.  So :func:`compile_digest` turns one
:class:`~newsletter.render.RenderedEmail` (with placeholder tokens for the
recipient's links) into a :class:`CompiledMessage`: the finished wire bytes
cut into constant segments and named *slots*.  :meth:`CompiledMessage.for_recipient`
joins the segments with the recipient's values — ``To``, ``Message-ID``,
``List-Unsubscribe`` and the quoted-printable links in both bodies — which
costs microseconds.

How slots stay valid MIME: both bodies are quoted-printable.  Each constant
chunk between two tokens is encoded on its own and every slot sits between
two *soft* line breaks (``=`` CRLF), which decoders remove; so a slot can hold
a URL of any length without breaking the 76-character line rule or the
encoding of its neighbours.

Injection: every per-recipient value is checked for CR, LF and other control
characters before it is spliced (addresses are validated earlier too), and
constant headers go through the ``email`` package's strict policy, which
refuses line breaks in header values.

The message: multipart/alternative (text first, then HTML), From, To,
Subject, Date, Message-ID (stable across retries: it comes from the send
ledger), List-Id, List-Unsubscribe (https one-click URL and mailto),
List-Unsubscribe-Post.  Optional DKIM signing (dkimpy) covers the list headers.
Confirmation emails (:func:`confirmation_message`) are not list mail and carry
no list headers.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

from newsletter.errors import NewsletterError
from newsletter.render import PREFERENCES_TOKEN, UNSUBSCRIBE_TOKEN, VOTE_TOKEN, RenderedEmail

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
_TOKENS = re.compile(
    f"({re.escape(UNSUBSCRIBE_TOKEN)}|{re.escape(PREFERENCES_TOKEN)}|{re.escape(VOTE_TOKEN)})"
)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN = re.compile(r"[A-Za-z0-9_.~ -]*")
DKIM_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Id",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"MIME-Version",
    b"Content-Type",
)


class HeaderInjection(NewsletterError):
    """A value meant for a header contains a line break or another control character."""

    default_hint = "nothing was sent with it; remove the control character from that value"


@dataclass(frozen=True)
class Sender:
    """Who sends: display name, address, list identity and the optional DKIM key."""

    name: str
    address: str
    list_id: str
    unsubscribe_mailto: str
    dkim: Dkim | None = None


@dataclass(frozen=True)
class Dkim:
    """A DKIM signing key: ``d=`` domain, ``s=`` selector, the PEM private key."""

    domain: str
    selector: str
    private_key: bytes = field(repr=False)

    @classmethod
    def from_file(cls, domain: str, selector: str, path: Path) -> Dkim:
        try:
            key = path.read_bytes()
        except OSError as exc:
            raise NewsletterError(
                f"cannot read the DKIM key {path}: {exc.strerror}", hint="check dkim.key_file"
            ) from None
        return cls(domain, selector, key)


@dataclass(frozen=True)
class Recipient:
    """What differs per recipient of a digest."""

    address: str
    message_id: str
    unsubscribe_url: str
    one_click_url: str
    preferences_url: str
    mailto_subject: str
    vote_token: str = ""
    """The signed token of the recipient's 👍/👎 links ("" leaves those links invalid)."""
    mailto_address: str = ""
    """The ``mailto:`` unsubscribe address with the recipient's own token in it
    (:class:`~newsletter.subscribers.returnpath.MailtoAddress`); "" is the sender's
    plain ``unsubscribe_mailto``."""

    def check(self) -> None:
        joined = "".join(vars(self).values())
        if joined.isprintable() or not _UNSAFE.search(joined):  # one scan for all the fields
            return
        for name, value in vars(self).items():
            if _UNSAFE.search(value):
                raise HeaderInjection(f"recipient {name} contains a control character: {value!r}")


def make_message_id(label: str, domain: str) -> str:
    """A globally unique Message-ID; stored in the send ledger, so stable across retries."""
    safe = re.sub(r"[^A-Za-z0-9.-]", "-", label)
    return f"<{safe}.{secrets.token_hex(8)}@{domain}>"


def _qp(text: str) -> bytes:
    """Quoted-printable with CRLF line ends (the input uses LF)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    return encoded.replace(b"\n", CRLF) if b"\n" in encoded else encoded


def _constant_headers(
    sender: Sender, subject: str, date: datetime, extra: Mapping[str, str]
) -> bytes:
    """The headers every recipient shares, through the email package's strict policy."""
    msg = EmailMessage(policy=policy.SMTP)
    try:
        msg["From"] = Address(display_name=sender.name, addr_spec=sender.address)
        msg["Subject"] = subject
        msg["Date"] = format_datetime(date)
        for name, value in extra.items():
            msg[name] = value
    except (ValueError, TypeError) as exc:
        raise HeaderInjection(f"refusing a header value: {exc}") from None
    head = msg.as_bytes()
    return head[: -len(CRLF)] if head.endswith(CRLF + CRLF) else head


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _stuffed(data: bytes) -> bytes:
    """``data`` with every line that starts with "." given a second one, except at
    position 0 (a segment or slot never starts a line there, see ``for_recipient``)."""
    return data.replace(b"\n.", b"\n..") if b"\n." in data else data


def transparent(data: bytes) -> bytes:
    """A whole message with SMTP's dot-stuffing (RFC 5321 4.5.2) applied."""
    return _LEADING_DOT.sub(b"..", data)


@dataclass(frozen=True)
class CompiledMessage:
    """Wire bytes with slots; ``segments`` alternate constant bytes and slot names.

    ``stuffed`` is the same with SMTP's dot-stuffing applied to each constant
    segment once, at compile time: a line of a body may start with "." (QP does
    not escape it), and stuffing 100 KB per recipient costs more than all the
    rest of the splice.  Segments and slots never start a line at their own
    first byte (a slot follows "To: ", "Message-ID: ", "<" or a soft line break
    before an ``https`` URL), so stuffing each piece on its own equals stuffing
    the joined message; a test checks it.
    """

    segments: tuple[bytes | str, ...]
    sender: Sender
    subject: str
    stuffed: tuple[bytes | str, ...] = ()
    _slot_at: tuple[tuple[int, str], ...] = field(default=(), repr=False, compare=False)
    """Where each slot sits in ``segments`` (and ``stuffed``): filled in place of a
    join over a generator, which costs more per recipient than the join itself."""
    repeated: tuple[tuple[bytes, str], ...] = ()
    """Markers standing for a slot wherever they occur inside constant segments (a
    ranked copy's vote token, twice per card): one ``bytes.replace`` each after the
    join, instead of a slot per occurrence (:mod:`newsletter.delivery.ranked`)."""

    def __post_init__(self) -> None:
        at = tuple((i, s) for i, s in enumerate(self.segments) if isinstance(s, str))
        object.__setattr__(self, "_slot_at", at)

    def for_recipient(self, recipient: Recipient, *, smtp: bool = False) -> bytes:
        """The complete message for one recipient (CRLF line ends), DKIM-signed if
        configured; with ``smtp``, dot-stuffed for the DATA command."""
        return b"".join(self.pieces(recipient, smtp=smtp))

    def pieces(self, recipient: Recipient, *, smtp: bool = False) -> list[bytes]:
        """:meth:`for_recipient`'s bytes as pieces to be written one after another.

        Joining them copies the whole digest (156 KB for the seed edition) into a
        fresh buffer per recipient, a third of the splice; the SMTP mailer hands the
        pieces to the kernel in one gathering write instead (``sendmsg``), which
        copies them into the socket once, as it would a joined message."""
        recipient.check()
        if self.sender.dkim is not None:
            data = b"".join(self._filled(self.segments, self._slots(recipient, False)))
            data = dkim_sign(data, self.sender.dkim)
            return [transparent(data) if smtp else data]
        if not smtp:
            return self._filled(self.segments, self._slots(recipient, False))
        return self._filled(self.stuffed, self._slots(recipient, True))

    def _filled(self, segments: tuple[bytes | str, ...], values: dict[str, bytes]) -> list[bytes]:
        parts: list[Any] = list(segments)
        for i, name in self._slot_at:
            parts[i] = values[name]
        if self.repeated:
            data = b"".join(parts)
            for marker, name in self.repeated:
                data = data.replace(marker, values[name])
            return [data]
        return parts

    def _slots(self, r: Recipient, stuffed: bool) -> dict[str, bytes]:
        """Each slot's bytes for ``r``; ``stuffed``: dot-stuffed for SMTP (only the
        quoted-printable links can hold a line break: the header values are checked)."""
        subject = r.mailto_subject
        # "unsubscribe <token>": quote() would change only the space
        subject = subject.replace(" ", "%20") if _PLAIN.fullmatch(subject) else quote(subject)
        address = r.mailto_address or self.sender.unsubscribe_mailto
        mailto = f"mailto:{address}?subject={subject}"
        unsubscribe = _qp(r.unsubscribe_url)
        preferences = _qp(r.preferences_url)
        vote = _qp(r.vote_token)
        html_unsubscribe = _html_qp(r.unsubscribe_url, unsubscribe)
        html_preferences = _html_qp(r.preferences_url, preferences)
        html_vote = _html_qp(r.vote_token, vote)
        if stuffed:  # a soft line break can put a dot first on a line
            unsubscribe, preferences, vote = (
                _stuffed(unsubscribe),
                _stuffed(preferences),
                _stuffed(vote),
            )
            html_unsubscribe, html_preferences, html_vote = (
                _stuffed(html_unsubscribe),
                _stuffed(html_preferences),
                _stuffed(html_vote),
            )
        return {
            "to": r.address.encode("ascii"),
            "message_id": r.message_id.encode("ascii"),
            "list_unsubscribe": f"<{r.one_click_url}>,\r\n <{mailto}>".encode("ascii"),
            _TEXT_UNSUBSCRIBE: unsubscribe,
            _TEXT_PREFERENCES: preferences,
            _HTML_UNSUBSCRIBE: html_unsubscribe,
            _HTML_PREFERENCES: html_preferences,
            _TEXT_VOTE: vote,
            _HTML_VOTE: html_vote,
        }


_TEXT_UNSUBSCRIBE = "text:" + UNSUBSCRIBE_TOKEN
_TEXT_PREFERENCES = "text:" + PREFERENCES_TOKEN
_TEXT_VOTE = "text:" + VOTE_TOKEN
_HTML_UNSUBSCRIBE = "html:" + UNSUBSCRIBE_TOKEN
_HTML_PREFERENCES = "html:" + PREFERENCES_TOKEN
_HTML_VOTE = "html:" + VOTE_TOKEN


def _html_qp(url: str, encoded: bytes) -> bytes:
    """The QP form of ``url`` HTML-escaped: ``encoded`` itself when escaping changes
    nothing (a signed link is URL-safe base64; only a base URL could hold ``&``)."""
    if _HTML_SPECIAL.search(url) is None:
        return encoded
    return _qp(html.escape(url, quote=True))


_HTML_SPECIAL = re.compile("[&<>\"']")


def _body_segments(kind: str, text: str) -> list[bytes | str]:
    """A body cut at its tokens: QP chunks, and slots between soft line breaks."""
    out: list[bytes | str] = []
    for i, piece in enumerate(_TOKENS.split(text)):
        if i % 2:
            out += [SOFT_BREAK, f"{kind}:{piece}", SOFT_BREAK]
        elif piece:
            out.append(_qp(piece))
    return out


def compile_digest(email: RenderedEmail, sender: Sender, date: datetime) -> CompiledMessage:
    """One rendered email (with placeholder tokens) as a message ready to splice."""
    frame = DigestFrame.build(sender, email.subject, date)
    return frame.message(_body_segments("text", email.text), _body_segments("html", email.html))


@dataclass(frozen=True)
class DigestFrame:
    """Everything of a digest message but its two bodies: the headers with their
    slots, the part heads and the boundary.  Built once; a ranked subscriber's copy
    (:mod:`newsletter.delivery.ranked`) puts its own bodies, made of pre-encoded
    pieces, into the same frame."""

    sender: Sender
    subject: str
    head: tuple[bytes | str, ...]
    middle: bytes
    tail: bytes

    @classmethod
    def build(cls, sender: Sender, subject: str, date: datetime) -> DigestFrame:
        boundary = f"=_{secrets.token_hex(12)}"
        head = _constant_headers(
            sender, subject, date, {"List-Id": f"{_phrase(sender.name)} <{sender.list_id}>"}
        )
        part_head = (
            'Content-Type: text/{}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        )
        return cls(
            sender,
            subject,
            (
                head,
                b"To: ",
                "to",
                CRLF + b"Message-ID: ",
                "message_id",
                CRLF + b"List-Unsubscribe: ",
                "list_unsubscribe",
                CRLF + b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                b"MIME-Version: 1.0\r\n"
                + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()
                + f"--{boundary}\r\n".encode()
                + part_head.format("plain").encode(),
            ),
            CRLF + f"--{boundary}\r\n".encode() + part_head.format("html").encode(),
            CRLF + f"--{boundary}--\r\n".encode(),
        )

    def message(self, text: Sequence[bytes | str], html: Sequence[bytes | str]) -> CompiledMessage:
        """The message with these body segments (QP bytes and slot names)."""
        segments = [*self.head, *text, self.middle, *html, self.tail]
        merged: list[bytes | str] = []
        for seg in segments:  # fewer, longer constant segments join faster
            if isinstance(seg, bytes) and merged and isinstance(merged[-1], bytes):
                merged[-1] = merged[-1] + seg
            else:
                merged.append(seg)
        stuffed = tuple(_stuffed(s) if isinstance(s, bytes) else s for s in merged)
        return CompiledMessage(tuple(merged), self.sender, self.subject, stuffed)

    def spliced(
        self,
        text: Sequence[tuple[bytes | str, bytes | str]],
        html: Sequence[tuple[bytes | str, bytes | str]],
        repeated: tuple[tuple[bytes, str], ...] = (),
    ) -> CompiledMessage:
        """The message from body segments already paired with their dot-stuffed form
        (each encoded once and shared by many messages: nothing is re-encoded here);
        ``repeated``: see :attr:`CompiledMessage.repeated`."""
        head, middle, tail = self._pairs
        pairs = [*head, *text, middle, *html, tail]
        return CompiledMessage(
            tuple(p[0] for p in pairs),
            self.sender,
            self.subject,
            tuple(p[1] for p in pairs),
            repeated=repeated,
        )

    @cached_property
    def _pairs(
        self,
    ) -> tuple[list[tuple[bytes | str, bytes | str]], tuple[bytes, bytes], tuple[bytes, bytes]]:
        head = [(s, _stuffed(s) if isinstance(s, bytes) else s) for s in self.head]
        return head, (self.middle, _stuffed(self.middle)), (self.tail, _stuffed(self.tail))


def body_segments(kind: str, text: str) -> list[tuple[bytes | str, bytes | str]]:
    """A piece of a body (``kind`` "text" or "html") as QP segments and slots, each
    with its dot-stuffed form.  The piece may start a line, so a leading "." is
    written ``=2E`` (the same character to a decoder, and never a line that SMTP
    would have to stuff)."""
    out: list[tuple[bytes | str, bytes | str]] = []
    for seg in _body_segments(kind, text):
        if isinstance(seg, bytes):
            if not out and seg.startswith(b"."):
                seg = b"=2E" + seg[1:]
            out.append((seg, _stuffed(seg)))
        else:
            out.append((seg, seg))
    return merged(out)


def merged(
    pairs: Iterable[tuple[bytes | str, bytes | str]],
) -> list[tuple[bytes | str, bytes | str]]:
    """``pairs`` with each run of constant segments joined into one (fewer, longer
    segments join faster per recipient)."""
    out: list[tuple[bytes | str, bytes | str]] = []
    plain: list[bytes] = []
    stuffed: list[bytes] = []
    for seg, st in pairs:
        if isinstance(seg, bytes) and isinstance(st, bytes):
            plain.append(seg)
            stuffed.append(st)
            continue
        if plain:
            out.append((b"".join(plain), b"".join(stuffed)))
            plain, stuffed = [], []
        out.append((seg, st))
    if plain:
        out.append((b"".join(plain), b"".join(stuffed)))
    return out


def _phrase(name: str) -> str:
    """A display name as an RFC 5322 phrase (quoted when it has specials)."""
    clean = _UNSAFE.sub(" ", name).strip()
    if re.fullmatch(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+", clean):
        return clean
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dkim_sign(data: bytes, key: Dkim) -> bytes:
    """Prepend a DKIM-Signature (relaxed/relaxed) covering the list headers."""
    import dkim

    try:
        signature = dkim.sign(
            data,
            key.selector.encode("ascii"),
            key.domain.encode("ascii"),
            key.private_key,
            include_headers=list(DKIM_HEADERS),
            canonicalize=(b"relaxed", b"relaxed"),
        )
    except dkim.DKIMException as exc:
        raise NewsletterError(
            f"DKIM signing failed: {exc}", hint="check dkim.key_file (a PEM RSA private key)"
        ) from None
    signature = signature.replace(b"\r\n", b"\n").replace(b"\n", CRLF)
    return bytes(signature) + data


def confirmation_message(
    sender: Sender,
    to: str,
    subject: str,
    text: str,
    html_body: str,
    date: datetime,
    message_id: str,
) -> bytes:
    """A one-off transactional email (confirmation): no list headers, built the plain way."""
    if _UNSAFE.search(to):
        raise HeaderInjection(f"recipient contains a control character: {to!r}")
    msg = EmailMessage(policy=policy.SMTP)
    try:
        msg["From"] = Address(display_name=sender.name, addr_spec=sender.address)
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = message_id
        msg["Auto-Submitted"] = "auto-generated"
    except (ValueError, TypeError) as exc:
        raise HeaderInjection(f"refusing a header value: {exc}") from None
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html_body, subtype="html", cte="quoted-printable")
    data = msg.as_bytes()
    if sender.dkim is not None:
        data = dkim_sign(data, sender.dkim)
    return data

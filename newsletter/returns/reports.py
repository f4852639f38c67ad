"""Reading one message that came back into a :class:`Report` (pure: bytes in, value out).

What is recognised, in this order:

1. an **ARF** feedback report (RFC 5965: ``multipart/report;
   report-type=feedback-report``): its ``Feedback-Type`` (abuse, fraud, virus:
   a complaint) and the original message's headers;
2. a **DSN** (RFC 3464: ``multipart/report; report-type=delivery-status``): per
   recipient its ``Action``, ``Status`` (the RFC 3463 code decides: 5.x.x
   hard, 4.x.x soft, also inside a 5xx reply; 5.2.2 "mailbox full" soft), the
   ``Diagnostic-Code``, ``Original-Recipient``/``Final-Recipient``, and the
   returned headers (our Message-ID);
3. a mail to the List-Unsubscribe **mailto:** (``unsubscribe <token>`` in the
   subject, as the digests' header has it, or ``unsubscribe+<token>@`` as the
   address: the lower-case address token the digests advertise with VERP on,
   read in any case, or a link token as any header spelled it);
4. an **automatic reply**: ``Auto-Submitted`` (other than ``no``),
   ``X-Autoreply``/``X-Autorespond``, ``Precedence: auto_reply``; an
   out-of-office subject counts only beside another sign of an automatic
   message (``X-Auto-Response-Suppress``, ``Precedence: bulk``/``junk``, an
   empty ``Return-Path``): a person may well write "Automatic reply …";
   a ``multipart/report`` is never an automatic reply, whatever its headers;
5. any other bounce that **flufl.bounce** recognises (qmail, Exim, old
   Postfix and Exchange formats...);
6. else nothing: unrecognised (so is a DSN whose report part cannot be read —
   a broken boundary, a message cut short — unless flufl.bounce reads it).

A message nested deeper than :data:`MAX_CONTAINERS` ``multipart``/``message``
parts, or one the ``email`` package cannot parse at all, is :class:`Malformed`:
the stdlib parser recurses once per level and a few KB of nesting would
exhaust Python's stack.

Every header value is untrusted text: bounded, never interpreted beyond the
fields named here.  The message's own envelope addresses (``Delivered-To``,
``X-Original-To``, ``To``...) are collected for the VERP token, which
:mod:`newsletter.returns.intake` checks.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import hashlib
import logging
import re
import urllib.parse
from dataclasses import dataclass, field, replace
from email.header import decode_header, make_header
from email.parser import HeaderParser
from enum import StrEnum

from newsletter.errors import InputError
from newsletter.states import ReturnKind

STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
REPLY = re.compile(r"^\s*([245])\d\d\b")
_ADDRESS = re.compile(r"[^\s<>\"(),;:]+@[^\s<>\"(),;:]+")
_SUBJECT_TOKEN = re.compile(r"\bunsubscribe\s+([A-Za-z0-9_.-]{20,400})", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|auto:|"
    r"abwesenheit|absence|vacation)",
    re.IGNORECASE,
)
_URL_TOKEN = re.compile(r"[?&]t=([A-Za-z0-9_.-]{20,400})")
ENVELOPE_HEADERS = (
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "X-Delivered-To",
    "To",
    "Cc",
)
COMPLAINT_TYPES = ("abuse", "fraud", "virus")
MAX_FIELD = 1000
MAX_CONTAINERS = 64
"""``multipart``/``message`` parts a message may hold before it is refused unparsed
(a DSN has 3-6; the stdlib parser recurses per nesting level)."""
_CONTAINER = re.compile(rb"(?im)^content-type:\s*(?:multipart|message)/")


class DsnAction(StrEnum):
    """A DSN recipient's ``Action`` (RFC 3464 §2.3.3): only ``failed`` is a bounce."""

    FAILED = "failed"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    RELAYED = "relayed"
    EXPANDED = "expanded"


class Malformed(InputError):
    """Not a mail message at all (no header fields): reported, moved to the operator."""

    default_hint = "read it in the operator folder (bounces.operator_folder)"


@dataclass(frozen=True)
class Recipient:
    """One recipient of a DSN (or of a bounce flufl.bounce read)."""

    kind: ReturnKind
    address: str | None
    """``Original-Recipient`` if given, else ``Final-Recipient``."""
    final: str | None
    status: str | None
    """The RFC 3463 code (``5.1.1``), or the reply's class (``5.0.0``)."""
    diagnostic: str


@dataclass(frozen=True)
class Original:
    """What a report shows of the message we sent."""

    message_id: str | None = None
    unsubscribe_tokens: tuple[str, ...] = ()
    """Tokens of its List-Unsubscribe header (the link's ``t=``, the mailto subject's)."""
    recipient: str | None = None
    """ARF ``Original-Rcpt-To``."""
    senders: tuple[str, ...] = ()
    """Its envelope sender as the report shows it (ARF ``Original-Mail-From``, the
    quoted message's ``Return-Path``): our VERP address, whose signed token names
    the subscriber as surely as the address the report was delivered to."""


@dataclass(frozen=True)
class Report:
    """What one message that came back says."""

    key: str
    """Its Message-ID, else ``sha256:`` of its bytes: what makes a second intake a no-op."""
    kind: ReturnKind
    """The message's kind; a DSN's recipients each carry their own."""
    subject: str
    sender: str
    envelope: tuple[str, ...]
    """Addresses it was delivered to (for the VERP token)."""
    recipients: tuple[Recipient, ...] = ()
    original: Original = field(default_factory=Original)
    unsubscribe_tokens: tuple[str, ...] = ()
    """For a mailto unsubscribe: the candidate tokens (subject, then address)."""
    feedback_type: str = ""
    reporter: str = ""
    """Who sent the report (ARF ``User-Agent``/``Reporting-MTA``, DSN ``Reporting-MTA``)."""


def _text(value: object) -> str:
    text = str(value or "")
    return " ".join(text.split())[:MAX_FIELD]


def _header(msg: email.message.Message, name: str) -> str:
    try:
        return _text(msg.get(name, ""))
    except Exception:  # a header the parser cannot decode is as good as absent
        return ""


def _headers(msg: email.message.Message, name: str) -> list[str]:
    try:
        return [_text(v) for v in msg.get_all(name, [])]
    except Exception:
        return []


def _addresses(text: str) -> list[str]:
    return [a.strip(".") for a in _ADDRESS.findall(text)]


def _typed_address(value: str) -> str | None:
    """``rfc822; someone@example.org`` → the address."""
    _, _, rest = value.partition(";")
    found = _addresses(rest or value)
    return found[0] if found else None


def message_key(msg: email.message.Message, raw: bytes) -> str:
    message_id = _header(msg, "Message-ID")
    if message_id and len(message_id) <= 290:
        return message_id.strip()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def classify_status(action: str, status: str, diagnostic: str) -> tuple[ReturnKind, str | None]:
    """A DSN recipient's kind from its Action, Status and Diagnostic-Code.

    The enhanced code decides, wherever it is (Status first, then the
    diagnostic), not the reply code around it: ``550 4.2.2`` is soft.  A
    ``delayed``, ``delivered``, ``relayed`` or ``expanded`` action is no failure.
    """
    action = action.strip().lower()
    if action and action != DsnAction.FAILED:
        code = STATUS.search(status) or STATUS.search(diagnostic)
        return ReturnKind.NOTICE, code.group(0) if code else None
    code = STATUS.search(status) or STATUS.search(diagnostic)
    if code is not None:
        text = code.group(0)
        if code.group(1) == "5" and text != "5.2.2":
            return ReturnKind.HARD, text
        return ReturnKind.SOFT, text
    reply = REPLY.search(diagnostic.partition(";")[2] or diagnostic)
    if reply is not None:
        cls = reply.group(1)
        return (ReturnKind.HARD if cls == "5" else ReturnKind.SOFT), f"{cls}.0.0"
    return ReturnKind.HARD, None  # failed, and nothing says it is temporary


def _report_part(msg: email.message.Message, content_type: str) -> email.message.Message | None:
    for part in msg.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _blocks(part: email.message.Message) -> list[email.message.Message]:
    """The field blocks of a ``message/delivery-status`` or ``message/feedback-report``."""
    payload = part.get_payload()
    if isinstance(payload, list) and all(isinstance(p, email.message.Message) for p in payload):
        return list(payload)
    text = payload if isinstance(payload, str) else ""
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [HeaderParser().parsestr(b + "\n") for b in blocks if b.strip()]


def _original(msg: email.message.Message) -> Original:
    """The headers of the message we sent, from a report's third part."""
    headers: email.message.Message | None = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/rfc822-headers"):
            payload = part.get_payload()
            if (
                isinstance(payload, list)
                and payload
                and isinstance(payload[0], email.message.Message)
            ):
                headers = payload[0]
                break
        if ctype == "text/rfc822-headers":
            body = part.get_payload(decode=True)
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else ""
            headers = HeaderParser().parsestr(text)
            break
    if headers is None:
        return Original()
    tokens: list[str] = []
    for value in _headers(headers, "List-Unsubscribe"):
        tokens += _URL_TOKEN.findall(value)
        tokens += _subject_tokens(value)
    return Original(
        message_id=_header(headers, "Message-ID") or None,
        unsubscribe_tokens=tuple(dict.fromkeys(tokens)),
        senders=tuple(_addresses(_header(headers, "Return-Path"))),
    )


def _dsn(msg: email.message.Message) -> tuple[list[Recipient], str]:
    part = _report_part(msg, "message/delivery-status")
    if part is None:
        return [], ""
    blocks = _blocks(part)
    reporter = _header(blocks[0], "Reporting-MTA") if blocks else ""
    found = []
    for block in blocks[1:] or blocks:
        final = _typed_address(_header(block, "Final-Recipient"))
        original = _typed_address(_header(block, "Original-Recipient"))
        if final is None and original is None:
            continue
        diagnostic = _header(block, "Diagnostic-Code")
        kind, status = classify_status(
            _header(block, "Action"), _header(block, "Status"), diagnostic
        )
        found.append(Recipient(kind, original or final, final, status, diagnostic))
    return found, reporter


def _flufl(raw: bytes) -> list[Recipient]:
    """Bounces in the formats before DSNs, read by flufl.bounce."""
    from flufl.bounce import all_failures

    # flufl.bounce logs a detector that chokes on odd input (a message without From:)
    # as an ERROR with a traceback, then goes on; the message is no bounce to it and
    # ends in the operator folder with our one warning line: its traceback is noise.
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # a detector choking on odd input: no verdict from it
        return []
    found = []
    for kind, addresses in ((ReturnKind.HARD, permanent), (ReturnKind.SOFT, temporary)):
        for address in sorted(addresses):
            text = address.decode("utf-8", "replace") if isinstance(address, bytes) else address
            for one in _addresses(text)[:1]:
                found.append(Recipient(kind, one, one, None, "recognised by flufl.bounce"))
    return found


def _is_auto_reply(msg: email.message.Message, subject: str) -> bool:
    auto = _header(msg, "Auto-Submitted").lower()
    if auto == "no":  # RFC 3834: written by a person
        return False
    if auto:
        return True
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return True
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("auto_reply", "auto-reply"):
        return True
    # a subject alone is what a person can write too ("Automatic reply settings …")
    automatic = (
        bool(_header(msg, "X-Auto-Response-Suppress"))
        or precedence in ("bulk", "junk")
        or _header(msg, "Return-Path") == "<>"
    )
    return automatic and bool(_AUTO_SUBJECT.search(subject))


def decoded(text: str) -> str:
    """A header's RFC 2047 encoded words decoded (``=?utf-8?q?unsubscribe_…?=``);
    the text as it is when they do not decode."""
    if "=?" not in text:
        return text
    try:
        return _text(str(make_header(decode_header(text))))
    except Exception:  # a broken encoded word: the raw text is all there is
        return text


def _subject_tokens(subject: str) -> list[str]:
    """Tokens of ``unsubscribe <token>`` in a subject, also percent-encoded as a
    ``mailto:?subject=unsubscribe%20<token>`` link leaves it in some clients."""
    found = _SUBJECT_TOKEN.findall(subject)
    unquoted = urllib.parse.unquote(subject)
    if unquoted != subject:
        found += _SUBJECT_TOKEN.findall(unquoted)
    return list(dict.fromkeys(found))


def _address_tokens(addresses: tuple[str, ...], mailto: str) -> list[str]:
    """Tokens of ``unsubscribe+<token>@`` among the addresses a message was sent to
    (any VERP delimiter: the token is checked), as each header wrote it: a server
    that folds the local part to lower case writes ``Delivered-To`` so while the
    sender's ``To`` keeps the case a link token of an older digest needs, so every
    spelling is tried, not one per address.  The address token of
    :class:`~newsletter.subscribers.returnpath.MailtoAddress` is read in any case."""
    if not mailto:
        return []
    local, _, domain = mailto.lower().rpartition("@")
    found = []
    for address in addresses:
        a_local, _, a_domain = address.rpartition("@")
        if a_domain.lower() != domain or len(a_local) <= len(local) + 1:
            continue
        if a_local.lower().startswith(local) and a_local[len(local)] in "+-=":
            found.append(a_local[len(local) + 1 :])
    return found


def _parse(raw: bytes) -> email.message.Message:
    """The message, or :class:`Malformed` when it nests too deep or does not parse."""
    containers = len(_CONTAINER.findall(raw))
    if containers > MAX_CONTAINERS:
        raise Malformed(
            f"{containers} multipart/message parts, more than the {MAX_CONTAINERS} read; not parsed"
        )
    try:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    except RecursionError:
        raise Malformed("nested too deeply to parse") from None
    except Exception as exc:
        raise Malformed(f"cannot be parsed ({type(exc).__name__})") from None


def read(raw: bytes, *, envelope: tuple[str, ...] = (), mailto: str = "") -> Report:
    """What ``raw`` says; ``envelope``: recipient addresses the caller knows (a Postfix
    ``pipe``'s ``${original_recipient}``); ``mailto``: the List-Unsubscribe address.

    Raises :class:`Malformed` for bytes that hold no header fields at all, nest
    too deep or do not parse.
    """
    msg = _parse(raw)
    if not msg.keys() or raw[:1].isspace():
        raise Malformed("not a mail message (no header fields)")
    subject = decoded(_header(msg, "Subject"))
    sender = _header(msg, "From")
    delivered = list(envelope)
    for name in ENVELOPE_HEADERS:
        for value in _headers(msg, name):
            delivered += _addresses(value)
    every = tuple(delivered)
    delivered = list({a.lower(): a for a in reversed(delivered)}.values())[::-1]
    base = Report(
        key=message_key(msg, raw),
        kind=ReturnKind.UNRECOGNISED,
        subject=subject,
        sender=sender,
        envelope=tuple(delivered),
    )
    report_type = (msg.get_param("report-type", "") or "") if msg.is_multipart() else ""
    report_type = str(report_type).lower()
    if msg.get_content_type() == "multipart/report" and report_type == "feedback-report":
        part = _report_part(msg, "message/feedback-report")
        fields = _blocks(part)[0] if part is not None and _blocks(part) else None
        feedback = _header(fields, "Feedback-Type").lower() if fields is not None else ""
        original = _original(msg)
        if fields is not None:
            rcpt = _typed_address(_header(fields, "Original-Rcpt-To"))
            senders = (*_addresses(_header(fields, "Original-Mail-From")), *original.senders)
            original = replace(original, recipient=rcpt, senders=senders)
        # the token of our return path, wherever the report shows it (checked, signed)
        base = replace(base, envelope=tuple(dict.fromkeys((*base.envelope, *original.senders))))
        kind = ReturnKind.COMPLAINT if feedback in COMPLAINT_TYPES else ReturnKind.UNRECOGNISED
        reporter = ""
        if fields is not None:
            reporter = _header(fields, "User-Agent") or _header(fields, "Reporting-MTA")
        return replace(
            base, kind=kind, original=original, feedback_type=feedback, reporter=reporter
        )
    if msg.get_content_type() == "multipart/report" and report_type == "delivery-status":
        recipients, reporter = _dsn(msg)
        if recipients:
            kind = _worst(recipients)
            return replace(
                base,
                kind=kind,
                recipients=tuple(recipients),
                original=_original(msg),
                reporter=reporter,
            )
    if msg.get_content_type() == "multipart/report" and report_type != "disposition-notification":
        # a report we could not read (a broken boundary, cut short): not an
        # automatic reply however it is marked (a read receipt, RFC 8098, is one)
        recipients = _flufl(raw)
        if recipients:
            return replace(base, kind=_worst(recipients), recipients=tuple(recipients))
        return base
    tokens = _subject_tokens(subject) + _address_tokens(every, mailto)
    if tokens:
        return replace(
            base, kind=ReturnKind.UNSUBSCRIBE, unsubscribe_tokens=tuple(dict.fromkeys(tokens))
        )
    if _is_auto_reply(msg, subject):
        return replace(base, kind=ReturnKind.AUTO_REPLY)
    recipients = _flufl(raw)
    if recipients:
        return replace(base, kind=_worst(recipients), recipients=tuple(recipients))
    return replace(base, kind=ReturnKind.UNRECOGNISED)


def _worst(recipients: list[Recipient]) -> ReturnKind:
    kinds = {r.kind for r in recipients}
    for kind in (ReturnKind.HARD, ReturnKind.SOFT):
        if kind in kinds:
            return kind
    return ReturnKind.NOTICE

"""The seam to the outside mail system: a ``Mailer`` hands one message to it.

Handing a message over has a *point of no return*: the last byte after which
the mail system may have taken it (SMTP: the final dot of DATA; Maildir: the
link into ``new/``).  So a mailer sends in two steps, and the delivery loop
records in the send ledger, between the two, that the message is about to
cross that point (:mod:`newsletter.delivery.ledger`)::

    prepared = mailer.prepare(sender, recipient, message, message_id)
    # everything up to the point of no return: MAIL, RCPT, DATA, the body
    ...                                   # the ledger marks the row "handed over"
    reply = prepared.hand_over()          # the final dot and its reply

A failure in ``prepare`` certainly sent nothing; only a lost reply after
``hand_over`` leaves a message *uncertain*.  :meth:`Mailer.send` does both
steps at once (confirmation emails, which have no ledger).

Two implementations:

- :class:`MaildirMailer` — the embedded default.  Each message becomes a file
  in a Maildir outbox (``tmp/`` → ``new/``, fsynced); nothing leaves the
  machine and ``mutt -f <outbox>`` reads it.  The file name is derived from the
  Message-ID, so delivering the same message twice (a retry after a crash)
  finds the first copy and writes no second one.
- :class:`SmtpMailer` — one persistent SMTP connection (STARTTLS, SSL or plain
  for loopback), reopened when the server drops it; the password comes from
  an environment variable.  Replies are classified by
  :mod:`newsletter.delivery.replies` (one table, RFC 3463 codes first).

What can go wrong, as exceptions the delivery loop acts on::

(All of them are :class:`~newsletter.errors.NewsletterError` s, drawn in the
one tree of :mod:`newsletter.errors`.)

::

    SendFailure               one recipient's message was not accepted
    ├── TemporaryFailure      4xx (and 552 at RCPT, 5.2.2): defer this recipient
    │   ├── ConnectionLost    the connection failed before the point of no
    │   │                     return: certainly not sent; reconnect, try again
    │   └── ReplyLost         handed over, but no reply came: *uncertain*;
    │                         sent again at most once, same Message-ID
    └── PermanentFailure      5xx: this recipient failed (``bounce`` for "no
                              such mailbox": no more editions to them)
    MailerStopped             (a NewsletterError) authentication failed, the
                              sender was refused, the outbox cannot be written:
                              the run stops and says why

A drop *during* DATA is told apart from a lost reply after it: before the
final dot the mailer checks whether the server has already closed the
connection, and a connection *reset* after the dot means the server closed
it with the message unread (TCP resets a connection closed with unread
data; a server that read the dot and then died closes it cleanly).  Both are
:class:`ConnectionLost`: not sent, tried again.  Only a clean close or a
timeout after the dot is :class:`ReplyLost`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from newsletter.config import Settings, SmtpSettings
from newsletter.delivery.message import transparent as dot_stuffed
from newsletter.delivery.replies import Classified, Kind, Stage, classify
from newsletter.errors import NewsletterError


class SendFailure(NewsletterError):
    """A message one recipient did not get; ``reply`` is what the server said."""

    default_hint = "the send ledger keeps the reply; newsletter status shows what is left to send"

    def __init__(self, reply: str, code: int | None = None) -> None:
        super().__init__(reply)
        self.reply = reply
        self.code = code


class TemporaryFailure(SendFailure):
    """Try again later: SMTP 4xx, or a reply RFC 5321 says to treat as temporary."""

    default_hint = "deferred: a later run (or tick) tries this recipient again once due"


class ConnectionLost(TemporaryFailure):
    """The connection failed before the point of no return: the message was not sent.

    ``connecting``: it could not even be opened (the relay is down or unreachable).
    """

    default_hint = "not sent: tried again at once on a new connection, then deferred"

    def __init__(self, reply: str, *, connecting: bool = False) -> None:
        super().__init__(reply)
        self.connecting = connecting


class ReplyLost(TemporaryFailure):
    """The message was handed over in full but its reply never came: it may have been taken."""

    default_hint = "sent again at most once, with the same Message-ID, so a copy is recognisable"


class PermanentFailure(SendFailure):
    """SMTP 5xx: this recipient will not get this message.  ``bounce``: no such mailbox."""

    default_hint = "not retried; a refused mailbox is marked bounced and gets no more editions"

    def __init__(self, reply: str, code: int | None = None, *, bounce: bool = False) -> None:
        super().__init__(reply, code)
        self.bounce = bounce


class MailerStopped(NewsletterError):
    """Nothing can be sent at all (authentication, sender refused, outbox not writable)."""

    default_hint = "check the [smtp] settings and the server; the next run sends what is left"


class Prepared:
    """A message up to its point of no return; :meth:`hand_over` takes it past."""

    def hand_over(self) -> str:
        """Send the rest; the server's reply.  Raises a SendFailure or MailerStopped."""
        raise NotImplementedError

    def abandon(self) -> None:
        """Never hand it over (the row was taken back): undo what can be undone."""


class Mailer:
    """Hands finished messages to the mail system, one connection per instance.

    A subclass implements :meth:`prepare` (and ``Prepared.hand_over``) or, if it
    has no point of no return worth telling apart, just :meth:`send`.
    """

    relay = "mailer"
    """Names the mail system for the per-relay rate limit (``smtp://host:port``)."""
    smtp = False
    """True when :meth:`prepare` takes the message dot-stuffed (``transparent=True``):
    the delivery loop then splices the stuffed form compiled once per edition."""
    gather = False
    """True when :meth:`prepare` takes a message as a list of pieces to write one after
    another (a gathering write): the delivery loop then never joins a digest's
    pieces into one buffer per recipient.  Other mailers get ``bytes``."""

    def prepare(
        self,
        sender: str,
        recipient: str,
        message: Message,
        message_id: str,
        *,
        transparent: bool = False,
    ) -> Prepared:
        if type(self).send is Mailer.send:
            raise NotImplementedError(f"{type(self).__name__} implements neither prepare nor send")
        return _SendAtOnce(self, sender, recipient, joined(message), message_id)

    def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
        """Both steps at once; returns the server's reply."""
        return self.prepare(sender, recipient, message, message_id).hand_over()

    def close(self) -> None:
        """Release the connection (QUIT); the mailer may be used again afterwards."""


@dataclass
class _SendAtOnce(Prepared):
    mailer: Mailer
    sender: str
    recipient: str
    message: bytes
    message_id: str

    def hand_over(self) -> str:
        return self.mailer.send(self.sender, self.recipient, self.message, self.message_id)


Message = bytes | list[bytes]
"""A message's bytes, or its pieces in order (only for a mailer with ``gather``)."""


def joined(message: Message) -> bytes:
    """The message as one ``bytes``."""
    return message if isinstance(message, bytes) else b"".join(message)


MailerFactory = Callable[[], Mailer]
"""Makes one mailer (one connection) per delivery worker."""


# ------------------------------------------------------------------ Maildir


class MaildirMailer(Mailer):
    """Delivers into a Maildir folder; idempotent per Message-ID.

    A message's file is named by its Message-ID alone (a hash of it), not by
    the host as Maildir usually does: a resend of the same message — after a
    kill, from another container with another hostname — finds the copy in
    ``new/`` or ``cur/`` (where a reader moved it, with ``:2,`` flags) and is
    not written twice.  A half-written copy of the message left in ``tmp/`` by a
    killed writer is removed and written afresh."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.relay = f"maildir:{path}"
        self._ready = False

    @staticmethod
    def _name(message_id: str) -> str:
        return hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32]

    def _written(self, name: str) -> bool:
        """Whether the outbox holds the message: ``new/`` or ``cur/``, under its name,
        with flags, or under the ``<name>.<host>`` of earlier versions."""
        for sub in ("new", "cur"):
            folder = self.path / sub
            if (folder / name).exists():
                return True
            if any(folder.glob(name + ".*")) or any(folder.glob(name + ":*")):
                return True
        return False

    def _stopped(self, exc: OSError, doing: str) -> MailerStopped:
        return MailerStopped(
            f"cannot {doing} the outbox {self.path}: {exc.strerror or exc}",
            hint="check that delivery.maildir is writable and the disk has free space; "
            "the unsent messages go out on the next run",
        )

    def prepare(
        self,
        sender: str,
        recipient: str,
        message: Message,
        message_id: str,
        *,
        transparent: bool = False,
    ) -> Prepared:
        try:
            if not self._ready:  # created on first use: a run with nobody to send to makes none
                for sub in ("tmp", "new", "cur"):
                    (self.path / sub).mkdir(parents=True, exist_ok=True)
                self._ready = True
            name = self._name(message_id)
            final = self.path / "new" / name
            if self._written(name):
                return _MaildirCopy(self, None, final)
            temp = self.path / "tmp" / f"{name}.{os.getpid()}.{id(self):x}"
            for stale in (self.path / "tmp").glob(name + ".*"):
                # a half-written copy of this very message: its writer was killed (the
                # ledger's lease says no live loop is writing it now); our own is rewritten
                if stale != temp:
                    stale.unlink(missing_ok=True)
        except OSError as exc:
            raise self._stopped(exc, "use") from None
        try:
            with open(temp, "wb") as handle:
                handle.write(f"Return-Path: <{sender}>\nDelivered-To: {recipient}\n".encode())
                handle.write(joined(message).replace(b"\r\n", b"\n"))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)  # never leave a partial file behind (ENOSPC)
            raise self._stopped(exc, "write to") from None
        return _MaildirCopy(self, temp, final)


@dataclass
class _MaildirCopy(Prepared):
    mailer: MaildirMailer
    temp: Path | None  # None: the outbox holds this message already
    final: Path

    def hand_over(self) -> str:
        already = "already in the outbox (not written twice)"
        if self.temp is None:
            return already
        try:
            try:
                os.link(self.temp, self.final)  # atomic, and refuses to overwrite a copy
            except FileExistsError:
                return already
            finally:
                self.temp.unlink(missing_ok=True)
            dir_fd = os.open(self.final.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise self.mailer._stopped(exc, "write to") from None
        return f"written to {self.final.relative_to(self.mailer.path)}"

    def abandon(self) -> None:
        if self.temp is not None:
            with contextlib.suppress(OSError):
                self.temp.unlink(missing_ok=True)


# ------------------------------------------------------------------ SMTP


class SmtpMailer(Mailer):
    """One persistent SMTP connection; every transaction is MAIL, RCPT, DATA, dot."""

    def __init__(self, config: SmtpSettings) -> None:
        self.config = config
        self.relay = f"smtp://{config.host}:{config.port}"
        self._conn: smtplib.SMTP | None = None

    def _password(self) -> str:
        password = os.environ.get(self.config.password_env)
        if password is None:
            raise MailerStopped(
                f"smtp.username is set but ${self.config.password_env} is not",
                hint=f"export {self.config.password_env}=... (the SMTP password) and run again",
            )
        return password

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        # loading the CA store costs tens of milliseconds: only when TLS is used
        context = ssl.create_default_context() if c.security in ("ssl", "starttls") else None
        where = f"{c.host}:{c.port}"
        try:
            conn: smtplib.SMTP
            if c.security == "ssl":
                conn = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout_seconds, context=context)
            else:
                conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout_seconds)
            # The final dot is a small write after a large one: without NODELAY, Nagle
            # and delayed ACKs can hold it back tens of milliseconds per message.
            if conn.sock is not None:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if c.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
        except smtplib.SMTPNotSupportedError:
            raise MailerStopped(
                f"the SMTP server {where} does not offer STARTTLS",
                hint="set smtp.security = 'ssl' (port 465) or use another server",
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectionLost(f"cannot connect to {where}: {exc}", connecting=True) from None
        if c.username:
            try:
                conn.login(c.username, self._password())
            except smtplib.SMTPAuthenticationError as exc:
                conn.close()
                raise MailerStopped(
                    f"SMTP authentication failed at {where} for {c.username!r}: "
                    f"{exc.smtp_code} {_text(exc.smtp_error)}",
                    hint=f"check smtp.username and ${c.password_env}",
                ) from None
            except (OSError, smtplib.SMTPException) as exc:
                conn.close()
                raise MailerStopped(f"SMTP login at {where} failed: {exc}") from None
        return conn

    smtp = True
    gather = True

    def prepare(
        self,
        sender: str,
        recipient: str,
        message: Message,
        message_id: str,
        *,
        transparent: bool = False,
    ) -> Prepared:
        """MAIL, RCPT, DATA and the body; ``transparent``: ``message`` is dot-stuffed."""
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        try:
            self._expect(Stage.MAIL, *conn.mail(sender))
            self._expect(Stage.RCPT, *conn.rcpt(recipient))
            conn.putcmd("data")
            self._expect(Stage.DATA, *conn.getreply())
            pieces = [message] if isinstance(message, bytes) else message
            if not transparent:
                pieces = [dot_stuffed(joined(message))]
            if not next((p for p in reversed(pieces) if p), b"").endswith(b"\r\n"):
                pieces = [*pieces, b"\r\n"]
            if conn.sock is None:
                raise smtplib.SMTPServerDisconnected("the connection is closed")
            _write(conn.sock, pieces)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise ConnectionLost(f"connection lost before the message was sent: {exc}") from None
        return _SmtpMessage(self, conn)

    def _expect(self, stage: Stage, code: int, text: bytes | str) -> None:
        """Go on if the reply is a success; otherwise raise what it means."""
        reply = classify(stage, code, _text(text))
        if reply.kind == Kind.ACCEPTED:
            return
        if code == 421:  # the server closes the connection
            self._drop()
        else:
            self._reset()
        self._raise(reply)

    def _raise(self, reply: Classified) -> NoReturn:
        text = str(reply)
        if reply.kind == Kind.TEMPORARY:
            raise TemporaryFailure(text, reply.code)
        if reply.kind == Kind.STOP:
            what = "refused the sender" if reply.stage == Stage.MAIL else "refused to go on"
            raise MailerStopped(
                f"the SMTP server {what}: {text}",
                hint="check delivery.from_address and smtp.username (the server may not "
                "allow them); the unsent messages go out on the next run",
            )
        raise PermanentFailure(text, reply.code, bounce=reply.kind == Kind.BOUNCE)

    def _reset(self) -> None:
        if self._conn is not None:
            try:
                self._conn.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
            self._drop()


@dataclass
class _SmtpMessage(Prepared):
    mailer: SmtpMailer
    conn: smtplib.SMTP

    def hand_over(self) -> str:
        conn = self.conn
        if _closed_by_peer(conn.sock):
            self.mailer._drop()
            raise ConnectionLost("the server closed the connection during DATA")
        try:
            conn.send(b".\r\n")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.mailer._drop()  # the end of the message never left: not taken
            raise ConnectionLost(f"connection lost during DATA: {exc}") from None
        try:
            code, text = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.mailer._drop()
            if isinstance(exc, ConnectionResetError) or isinstance(
                exc.__context__, ConnectionResetError
            ):
                raise ConnectionLost(f"connection reset with the message unread: {exc}") from None
            raise ReplyLost(f"connection lost before the reply to the message: {exc}") from None
        reply = classify(Stage.END, code, _text(text))
        if reply.kind != Kind.ACCEPTED:
            if code == 421:
                self.mailer._drop()
            self.mailer._raise(reply)
        return str(reply)

    def abandon(self) -> None:
        self.mailer._drop()  # an unfinished DATA is discarded by the server


_IOV_MAX = min(1024, os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 16)


def _write(sock: socket.socket, pieces: list[bytes]) -> None:
    """Write ``pieces`` in order.  A plain socket takes them in gathering writes
    (``sendmsg``, usually one system call for the whole message, and no 156 KB
    buffer joined per recipient); TLS cannot gather, so they are joined for it."""
    if isinstance(sock, ssl.SSLSocket) or not hasattr(sock, "sendmsg"):
        sock.sendall(pieces[0] if len(pieces) == 1 else b"".join(pieces))
        return
    left: list[bytes | memoryview] = list(pieces)
    total = sum(map(len, left))
    while left:
        sent = sock.sendmsg(left[:_IOV_MAX])
        total -= sent
        if not total:
            return
        done = 0  # a partial write: drop what went, cut the piece it ended in
        while sent >= len(left[done]):
            sent -= len(left[done])
            done += 1
        if sent:
            left[done] = memoryview(left[done])[sent:]
        del left[:done]


def _closed_by_peer(sock: socket.socket | None) -> bool:
    """Whether the server already closed (or reset) a plain connection; TLS is not probed."""
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket):
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _text(reply: bytes | str) -> str:
    value = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(value.split())


def from_settings(settings: Settings) -> Mailer:
    """One mailer of the kind ``delivery.method`` names."""
    return factory_from_settings(settings)()


def factory_from_settings(settings: Settings) -> MailerFactory:
    """Makes the mailers ``delivery.method`` names, one per connection."""
    if settings.delivery.method == "smtp":
        smtp = settings.smtp
        return lambda: SmtpMailer(smtp)
    path = settings.delivery.maildir
    return lambda: MaildirMailer(path)

"""The seam to the outside mail system: a ``Mailer`` hands one message to it.

Two implementations:

- :class:`MaildirMailer` — the embedded default.  Each message becomes a file
  in a Maildir outbox (``tmp/`` → ``new/``, fsynced); nothing leaves the
  machine and ``mutt -f <outbox>`` reads it.  The file name is derived from the
  Message-ID, so delivering the same message twice (a retry after a crash)
  finds the first copy and writes no second one.
- :class:`SmtpMailer` — one persistent SMTP connection (STARTTLS, SSL or plain
  for loopback), reopened when the server drops it; the password comes from
  an environment variable.

What can go wrong, as exceptions the delivery loop acts on::

(All of them are :class:`~newsletter.errors.NewsletterError` s, drawn in the
one tree of :mod:`newsletter.errors`.)

::

    SendFailure               one recipient's message was not accepted
    ├── TemporaryFailure      4xx or a dropped connection before the message was
    │   │                     fully sent: retry with back-off, later defer
    │   └── ReplyLost         the whole message went out but no reply came:
    │                         *uncertain*; sent again at most once, same Message-ID
    └── PermanentFailure      5xx: this recipient failed (``bounce`` for a
                              rejected mailbox: no more editions to it)
    MailerStopped             (a NewsletterError) authentication failed, the
                              sender was refused, the server cannot be reached:
                              the run stops and says why
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import smtplib
import socket
import ssl
from pathlib import Path
from typing import Protocol

from newsletter.config import Settings, SmtpSettings
from newsletter.errors import NewsletterError


class SendFailure(NewsletterError):
    """A message one recipient did not get; ``reply`` is what the server said."""

    default_hint = "the send ledger keeps the reply; newsletter status shows what is left to send"

    def __init__(self, reply: str, code: int | None = None) -> None:
        super().__init__(reply)
        self.reply = reply
        self.code = code


class TemporaryFailure(SendFailure):
    """Try again later: SMTP 4xx, or the connection dropped before the end of the message."""

    default_hint = "deferred: the next run (or the resend job) tries this recipient again"


class ReplyLost(TemporaryFailure):
    """The message was sent in full but its reply never came: it may have been accepted."""

    default_hint = "sent again at most once, with the same Message-ID, so a copy is recognisable"


class PermanentFailure(SendFailure):
    """SMTP 5xx: this recipient will not get this message.  ``bounce``: the mailbox is refused."""

    default_hint = "not retried; a refused mailbox is marked bounced and gets no more editions"

    def __init__(self, reply: str, code: int | None = None, *, bounce: bool = False) -> None:
        super().__init__(reply, code)
        self.bounce = bounce


class MailerStopped(NewsletterError):
    """Nothing can be sent at all (authentication, sender refused, server unreachable)."""

    default_hint = "check the [smtp] settings and the server; the next run sends what is left"


class Mailer(Protocol):
    """Hands one finished message to the mail system; returns the server's reply."""

    def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str: ...

    def close(self) -> None: ...


# ------------------------------------------------------------------ Maildir


class MaildirMailer:
    """Delivers into a Maildir folder; idempotent per Message-ID."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.host = re.sub(r"[/:]", "_", socket.gethostname()) or "localhost"
        self._ready = False

    def _name(self, message_id: str) -> str:
        return hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32] + "." + self.host

    def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
        if not self._ready:  # created on first use: a run with nobody to send to makes no folder
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
            self._ready = True
        name = self._name(message_id)
        final = self.path / "new" / name
        if final.exists() or any((self.path / "cur").glob(name + ":*")):
            return "already in the outbox (not written twice)"
        temp = self.path / "tmp" / f"{name}.{os.getpid()}"
        data = message.replace(b"\r\n", b"\n")
        try:
            with open(temp, "wb") as handle:
                handle.write(f"Return-Path: <{sender}>\nDelivered-To: {recipient}\n".encode())
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, final)  # atomic, and refuses to overwrite a copy
            except FileExistsError:
                return "already in the outbox (not written twice)"
            finally:
                temp.unlink(missing_ok=True)
            dir_fd = os.open(self.path / "new", os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise MailerStopped(
                f"cannot write to the outbox {self.path}: {exc.strerror}",
                hint="check delivery.maildir and the free disk space",
            ) from None
        return f"written to {final.relative_to(self.path)}"

    def close(self) -> None:
        pass


# ------------------------------------------------------------------ SMTP


_LEADING_DOT = re.compile(rb"(?m)^\.")


class SmtpMailer:
    """One persistent SMTP connection; every transaction is MAIL, RCPT, DATA."""

    def __init__(self, config: SmtpSettings) -> None:
        self.config = config
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
        context = ssl.create_default_context()
        where = f"{c.host}:{c.port}"
        try:
            conn: smtplib.SMTP
            if c.security == "ssl":
                conn = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout_seconds, context=context)
            else:
                conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout_seconds)
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
            raise TemporaryFailure(f"cannot connect to {where}: {exc}") from None
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
            except smtplib.SMTPException as exc:
                conn.close()
                raise MailerStopped(f"SMTP login at {where} failed: {exc}") from None
        return conn

    def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        body_sent = False
        try:
            code, reply = conn.mail(sender)
            if code != 250:
                self._fail(code, reply, "mail")
            code, reply = conn.rcpt(recipient)
            if code not in (250, 251):
                self._fail(code, reply, "rcpt")
            conn.putcmd("data")
            code, reply = conn.getreply()
            if code != 354:
                self._fail(code, reply, "data")
            data = _LEADING_DOT.sub(b"..", message)
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            conn.send(data + b".\r\n")
            body_sent = True
            code, reply = conn.getreply()
            if code != 250:
                self._fail(code, reply, "data")
            return f"{code} {_text(reply)}"
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            if body_sent:
                raise ReplyLost(f"connection lost before the reply to the message: {exc}") from None
            raise TemporaryFailure(f"connection lost: {exc}") from None

    def _fail(self, code: int, reply: bytes, stage: str) -> None:
        text = f"{code} {_text(reply)}"
        if code == 421:
            self._drop()
            raise TemporaryFailure(text, code)
        self._reset()
        if 400 <= code < 500:
            raise TemporaryFailure(text, code)
        if stage == "mail":
            raise MailerStopped(
                f"the SMTP server refused the sender: {text}",
                hint="check delivery.from_address (the server may not allow it)",
            )
        raise PermanentFailure(text, code, bounce=stage == "rcpt")

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


def _text(reply: bytes | str) -> str:
    value = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(value.split())


def from_settings(settings: Settings) -> Mailer:
    """The mailer ``delivery.method`` names."""
    if settings.delivery.method == "smtp":
        return SmtpMailer(settings.smtp)
    return MaildirMailer(settings.delivery.maildir)

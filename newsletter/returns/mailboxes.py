"""Where what comes back is read from: a Maildir or an IMAP mailbox.

Each yields :class:`Incoming` messages and moves each one, once handled, to
the processed folder or the operator folder (``bounces.processed_folder``,
``bounces.operator_folder``): a second intake never sees it again, and
nothing is deleted.  (Even a message read twice — moved by hand back into the
inbox, or a crash between the database commit and the move — counts once:
:mod:`newsletter.returns.intake` knows it by its Message-ID.)

- **Maildir** (what Postfix's ``local``/``virtual`` or Dovecot's LDA write):
  ``new/`` and ``cur/`` are read; the folders are Maildir++ subfolders
  ``.Processed`` and ``.Unrecognised`` beside them, as Dovecot and mail clients
  show them; a move is one ``rename``.
- **IMAP** (``imaplib``: IMAPS, STARTTLS, or plain on loopback): the folder is
  read by UID; a message's size is asked first, so one over ``bounces.max_kb``
  is moved without its body being downloaded (its header block is, for the key
  it counts once by); moves use ``UID MOVE`` (RFC 6851), or
  COPY + ``\\Deleted`` + EXPUNGE on a server without it.  The password comes
  from the environment variable ``bounces.imap_password_env``.

Each mailbox has a :attr:`~Mailbox.source`, its identity (``maildir:<path>``,
``imap://<user>@<host>:<port>/<folder>``): :mod:`newsletter.returns.rounds` holds
one lock per source for a round, so two rounds never read one mailbox at once.
A message someone else moved away after it was listed (a mail client, an
operator, an expunge) is :class:`MessageGone`: skipped, never an error.
"""

from __future__ import annotations

import contextlib
import errno
import imaplib
import logging
import os
import re
import shutil
import socket
import ssl
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from newsletter.config import Settings
from newsletter.errors import EX_TEMPFAIL, NewsletterError
from newsletter.returns.intake import HEAD_BYTES, OPERATOR

log = logging.getLogger(__name__)

IMAP_TIMEOUT = 30.0


class MailboxError(NewsletterError):
    """The intake mailbox cannot be reached or read (connection, login, folder)."""

    default_hint = "check the [bounces] settings (intake, maildir or imap_*)"


class IntakeBusy(MailboxError):
    """Another intake round (``bounces fetch``, a ``serve``/``schedule`` round, on this
    machine or another one sharing the database) holds this mailbox's lock: this
    round reads nothing, and exits 75 ("try again later")."""

    exit_code = EX_TEMPFAIL
    default_hint = (
        "it moves every message it reads; run `newsletter bounces fetch` again once it "
        "has finished (serve and schedule try again at their next round)"
    )

    def __init__(self, source: str, hint: str | None = None) -> None:
        self.source = source
        super().__init__(
            f"bounces: another intake round is reading {source}; this one read nothing", hint
        )


class MessageGone(MailboxError):
    """A message listed by this round was moved or expunged by someone else before it
    was read (a Maildir file gone, an IMAP UID no longer in the folder): it is no
    longer this mailbox's to handle, so it is skipped, not counted, never moved."""

    default_hint = "nothing to do: whoever moved it has it"


@dataclass(frozen=True)
class Incoming:
    """One message waiting in the mailbox."""

    label: str
    size: int
    ref: str
    """The mailbox's own handle: a file path, an IMAP UID."""


class Mailbox(Protocol):
    @property
    def source(self) -> str:
        """The mailbox's identity (``maildir:<path>``, ``imap://user@host:port/folder``):
        what the intake lock is named by."""

    def messages(self) -> Iterator[Incoming]: ...

    def read(self, incoming: Incoming) -> bytes:
        """The whole message; :class:`MessageGone` when it is no longer there."""

    def head(self, incoming: Incoming) -> bytes:
        """The start of a message too large to read (its header block, at most
        :data:`~newsletter.returns.intake.HEAD_BYTES`): what it is known by;
        :class:`MessageGone` when it is no longer there."""

    def settle(self, incoming: Incoming, folder: str) -> None:
        """Move a handled message to ``processed`` or ``operator``."""

    def close(self) -> None: ...


class MaildirBox:
    """A Maildir and its two Maildir++ subfolders."""

    def __init__(self, root: Path, processed: str, operator: str) -> None:
        self.root = root
        self.source = maildir_source(root)
        self.folders = {OPERATOR: operator, "processed": processed}
        self.vanished = 0
        if not (root / "new").is_dir() or not (root / "cur").is_dir():
            raise MailboxError(
                f"{root}: not a Maildir (no new/ and cur/ in it)",
                hint="point bounces.maildir at the folder your mail server delivers to",
            )

    def messages(self) -> Iterator[Incoming]:
        """Every message of ``new/`` and ``cur/``; one listed and moved away by another
        reader before it is reached counts in :attr:`vanished` (the round's skipped)."""
        self.vanished = 0
        for sub in ("new", "cur"):
            for path in sorted((self.root / sub).iterdir()):
                if path.name.startswith("."):
                    continue
                try:
                    info = path.stat()
                except FileNotFoundError:  # another reader moved it
                    self.vanished += 1
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                yield Incoming(f"{sub}/{path.name}", info.st_size, str(path))

    def read(self, incoming: Incoming) -> bytes:
        try:
            return Path(incoming.ref).read_bytes()
        except FileNotFoundError:
            raise MessageGone(f"{incoming.label}: moved away before it was read") from None

    def head(self, incoming: Incoming) -> bytes:
        try:
            with Path(incoming.ref).open("rb") as handle:
                return handle.read(HEAD_BYTES)
        except FileNotFoundError:
            raise MessageGone(f"{incoming.label}: moved away before it was read") from None

    def folder(self, name: str) -> Path:
        """The Maildir++ subfolder ``.<name>``, made (with ``maildirfolder``) if missing."""
        path = self.root / f".{name}"
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        (path / "maildirfolder").touch(exist_ok=True)
        return path

    def settle(self, incoming: Incoming, folder: str) -> None:
        source = Path(incoming.ref)
        name = source.name
        base, _, flags = name.partition(":2,")
        if "S" not in flags:
            flags = "".join(sorted(flags + "S"))
        target = self.folder(self.folders[folder]) / "cur" / f"{base}:2,{flags}"
        try:
            os.replace(source, target)
        except FileNotFoundError:
            log.info("%s was moved by someone else meanwhile", incoming.label)

    def keep(self, raw: bytes, label: str, folder: str, rest: BinaryIO | None = None) -> Path:
        """File a message that came by another way (standard input) into ``folder``,
        as a Maildir delivery does: written to ``tmp/``, fsynced, renamed into ``new/``.
        ``rest``: what follows ``raw`` (a message too large to hold), copied as it comes."""
        return self.file_staged(self.stage(raw, rest), label, folder)

    def stage(self, raw: bytes, rest: BinaryIO | None = None) -> Path:
        """Write a message that came by another way into this Maildir's ``tmp/``, fsynced,
        before anything about it is recorded: ``bounces read --stdin`` stages its copy
        first, so a full disk or an unwritable folder fails the pipe (exit 75, the mail
        server keeps the message) with nothing applied, never after.  A partly written
        copy is removed."""
        name = f"{time.time_ns()}.P{os.getpid()}.{socket.gethostname().replace('/', '_')}"
        temporary = self.root / "tmp" / name
        try:
            with temporary.open("xb") as handle:
                handle.write(raw)
                if rest is not None:
                    shutil.copyfileobj(rest, handle)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return temporary

    def file_staged(self, staged: Path, label: str, folder: str) -> Path:
        """Move a copy :meth:`stage` wrote into ``folder``'s ``new/`` (one rename on
        the same file system: the folders are inside this Maildir)."""
        target = self.folder(self.folders[folder])
        final = target / "new" / staged.name
        try:
            os.replace(staged, final)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # the folder is on another file system (a symlinked Maildir++ folder): copy
            # into its own tmp/, fsync, rename there, as a delivery into it would
            moving = target / "tmp" / staged.name
            shutil.copyfile(staged, moving)
            with moving.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(moving, final)
            staged.unlink()
        log.info("%s filed as %s", label, final)
        return final

    @classmethod
    def made(cls, root: Path, processed: str, operator: str) -> MaildirBox:
        """The Maildir at ``root``, created (mode 0700) when missing."""
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(root, processed, operator)

    def close(self) -> None:
        pass


def _quote(folder: str) -> str:
    return '"' + folder + '"'


class ImapBox:
    """One IMAP folder, read by UID."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str,
        folder: str,
        processed: str,
        operator: str,
        *,
        timeout: float = IMAP_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.folders = {OPERATOR: operator, "processed": processed}
        self.source = imap_source(host, port, username, folder)
        where = f"imap://{host}:{port}/{folder}"
        context = ssl_context or ssl.create_default_context()
        try:
            if security == "ssl":
                self.conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    host, port, ssl_context=context, timeout=timeout
                )
            else:
                self.conn = imaplib.IMAP4(host, port, timeout=timeout)
        except (TimeoutError, OSError, ssl.SSLError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"{where}: cannot connect: {_text(str(exc))}") from None
        try:
            if security == "starttls":
                self.conn.starttls(context)
            self.conn.login(username, password)
            typ, data = self.conn.select(_quote(folder))
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            self._drop()
            raise MailboxError(f"{where}: connection failed: {_text(str(exc))}") from None
        except imaplib.IMAP4.error as exc:
            self._drop()
            said = exc.args[0] if exc.args else exc
            said = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
            raise MailboxError(
                f"{where}: the server said: {_text(said)}",
                hint="check bounces.imap_username and the password variable "
                "bounces.imap_password_env",
            ) from None
        if typ != "OK":
            self._drop()
            raise MailboxError(f"{where}: cannot open the folder: {_text(data)}")
        self.where = where
        self.vanished = 0
        self.move = b"MOVE" in {c.upper() for c in self._capabilities()}
        self._made: set[str] = set()

    def _drop(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            self.conn.shutdown()

    def _capabilities(self) -> list[bytes]:
        typ, data = self.conn.capability()
        return data[0].split() if typ == "OK" and data and data[0] else []

    def messages(self) -> Iterator[Incoming]:
        typ, data = self.conn.uid("SEARCH", "ALL")
        if typ != "OK":
            raise MailboxError(f"{self.where}: SEARCH failed: {_text(data)}")
        uids = data[0].split() if data and data[0] else []
        for uid in uids:
            typ, got = self.conn.uid("FETCH", uid, "(RFC822.SIZE)")
            size = None
            for item in got or []:
                text = item[0] if isinstance(item, tuple) else item
                found = re.search(rb"RFC822\.SIZE (\d+)", text or b"")
                if found:
                    size = int(found.group(1))
            if typ == "OK" and size is not None:
                name = uid.decode("ascii")
                yield Incoming(f"uid {name}", size, name)
            else:  # no size: expunged since the SEARCH (the round's skipped)
                self.vanished += 1

    def read(self, incoming: Incoming) -> bytes:
        return self._fetch(incoming, "BODY.PEEK[]")

    def _fetch(self, incoming: Incoming, part: str) -> bytes:
        """``part`` of the message; MessageGone when its UID has left the folder (a
        FETCH of it answers OK with nothing, or NO [EXPUNGEISSUED], RFC 5530)."""
        try:
            typ, data = self.conn.uid("FETCH", incoming.ref, f"({part})")
        except imaplib.IMAP4.error as exc:
            raise MailboxError(
                f"{self.where}: cannot fetch {incoming.label}: {_text(str(exc))}"
            ) from None
        for item in data or []:
            if isinstance(item, tuple) and len(item) == 2:
                return bytes(item[1])
        if not self._present(incoming.ref):
            raise MessageGone(f"{self.where}: {incoming.label}: moved away before it was read")
        raise MailboxError(f"{self.where}: cannot fetch {incoming.label}: {typ} {_text(data)}")

    def _present(self, uid: str) -> bool:
        """Whether ``uid`` is still in the folder (``UID SEARCH UID``, after a NOOP
        has the server report what others expunged)."""
        self.conn.noop()
        typ, data = self.conn.uid("SEARCH", "UID", uid)
        if typ != "OK":
            return True  # cannot tell: not taken for gone
        return uid.encode("ascii") in (data[0].split() if data and data[0] else [])

    def head(self, incoming: Incoming) -> bytes:
        """The header block only (``BODY.PEEK[HEADER]``, cut at HEAD_BYTES): the
        message body is never downloaded."""
        return self._fetch(incoming, f"BODY.PEEK[HEADER]<0.{HEAD_BYTES}>")

    def _ensure(self, folder: str) -> None:
        """Create ``folder`` unless this connection has (an existing one is fine)."""
        if folder in self._made:
            return
        typ, data = self.conn.create(_quote(folder))
        if typ != "OK" and "EXISTS" not in _text(data).upper():
            raise MailboxError(f"{self.where}: cannot create folder {folder!r}: {_text(data)}")
        self._made.add(folder)

    def settle(self, incoming: Incoming, folder: str) -> None:
        name = self.folders[folder]
        self._ensure(name)
        if self.move:
            typ, data = self.conn.uid("MOVE", incoming.ref, _quote(name))
        else:
            typ, data = self.conn.uid("COPY", incoming.ref, _quote(name))
            if typ == "OK":
                self.conn.uid("STORE", incoming.ref, "+FLAGS.SILENT", r"(\Deleted \Seen)")
                self.conn.expunge()
        if typ != "OK":
            raise MailboxError(
                f"{self.where}: cannot move {incoming.label} to {name}: {_text(data)}"
            )

    def close(self) -> None:
        try:
            self.conn.close()
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError):
            self._drop()


def _text(value: object) -> str:
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:300]


def maildir_source(root: Path) -> str:
    """A Maildir's identity: its absolute path, symbolic links resolved."""
    return f"maildir:{root.resolve()}"


def imap_source(host: str, port: int, username: str, folder: str) -> str:
    """An IMAP folder's identity: who reads which folder on which server."""
    return f"imap://{username}@{host.lower()}:{port}/{folder}"


def intake_source(settings: Settings) -> str:
    """The identity of the configured intake (what :func:`open_mailbox` would open),
    known without connecting; MailboxError when there is none."""
    bounces = settings.bounces
    if bounces.intake == "maildir":
        return maildir_source(bounces.maildir)
    if bounces.intake == "imap":
        imap = bounces.imap
        return imap_source(imap.host, imap.port, imap.username, imap.folder)
    raise _no_intake()


def _no_intake() -> MailboxError:
    return MailboxError(
        "no intake configured (bounces.intake = 'none')",
        hint="set bounces.intake to 'maildir' or 'imap', or feed messages to "
        "`newsletter bounces read --stdin`",
    )


def open_mailbox(settings: Settings) -> Mailbox:
    """The configured intake (``bounces.intake``); MailboxError when there is none."""
    bounces = settings.bounces
    if bounces.intake == "maildir":
        return MaildirBox(bounces.maildir, bounces.processed_folder, bounces.operator_folder)
    if bounces.intake == "imap":
        imap = bounces.imap
        password = os.environ.get(imap.password_env)
        if not password:
            raise MailboxError(
                f"bounces.intake is 'imap' but ${imap.password_env} is not set",
                hint=f"export {imap.password_env}=<the IMAP password of {imap.username}>",
            )
        return ImapBox(
            imap.host,
            imap.port,
            imap.security,
            imap.username,
            password,
            imap.folder,
            bounces.processed_folder,
            bounces.operator_folder,
        )
    raise _no_intake()

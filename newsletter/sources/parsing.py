"""Parsing fetched documents in a child process, so a slow parse ends at the deadline.

A feed or JSON document well under ``fetch.max_mb`` can still be slow to
parse: 15,000 RSS items in 1.9 MB took 16 s in feedparser, and a parser
cannot be interrupted from a thread (``serve`` runs the daily job in one).
So the documents a stranger chose (``feed`` and ``hf`` sources) are parsed in
a child process, which is killed when the source's time is up; the source
is then refused ("parsing took longer than fetch.timeout_seconds") and the
others go on.  The memory a hostile document makes the parser allocate is
the child's too, and is returned when it exits.

:class:`ParserProcess` is one child per run, reused for every source:

- it is started (``python -I``, the parent's ``sys.path``) when the first
  source is fetched, so its imports (feedparser, numpy: about a second on a
  loaded machine) overlap with that fetch and are paid once per run, not per
  source.  Waiting for it to be ready is not the source's time;
- each document goes to it as one length-prefixed frame (pickle) on its
  stdin, the parsed digest comes back the same way on its stdout; the parent
  waits with ``selectors`` until the source's deadline, never blocking on a
  pipe (so it works from any thread);
- a child that overruns is killed (``SIGKILL``) and reaped, and a new one is
  started at once for the next source;
- it never outlives the run: :meth:`ParserProcess.close` (called in a
  ``finally``) closes its stdin, waits for it and kills it if need be.  If
  the run itself is killed, the child reads end-of-file and exits; and each
  parse arms an alarm in the child (its budget + 5 s), so a child whose parent
  is gone cannot go on parsing for long.  The child ignores SIGINT and
  SIGTERM: a Ctrl-C or a service manager's stop reaches the whole process
  group, and ``serve`` finishes the edition in progress before it exits.

Why not ``multiprocessing``: with the ``forkserver`` or ``spawn`` start
method every child re-runs the parent's main script (Python 3.11 never
preloads it into the fork server), and under the ``newsletter`` console
script that costs 0.3-0.5 s per child (measured: 12 ms with a bare main);
``fork`` is unsafe from a threaded process.  One plain subprocess per run
costs its start once and about a millisecond per document after that.

The in-process parsers (:func:`newsletter.sources.feed.parse_feed`,
:func:`newsletter.sources.hf.parse_hf`) stay the reference; this module only
moves the call.  POSIX only (``selectors`` on pipes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any, BinaryIO

from newsletter.errors import InputError, NewsletterError
from newsletter.sources.feed import ParsedFeed, parse_feed
from newsletter.sources.hf import parse_hf

log = logging.getLogger(__name__)

STARTUP_SECONDS = 60.0
"""Longest wait for a new child to import its parsers (far above the second it takes)."""
MIN_PARSE_SECONDS = 0.5
"""Least time a parse is given, even when the fetch used up the source's deadline."""
_WATCHDOG_SLACK = 5
"""Seconds past its budget after which a child ends itself (its parent may be gone)."""

_HEADER = struct.Struct(">Q")
_READY = b"ready"
_MAX_FRAME = 1 << 32  # a reply longer than this is no reply: the protocol broke


class ParseError(InputError):
    """A document whose parsing overran the source's deadline, or whose parser died."""

    default_hint = "the run goes on without this source; is the url right?"


_OVERRAN = "overran"
_DIED = "died"
"""What :meth:`ParserProcess._receive` returns instead of a frame."""


Clock = Callable[[], float]


class ParserProcess:
    """One child process that parses documents on request (see the module docstring)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._child: subprocess.Popen[bytes] | None = None
        self._ready = False

    def __enter__(self) -> ParserProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The running child's process id (None: none running)."""
        return self._child.pid if self._child is not None else None

    def start(self) -> None:
        """Start the child unless one is running; returns at once (it imports meanwhile)."""
        if self._child is not None:
            return
        command = (
            f"import sys; sys.path[:] = {sys.path!r}; "
            "from newsletter.sources.parsing import serve; serve()"
        )
        self._child = subprocess.Popen(
            [sys.executable, "-I", "-c", command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        self._ready = False
        for pipe in (self._child.stdin, self._child.stdout):
            assert pipe is not None
            os.set_blocking(pipe.fileno(), False)

    def parse(
        self, kind: str, content: bytes, *, name: str, content_type: str, seconds: float, limit: str
    ) -> ParsedFeed:
        """``content`` parsed as ``kind`` (``feed`` or ``hf``) within ``seconds``.

        Raises what the parser raises (:class:`FeedError`, :class:`HfError`),
        re-raises an unexpected exception of the parser as it was, and raises
        :class:`ParseError` when the parse overran (``limit`` names the bound
        in the message) or the child died.
        """
        try:
            self.start()
        except OSError as exc:
            raise ParseError(
                f"{name}: could not start the parser process ({exc})",
                hint="the system refused a new process; check its limits (ulimit -u, memory)",
            ) from None
        child = self._child
        assert child is not None
        reply: bytes | str = b""
        if not self._ready:
            reply = self._receive(child, b"", self._clock() + STARTUP_SECONDS, expect_ready=True)
            self._ready = reply == _READY
        if self._ready:
            request = pickle.dumps((kind, content, name, content_type, seconds), protocol=5)
            reply = self._receive(child, request, self._clock() + max(seconds, 0.0))
        if reply == _OVERRAN:
            self._kill()
            if not self._ready:
                raise ParseError(
                    f"{name}: the parser process did not start within {STARTUP_SECONDS:g} s",
                    hint="the machine is overloaded; try again later",
                )
            with contextlib.suppress(OSError):  # if it cannot start, the next source says so
                self.start()  # the next source's parser boots during its fetch
            raise ParseError(
                f"{name}: parsing took longer than {limit}; stopped",
                hint="a document this slow to read is hostile or far too large; is the url right?",
            )
        if not isinstance(reply, bytes) or not self._ready:
            code = self._kill()
            how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            raise ParseError(
                f"{name}: the parser process ended without an answer ({how})",
                hint="the machine may be out of memory; the other sources went on",
            )
        return _outcome(reply)

    def close(self) -> None:
        """End the child: end-of-file on its stdin, a short wait, then a kill. Idempotent."""
        child, self._child = self._child, None
        if child is None:
            return
        assert child.stdin is not None and child.stdout is not None
        with contextlib.suppress(OSError):
            child.stdin.close()
        try:
            child.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.stdout.close()

    def _kill(self) -> int:
        """Kill and reap the child; its exit status."""
        child, self._child = self._child, None
        assert child is not None and child.stdin is not None and child.stdout is not None
        child.kill()
        code = child.wait()
        for pipe in (child.stdin, child.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        return code

    def _receive(
        self,
        child: subprocess.Popen[bytes],
        request: bytes,
        deadline: float,
        *,
        expect_ready: bool = False,
    ) -> bytes | str:
        """Write ``request`` (if any) as a frame and read one frame back, by ``deadline``;
        ``_OVERRAN`` when the deadline passed, ``_DIED`` when the child went away."""
        assert child.stdin is not None and child.stdout is not None
        out = memoryview(_HEADER.pack(len(request)) + request if request else b"")
        reader, writer = child.stdout.fileno(), child.stdin.fileno()
        received = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(reader, selectors.EVENT_READ)
            if out:
                selector.register(writer, selectors.EVENT_WRITE)
            while True:
                frame = _frame(received)
                if frame is not None:
                    return _DIED if expect_ready and frame != _READY else frame
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return _OVERRAN
                for key, _ in selector.select(remaining):
                    if key.fd == writer:
                        try:
                            sent = os.write(writer, out[: 1 << 16])
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:
                            return _DIED
                        out = out[sent:]
                        if not out:
                            selector.unregister(writer)
                    else:
                        try:
                            chunk = os.read(reader, 1 << 20)
                        except BlockingIOError:
                            continue
                        if not chunk:
                            return _DIED
                        received += chunk


def _frame(buffer: bytearray) -> bytes | str | None:
    """The payload of the complete frame in ``buffer``, None while it is incomplete,
    ``_DIED`` if its length is past any answer (the protocol broke)."""
    if len(buffer) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack_from(buffer)
    if length > _MAX_FRAME:
        return _DIED
    if len(buffer) < _HEADER.size + length:
        return None
    return bytes(buffer[_HEADER.size : _HEADER.size + length])


def _outcome(reply: bytes) -> ParsedFeed:
    """The parsed feed of a reply, or the exception it carries raised here."""
    status, *rest = pickle.loads(reply)
    if status == "ok":
        parsed = rest[0]
        assert isinstance(parsed, ParsedFeed)
        return parsed
    if status == "refused":
        cls, message, hint = rest
        if isinstance(cls, type) and issubclass(cls, InputError):
            raise _rebuilt(cls, message, hint)
        raise InputError(message, hint=hint)
    exc, text = rest
    log.debug("the parser process raised:\n%s", text)
    raise exc


def _rebuilt(cls: type[InputError], message: str, hint: str | None) -> InputError:
    """``cls(message, hint)``, for the classes whose constructor is NewsletterError's."""
    if cls.__init__ is NewsletterError.__init__:
        return cls(message, hint=hint)
    return InputError(message, hint=hint)


# ---------------------------------------------------------------- the child's side


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _write(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _parse(kind: str, content: bytes, name: str, content_type: str) -> ParsedFeed:
    if kind == "hf":
        return parse_hf(content, name=name)
    return parse_feed(content, name=name, content_type=content_type)


def _answer(request: Any) -> bytes:
    kind, content, name, content_type, seconds = request
    signal.alarm(int(seconds) + _WATCHDOG_SLACK)  # SIGALRM's default action ends the child
    try:
        return pickle.dumps(("ok", _parse(kind, content, name, content_type)), protocol=5)
    except InputError as exc:
        return pickle.dumps(("refused", type(exc), exc.message, exc.hint), protocol=5)
    except Exception as exc:  # returned to the parent, which reports it for this source
        return _crash(exc, traceback.format_exc())
    finally:
        signal.alarm(0)


def _crash(exc: Exception, text: str) -> bytes:
    """The reply for an unexpected exception: itself if it survives pickling, else its text."""
    try:
        reply = pickle.dumps(("crashed", exc, text), protocol=5)
        pickle.loads(reply)
    except Exception:
        stand_in = RuntimeError(f"{type(exc).__name__}: {exc}"[:500])
        reply = pickle.dumps(("crashed", stand_in, text), protocol=5)
    return reply


def serve() -> None:
    """The child's loop: a frame in, a frame out, until end-of-file on stdin."""
    # Ctrl-C, or a service manager's SIGTERM to the whole group, is the parent's to handle:
    # it may finish the edition in progress, and ends this child when it is done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() must not corrupt the replies
    requests = sys.stdin.buffer
    _parse("feed", b"<rss version='2.0'><channel><title>warm</title></channel></rss>", "warm", "")
    _write(replies, _READY)
    while True:
        header = _read_exactly(requests, _HEADER.size)
        if header is None:
            return
        (length,) = _HEADER.unpack(header)
        payload = _read_exactly(requests, length)
        if payload is None:
            return
        _write(replies, _answer(pickle.loads(payload)))

"""What every response carries, and the access log.

:class:`SecurityHeaders` wraps the whole app (outside Starlette's error
handling, so a 500 carries them too) and adds, to every response that does
not set its own:

- ``X-Content-Type-Options: nosniff`` — a feed or an ``edition.json`` is never
  sniffed into HTML;
- ``Content-Security-Policy`` — the archive's policy: its own scripts (and
  WebAssembly, for a static search index), its own and inline styles, images
  from anywhere over https, no plugins, no framing, forms only to itself;
- ``X-Frame-Options: DENY`` (with ``frame-ancestors 'none'`` above) — no
  clickjacking of the subscriber buttons;
- ``Referrer-Policy: strict-origin-when-cross-origin``.

The subscriber pages set stricter ones themselves (no scripts but their own,
``no-referrer``, ``no-store``): a header the app set is never replaced.

:class:`AccessLog` logs one line per request to ``newsletter.web.access``:
client, method, path, status, bytes and milliseconds.  The query string is
logged with the values of ``t`` (the signed link tokens) replaced by ``…``, and so
is the token in the path of a 👍/👎 link (``/v/<token>/<ref>/up``), so the log
never holds a working unsubscribe, preferences or vote link.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter.urls import VOTE_LINK

SITE_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", SITE_CSP.encode("ascii")),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
SECRET_PARAMS = frozenset({"t", "form_token"})

_VOTE_LINK_PATH = re.compile(rf"(/{VOTE_LINK}/)[^/]+(/[^/]+(?:/[^/]*)?)$")
"""A vote link's path (``/v/<token>/<ref>`` or ``…/<ref>/up``): the token is its second-last
or third-last segment (see :mod:`newsletter.web.votes`)."""

access_log = logging.getLogger("newsletter.web.access")


class SecurityHeaders:
    """ASGI middleware: the headers above on every response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def redacted_target(scope: Scope) -> str:
    """The request's path and query, with link tokens replaced by ``…``."""
    path = str(scope.get("root_path", "")) + str(scope.get("path", ""))
    path = _VOTE_LINK_PATH.sub(r"\1…\2", path)
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return path
    pairs = [
        f"{quote(k)}=…" if k in SECRET_PARAMS else urlencode({k: v})
        for k, v in parse_qsl(query, True)
    ]
    return f"{path}?{'&'.join(pairs)}"


class AccessLog:
    """ASGI middleware: one log line per request (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        size = 0

        async def counting_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            client = scope.get("client")
            access_log.info(
                '%s "%s %s" %d %d %.1fms',
                client[0] if client else "-",
                scope.get("method", "-"),
                redacted_target(scope),
                status or 500,
                size,
                (time.perf_counter() - started) * 1000,
            )

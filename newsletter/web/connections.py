"""The connections of ``newsletter serve``: who may hold how many, for how long, and what
the HTTP server itself answers.

uvicorn's own limits are global: ``limit_concurrency`` counts every open
connection, idle ones too, so one client that opens a thousand connections and
sends nothing takes the whole budget, and every other client gets 503 until
those time out (and at once again if it reopens them).  And the responses
uvicorn makes itself — that 503, and the 400 h11 answers to a request it cannot
parse (a garbage request line, headers past the size limit, no ``Host``, a
``Content-Length`` that is not a number) — never pass through the app, so they
lacked the security headers every response of ours carries
(:mod:`newsletter.web.headers`).  So ``serve`` runs uvicorn's HTTP/1.1
protocol subclassed here (:func:`connection_protocol`), with uvicorn's
``limit_concurrency`` off:

- **A cap per client** (:class:`ConnectionBudget`): a TCP peer may hold at most
  ``serve.max_connections_per_client`` connections.  One past it displaces that
  client's oldest connection that is waiting for a request (idle, or never
  used), so a client's new request still gets through while it holds a pile of
  idle sockets; when all of them are in a request, the new one is closed at
  once, before it is read.  The peer is the TCP address, never a forwarded
  header (which the client writes); an IPv6 peer counts by its /64, which one
  machine usually owns whole.  Peers named in ``serve.forwarded_allow_ips``
  (addresses or networks, not ``'*'``) are exempt: a proxy carries many
  clients, and limits them itself.
- **A cap on all** (``serve.max_connections``): a request while more
  connections are open is answered 503 (``Retry-After``, ``Connection: close``)
  with the security headers.
- **A deadline for the headers**: a connection that has not sent a whole request
  head ``serve.header_timeout_seconds`` after it opened, or after its last
  response, is closed (uvicorn times out an idle keep-alive connection only
  after a response, and only until its first byte, so a connection that sends
  nothing or trickles its headers was held for ever).
- **The 400s carry the security headers** too.

Everything here runs on uvicorn's event loop thread, so the counters need no lock.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

from newsletter.web.headers import SECURITY_HEADERS, SecurityHeaders

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
C = TypeVar("C")

RETRY_AFTER_SECONDS = 5
"""What the 503 past ``serve.max_connections`` tells a client to wait."""
REFUSAL_LOG_SECONDS = 60.0
"""At most one log line this often about connections closed past a cap (or 503s)."""


def client_key(host: str | None) -> str | None:
    """The client a TCP peer address counts as: the address; an IPv6 one by its /64.

    An IPv4-mapped IPv6 address counts as its IPv4 address; something that is
    not an IP address (a Unix socket) counts as itself, and no address at all
    as no client (``None``).
    """
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def proxy_networks(forwarded_allow_ips: str) -> tuple[Network, ...]:
    """The networks of ``serve.forwarded_allow_ips`` (``'*'`` and non-addresses left out)."""
    networks: list[Network] = []
    for entry in forwarded_allow_ips.split(","):
        entry = entry.strip()
        if not entry or entry == "*":
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return tuple(networks)


@dataclass
class ConnectionBudget(Generic[C]):
    """Open connections, per client and in all (see the module doc).

    :meth:`admit` a new connection with its peer address; it answers the key to
    :meth:`release` it with when it closes, and the connection it displaced
    (to be closed), or ``None`` when it must be refused: the client holds
    ``per_client`` connections already and none of them is ``idle``.  A
    displaced connection is the client's oldest idle one: waiting for a request
    (never sent one, or kept alive after a response), which a browser replaces
    without a word, whereas a request in progress is never cut.  :attr:`full`
    is true while more than ``total`` are open.
    """

    per_client: int
    total: int
    idle: Callable[[C], bool]
    exempt: tuple[Network, ...] = ()
    _open: dict[str, dict[C, None]] = field(default_factory=dict, repr=False)
    _count: int = 0

    def admit(self, host: str | None, conn: C) -> tuple[str, C | None] | None:
        key = client_key(host) if not self._is_exempt(host) else None
        displaced: C | None = None
        if key is not None:
            held = self._open.setdefault(key, {})
            if len(held) >= self.per_client:
                displaced = next((c for c in held if self.idle(c)), None)
                if displaced is None:
                    return None
                self.release(key, displaced)
                held = self._open.setdefault(key, {})
            held[conn] = None
        self._count += 1
        return key or "", displaced

    def release(self, key: str, conn: C) -> None:
        """Forget ``conn`` (admitted with ``key``); releasing it twice is harmless."""
        if not key:
            self._count -= 1
            return
        held = self._open.get(key)
        if held is None or conn not in held:
            return
        del held[conn]
        self._count -= 1
        if not held:
            del self._open[key]

    @property
    def full(self) -> bool:
        return self._count > self.total

    @property
    def open(self) -> int:
        return self._count

    def held_by(self, host: str | None) -> int:
        key = client_key(host)
        return len(self._open.get(key, {})) if key else 0

    def _is_exempt(self, host: str | None) -> bool:
        if not self.exempt or not host:
            return False
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.exempt)


async def _service_unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    body = b"The server is busy. Please try again in a moment.\n"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


SERVICE_UNAVAILABLE: ASGIApp = SecurityHeaders(_service_unavailable)
"""The 503 past ``serve.max_connections``, with the security headers."""


@dataclass
class _Throttled:
    """A warning said at most once a minute under a flood, with how often it happened."""

    message: str
    clock: Callable[[], float] = time.monotonic
    count: int = 0
    last: float = float("-inf")

    def note(self, *args: object) -> None:
        self.count += 1
        now = self.clock()
        if now - self.last >= REFUSAL_LOG_SECONDS:
            log.warning(self.message, self.count, *args)
            self.count = 0
            self.last = now


def waiting(protocol: Any) -> bool:
    """Whether a uvicorn protocol is between requests (none started, or the last answered)."""
    cycle = getattr(protocol, "cycle", None)
    return cycle is None or bool(cycle.response_complete)


def connection_protocol(header_seconds: float, budget: ConnectionBudget[Any]) -> type[Any]:
    """uvicorn's HTTP/1.1 protocol with the caps, the header deadline and our own 400/503.

    The overrides are of uvicorn's ``H11Protocol`` methods ``connection_made``,
    ``connection_lost``, ``on_response_complete`` and ``send_400_response``, and
    of the ``app`` it runs each request with; tests/test_web_serve.py checks
    each of them against a real server, so a uvicorn that renamed one fails there.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    displaced = _Throttled(
        "closed %d connection(s) past serve.max_connections_per_client = %d "
        "(a client's oldest idle one, or a new one when all were busy; latest from %s)"
    )
    unavailable = _Throttled(
        "503 to %d request(s): %d connections open, past serve.max_connections = %d"
    )

    class GuardedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _seat: str | None = None

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._inner_app = self.app
            self.app = self._dispatch

        async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
            if budget.full:
                unavailable.note(budget.open, budget.total)
                await SERVICE_UNAVAILABLE(scope, receive, send)
            else:
                await self._inner_app(scope, receive, send)

        def _arm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._header_timer = self.loop.call_later(header_seconds, self._headers_late)

        def _headers_late(self) -> None:
            self._header_timer = None
            if waiting(self) and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            peer = transport.get_extra_info("peername")
            host = peer[0] if isinstance(peer, tuple) and peer else None
            admitted = budget.admit(host, self)
            if admitted is None:
                displaced.note(budget.per_client, host or "-")
                transport.close()  # past the per-client cap, all busy: not even read
                return
            self._seat, other = admitted
            if other is not None:
                displaced.note(budget.per_client, host or "-")
                other._seat = None
                if not other.transport.is_closing():
                    other.transport.close()
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            if self._seat is not None:
                budget.release(self._seat, self)
                self._seat = None
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            """uvicorn's answer to a request h11 cannot parse, with the security headers."""
            body = msg.encode("ascii", "replace")
            headers = [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
                *SECURITY_HEADERS,
            ]
            events = (
                h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                h11.Data(data=body),
                h11.EndOfMessage(),
            )
            try:
                for event in events:
                    data = self.conn.send(event)
                    if data:
                        self.transport.write(data)
            except h11.LocalProtocolError:
                pass  # mid-response already: no answer can be given, only the close
            self.transport.close()

    return GuardedH11Protocol

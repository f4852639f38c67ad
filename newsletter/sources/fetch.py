"""Fetching a feed or JSON document over HTTP, defensively.

Every feed is someone else's server, so a fetch is bounded on all sides:

- only ``http`` and ``https`` URLs; feedparser never sees a URL (it would
  open local paths and has no timeout), only the bytes fetched here;
- a total deadline for the whole fetch (connect, redirects, download), not
  only per read, so a server trickling one byte a second is cut off;
- a size limit, checked against ``Content-Length`` and while downloading;
- redirects followed by hand, at most ``max_redirects``, a loop refused at once;
- no loopback, private, link-local or otherwise non-global address unless the
  source allows it, and then only for the host it names (a redirect to
  another host must be public).  Every hop is checked after DNS resolution.
  (The check and the connection resolve separately; a DNS answer that changes
  in between is not caught.  Run behind an egress firewall if that matters.)
- conditional requests: the ETag and Last-Modified of the previous successful
  fetch are sent back, and ``304 Not Modified`` means "nothing new".

The client is passed in (one ``httpx.Client`` per run) so tests use real
loopback servers through the same code.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from newsletter.errors import InputError

log = logging.getLogger(__name__)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(InputError):
    """A fetch was refused or failed; the message names the URL and why."""

    default_hint = "the run goes on without this source; check its url, or try again later"


@dataclass(frozen=True)
class FetchPolicy:
    """The bounds of one fetch."""

    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False


@dataclass(frozen=True)
class Validators:
    """What the previous successful fetch returned, for a conditional request."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class Fetched:
    """The outcome of a fetch: new content, or ``not_modified`` (304) with none."""

    url: str
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool = False

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def make_client(user_agent: str, timeout: float) -> httpx.Client:
    """The client a run fetches with: honest User-Agent, no automatic redirects.

    ``trust_env=False``: proxy variables would route around the address checks.
    """
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        trust_env=False,
    )


_PASSWORD = re.compile(r"(://[^/?#@\s:]*):[^/?#@\s]*@")


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL hidden."""
    return _PASSWORD.sub(r"\1:***@", text)


def fetch(
    client: httpx.Client,
    url: str,
    policy: FetchPolicy,
    previous: Validators | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Fetched:
    """GET ``url`` within ``policy``; raise FetchError with a clear reason otherwise.

    Error messages name the URL with any password in it hidden: they end up in
    the run report, ``newsletter status`` and the logs.
    """
    try:
        return _fetch(client, url, policy, previous, clock)
    except FetchError as exc:
        raise FetchError(redact(exc.message), hint=exc.hint) from None


def _fetch(
    client: httpx.Client,
    url: str,
    policy: FetchPolicy,
    previous: Validators | None,
    clock: Callable[[], float],
) -> Fetched:
    deadline = clock() + policy.timeout
    origin_host = _check_url(url, url)
    seen: set[str] = set()
    current = url
    for _hop in range(policy.max_redirects + 1):
        if current in seen:
            raise FetchError(f"{url}: redirect loop (back to {current})")
        seen.add(current)
        host = _check_url(current, url)
        allow = policy.allow_private and host == origin_host
        _check_address(url, current, host, allow)
        headers = _conditional_headers(previous) if current == url else {}
        remaining = deadline - clock()
        if remaining <= 0:
            raise FetchError(f"{url}: timed out after {policy.timeout:g} s")
        try:
            with client.stream(
                "GET", current, headers=headers, timeout=httpx.Timeout(remaining)
            ) as response:
                if response.status_code == 304:
                    return Fetched(
                        url=current,
                        content=b"",
                        content_type="",
                        etag=previous.etag if previous else None,
                        last_modified=previous.last_modified if previous else None,
                        not_modified=True,
                    )
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location", "")
                    if not location:
                        raise FetchError(f"{url}: redirect without a Location header")
                    try:
                        current = urljoin(current, location)
                    except ValueError:
                        raise FetchError(
                            f"{url}: redirect to an invalid URL {location[:200]!r}"
                        ) from None
                    log.debug("%s: redirected to %s", redact(url), redact(current))
                    continue
                if response.status_code >= 400:
                    raise FetchError(
                        f"{url}: HTTP {response.status_code} {response.reason_phrase}",
                        hint="check the source's url in config.toml",
                    )
                content = _read_body(response, url, policy, deadline, clock)
                return Fetched(
                    url=current,
                    content=content,
                    content_type=response.headers.get("content-type", ""),
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
        except httpx.TimeoutException:
            raise FetchError(f"{url}: timed out after {policy.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
    raise FetchError(f"{url}: more than {policy.max_redirects} redirects")


def _check_url(current: str, url: str) -> str:
    """The host of ``current``, or FetchError if it is not a well-formed http(s) URL.

    ``urlsplit`` raises ValueError on a malformed IPv6 literal (``http://[::1``)
    and ``.port`` on a port out of range: those come from config.toml or a
    server's Location header and must refuse this source, not end the run.
    """
    try:
        parts = urlsplit(current)
        parts.port  # noqa: B018 - validated here, read again in _check_address
    except ValueError as exc:
        via = f" (redirected to {current})" if current != url else ""
        raise FetchError(f"{url}{via}: not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(
            f"{url}: only http and https are fetched, not {parts.scheme or 'a relative URL'!r}"
            + (f" (redirected to {current})" if current != url else "")
        )
    if not parts.hostname:
        raise FetchError(f"{url}: no host in {current}")
    return parts.hostname.lower()


def _check_address(url: str, current: str, host: str, allow_private: bool) -> None:
    """Refuse hosts that resolve to a non-public address (unless allowed for this host)."""
    if allow_private:
        return
    port = urlsplit(current).port or (443 if current.startswith("https") else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"{url}: cannot resolve {host}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            via = f" (redirected to {current})" if current != url else ""
            raise FetchError(
                f"{url}{via}: {host} is a loopback, private or link-local address ({address}); "
                "refused",
                hint="set allow_private = true on the source if this host is meant",
            )


def _conditional_headers(previous: Validators | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if previous and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    return headers


def _read_body(
    response: httpx.Response,
    url: str,
    policy: FetchPolicy,
    deadline: float,
    clock: Callable[[], float],
) -> bytes:
    limit_mb = f"{policy.max_bytes / 2**20:g} MB"
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(
            f"{url}: document is {int(declared) / 2**20:.1f} MB, more than the {limit_mb} limit",
            hint="raise fetch.max_mb if this feed is really that big",
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():  # as it arrives, so the deadline is checked often
        size += len(chunk)
        if size > policy.max_bytes:
            raise FetchError(
                f"{url}: document is larger than the {limit_mb} limit; stopped reading",
                hint="raise fetch.max_mb if this feed is really that big",
            )
        if clock() > deadline:
            raise FetchError(f"{url}: timed out after {policy.timeout:g} s ({size} bytes received)")
        chunks.append(chunk)
    return b"".join(chunks)

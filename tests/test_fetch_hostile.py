"""Hostile servers against the bounds of a fetch, on real loopback sockets.

Each server here once held a 3 s fetch for 40 s or more, stretched it to
twice its deadline, or took the fetching process to gigabytes (issue 10,
items 8, 9 and 11).  With ``fetch.timeout_seconds = 3`` and ``fetch.max_mb =
2`` each is refused within the deadline + 1 s and, for the bombs, with the
peak RSS of the fetching process (a subprocess, measured by the kernel) far
under 400 MB.  The connection goes to the address that was checked, with the
host name in the Host header and in TLS (SNI and certificate).
"""

from __future__ import annotations

import gzip
import json
import lzma
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from loopback import (
    Handler,
    Loopback,
    ScriptedNetwork,
    body,
    coded,
    continue_flood,
    serving,
    slow_body,
    slow_redirect,
    trickled_headers,
    trickling_tls,
)

from newsletter import config, pipeline
from newsletter.model import RunReport
from newsletter.sources.feed import FeedError, parse_feed
from newsletter.sources.fetch import FetchError, FetchPolicy, fetch, make_client
from newsletter.sources.hf import HfError
from newsletter.sources.network import GuardedNetwork
from newsletter.sources.parsing import ParseError, ParserProcess

TIMEOUT = 3.0
LIMIT = 2 * 2**20  # fetch.max_mb = 2
POLICY = FetchPolicy(timeout=TIMEOUT, max_bytes=LIMIT, max_redirects=5, allow_private=True)
CORPUS = Path(__file__).parent / "corpus" / "fetch"
FEED = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"


def refused_in(url: str, **client: object) -> tuple[float, str]:
    """Fetch ``url`` expecting a refusal: (seconds it took, the message)."""
    started = time.monotonic()
    with (
        make_client("newsletter-test/1", TIMEOUT, **client) as http,  # type: ignore[arg-type]
        pytest.raises(FetchError) as caught,
    ):
        fetch(http, url, POLICY)
    return time.monotonic() - started, str(caught.value)


# ---------------------------------------------------------------- one deadline for everything


def _slow_redirects(server: Loopback) -> str:
    for hop in range(4):  # 4 hops of 1.2 s each: the third is cut off
        server.route(f"/r{hop}", slow_redirect(f"/r{hop + 1}", 1.2))
    server.route("/r4", body(FEED))
    return "/r0"


SLOW: dict[str, Handler] = {
    "trickled-headers": trickled_headers(0.5),
    "continue-flood": continue_flood(0.01),
    "slow-body": slow_body(TIMEOUT - 0.2),  # each byte just inside a per-read timeout
}


@pytest.mark.parametrize("attack", [*SLOW, "slow-redirects"])
def test_a_slow_server_is_cut_off_at_the_deadline_of_the_whole_exchange(attack: str) -> None:
    """Headers trickled one byte every 0.5 s, ``100 Continue`` for ever, a body byte every
    2.8 s, redirects that take 1.2 s each: each ends at 3 s (it was 40 s, or 2x, before)."""
    with serving() as server:
        if attack == "slow-redirects":
            path = _slow_redirects(server)
        else:
            path = "/" + attack
            server.route(path, SLOW[attack])
        elapsed, message = refused_in(server.url(path))
    assert "timed out after 3 s" in message, message
    assert TIMEOUT - 0.3 < elapsed < TIMEOUT + 1, f"{attack}: refused after {elapsed:.2f} s"


def test_slow_dns_counts_against_the_deadline() -> None:
    release = threading.Event()

    def stuck_resolver(host: str, port: int) -> list[str]:
        release.wait(30)
        return ["127.0.0.1"]

    try:
        elapsed, message = refused_in("http://feed.test:9/f", resolver=stuck_resolver)
    finally:
        release.set()
    assert "timed out after 3 s" in message
    assert elapsed < TIMEOUT + 1


def test_a_tls_handshake_that_never_completes_ends_at_the_deadline() -> None:
    with trickling_tls(0.5) as port:
        elapsed, message = refused_in(f"https://127.0.0.1:{port}/f")
    assert "timed out after 3 s" in message, message
    assert elapsed < TIMEOUT + 1


# ---------------------------------------------------------------- content codings


def _gzip_bomb() -> bytes:
    """1 MB on the wire, 1 GiB of zeros decoded (kept xz-compressed in the corpus)."""
    return lzma.decompress((CORPUS / "gzip-1gib.bin.xz").read_bytes())


_MEASURE = """
import json, resource, sys
from newsletter.sources.fetch import FetchError, FetchPolicy, fetch, make_client

policy = FetchPolicy(timeout=3, max_bytes=2 * 2**20, allow_private=True)
with make_client("rss-probe", 3) as client:
    fetch(client, sys.argv[1], policy)  # warm: every module loaded before the baseline
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        fetch(client, sys.argv[2], policy)
        outcome = "accepted"
    except FetchError as exc:
        outcome = str(exc)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_mb": before / 1024, "peak_mb": peak / 1024, "outcome": outcome}))
"""


def _fetch_in_a_subprocess(server: Loopback, path: str) -> dict[str, object]:
    server.route("/warm", body(FEED))
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, server.url("/warm"), server.url(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    measured: dict[str, object] = json.loads(result.stdout)
    measured["seconds"] = time.monotonic() - started
    return measured


@pytest.mark.parametrize(
    "name, encoding, expected",
    [
        ("nested gzip (gzip, gzip)", "gzip, gzip", "more than one content coding"),
        ("1 MB gzip of 1 GiB", "gzip", r"larger than the 2 MB limit (gzip-decoded)"),
    ],
)
def test_a_decompression_bomb_is_refused_with_little_memory(
    name: str, encoding: str, expected: str
) -> None:
    data = (CORPUS / "gzip-gzip-2gib.bin").read_bytes() if "," in encoding else _gzip_bomb()
    with serving() as server:
        server.route("/bomb", coded(data, encoding))
        measured = _fetch_in_a_subprocess(server, "/bomb")
    assert expected in str(measured["outcome"]), measured
    peak, before = float(str(measured["peak_mb"])), float(str(measured["before_mb"]))
    assert peak < 400, measured  # the acceptance bound; before: 2.1 GB and 207 MB
    assert peak - before < 48, measured  # in fact: about the 2 MB limit, whatever the ratio


def _deflate(data: bytes, raw: bool) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def test_compressed_feeds_are_decoded_and_counted_decoded() -> None:
    big = FEED[:-25] + b"<!--" + b"x" * (LIMIT - 2000) + b"-->" + FEED[-25:]  # just under 2 MB
    with serving() as server:
        server.route("/gzip", coded(gzip.compress(big), "gzip"))
        server.route("/x-gzip", coded(gzip.compress(FEED), "x-gzip"))
        server.route("/members", coded(gzip.compress(FEED[:30]) + gzip.compress(FEED[30:]), "gzip"))
        server.route("/zlib", coded(_deflate(FEED, raw=False), "deflate"))
        server.route("/raw-deflate", coded(_deflate(FEED, raw=True), "deflate"))
        server.route("/identity", coded(FEED, "identity"))
        server.route("/too-big", coded(gzip.compress(big + b" " * 4000), "gzip"))
        server.route("/cut", coded(gzip.compress(FEED)[:-12], "gzip"))
        server.route("/brotli", coded(FEED, "br"))
        server.route("/corrupt", coded(b"\x1f\x8b" + b"\x00" * 40, "gzip"))
        with make_client("t", TIMEOUT) as client:
            assert fetch(client, server.url("/gzip"), POLICY).content == big
            for path in ("/x-gzip", "/members", "/zlib", "/raw-deflate", "/identity"):
                assert fetch(client, server.url(path), POLICY).content == FEED, path
            refusals = {}
            for path in ("/too-big", "/cut", "/brotli", "/corrupt"):
                with pytest.raises(FetchError) as caught:
                    fetch(client, server.url(path), POLICY)
                refusals[path] = str(caught.value)
        assert server.hits[0][1]["Accept-Encoding"] == "gzip, deflate"
    assert "larger than the 2 MB limit (gzip-decoded)" in refusals["/too-big"]
    assert "ends before its compressed stream does" in refusals["/cut"]
    assert "unsupported content coding 'br'" in refusals["/brotli"]
    assert "gzip body is corrupt" in refusals["/corrupt"]


# ---------------------------------------------------------------- the checked address is used


def test_a_dns_answer_that_changes_after_the_check_is_never_used() -> None:
    """DNS rebinding: public when checked, loopback a moment later.  One resolution per
    connection, and the connection goes to the address that passed the check."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])
    asked: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    def answer(address: str, port: int) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(FEED), FEED)

    memory = ScriptedNetwork(answer)
    network = GuardedNetwork(resolver=rebinding, inner=memory)
    with make_client("t", TIMEOUT, network=network) as client:
        got = fetch(client, "http://rebind.test/feed", FetchPolicy(timeout=TIMEOUT))
    assert got.content == FEED
    assert asked == ["rebind.test"]
    assert memory.connected == ["93.184.216.34"]


def test_the_connection_goes_to_the_resolved_address_with_the_name_as_host() -> None:
    """Two real servers on one port: 127.0.0.1 (the answer checked) and 127.0.0.2 (what a
    second resolution would say).  Only the first is reached, asked for the name."""
    calls: list[str] = []
    with serving() as checked, serving("127.0.0.2", checked.port) as other:
        checked.route("/f", body(FEED))
        other.route("/f", body(b"<rss version='2.0'><channel><title>other</title></channel></rss>"))

        def flipping(host: str, port: int) -> list[str]:
            calls.append(host)
            return ["127.0.0.1"] if len(calls) == 1 else ["127.0.0.2"]

        with make_client("t", TIMEOUT, resolver=flipping) as client:
            got = fetch(client, f"http://feed.test:{checked.port}/f", POLICY)
        assert got.content == FEED
        assert calls == ["feed.test"] and other.hits == []
        assert checked.hits[0][1]["Host"] == f"feed.test:{checked.port}"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-nodes", "-days", "2", "-subj", "/CN=feed.test"),
            *("-addext", "subjectAltName=DNS:feed.test", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    yield cert, key


def test_tls_verifies_the_name_and_sends_it_as_sni_while_connecting_to_the_address(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_side.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    trust = ssl.create_default_context(cafile=str(cert))
    with serving(tls=server_side) as server:
        server.route("/f", body(FEED))
        url = server.url("/f", host="feed.test", scheme="https")
        with make_client("t", TIMEOUT, resolver=lambda h, p: ["127.0.0.1"], verify=trust) as client:
            assert fetch(client, url, POLICY).content == FEED
        assert names == ["feed.test"]
        assert server.hits[0][1]["Host"] == f"feed.test:{server.port}"
        # the same address under a name the certificate does not carry: refused
        wrong = server.url("/f", host="other.test", scheme="https")
        with (
            make_client("t", TIMEOUT, resolver=lambda h, p: ["127.0.0.1"], verify=trust) as client,
            pytest.raises(FetchError, match=r"CERTIFICATE_VERIFY_FAILED"),
        ):
            fetch(client, wrong, POLICY)


# ---------------------------------------------------------------- parsing within the deadline

GOOD_ITEM = (
    b"<item><title>Good item survives</title><link>https://arxiv.org/abs/2611.00001</link>"
    b"<description>ok text</description></item>"
)
MANY_ITEMS = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
    + b"<item><title>x</title></item>" * 260_000
    + b"</channel></rss>"
)
"""7.5 MB of the smallest items, under ``max_mb = 8`` (the tests that send it): about
16 s to parse on a loaded 2-core machine and 8 s on an idle one, so the 3 s deadline
is always what stops it.  (The first version, 15,000 full items in 1.9 MB, took 16 s
in the feedparser of its day and 2.6 s in 6.0.14: the deadline stopped nothing.)"""
MANY_MB = 8


def _children() -> list[int]:
    """The live child processes of this process (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def test_a_document_slow_to_parse_is_refused_at_the_deadline_and_its_parser_killed() -> None:
    with ParserProcess() as parsers:
        warm = parsers.parse("feed", FEED, name="warm", content_type="", seconds=60, limit="x")
        assert warm.digest.entries == ()
        first = parsers.pid
        started = time.monotonic()
        with pytest.raises(ParseError, match=r"^many: parsing took longer than the limit; stopped"):
            parsers.parse(
                "feed", MANY_ITEMS, name="many", content_type="", seconds=TIMEOUT, limit="the limit"
            )
        elapsed = time.monotonic() - started
        assert TIMEOUT - 0.3 < elapsed < TIMEOUT + 1, elapsed
        assert first is not None and first not in _children()  # killed and reaped
        # the next document is parsed by a fresh child, as before
        again = parsers.parse(
            "hf", b'[{"title": "x"}]', name="h", content_type="", seconds=60, limit="x"
        )
        assert [e.title for e in again.digest.entries] == ["x"]
    assert _children() == []


def test_per_item_results_and_refusals_come_back_from_the_parser_process_as_they_were() -> None:
    laughs = (CORPUS.parent / "feed" / "entity-expansion-nested.xml").read_bytes()
    deep = (CORPUS.parent / "hf" / "nested-arrays-100000.json").read_bytes()
    with ParserProcess() as parsers:
        for kind, data, error in [("feed", laughs, FeedError), ("hf", deep, HfError)]:
            with pytest.raises(error) as caught:
                parsers.parse(kind, data, name="s", content_type="", seconds=60, limit="x")
            assert caught.value.hint and caught.value.message.startswith("s: ")
        for path in sorted((CORPUS.parent / "feed").iterdir()):
            if b"ENTITY" in path.read_bytes():
                continue
            try:
                expected: object = parse_feed(path.read_bytes(), name="f")
            except FeedError as exc:
                expected = str(exc)
            try:
                got: object = parsers.parse(
                    "feed", path.read_bytes(), name="f", content_type="", seconds=60, limit="x"
                )
            except FeedError as exc:
                got = str(exc)
            assert got == expected, path.name


def _feed_config(tmp_path: Path, server: Loopback, names: list[str]) -> config.Settings:
    lines = ["[database]", f'url = "sqlite:///{tmp_path / "nl.db"}"', "[fetch]"]
    lines += ["timeout_seconds = 3", f"max_mb = {MANY_MB}"]  # room for MANY_ITEMS
    for name in names:
        lines += ["[[sources]]", f'name = "{name}"', 'kind = "feed"']
        lines += [f'url = "{server.url("/" + name)}"', "allow_private = true"]
    return config.parse("\n".join(lines) + "\n", where="config.toml", base_dir=tmp_path)


def test_hostile_documents_cost_only_their_source_even_from_a_thread(tmp_path: Path) -> None:
    """Issue 10 (the red team's second round): nested entity declarations (885 bytes that
    published 1 MB titles), 260,000 items under max_mb and a nameless ``<!`` in CDATA that
    feedparser garbled to 9x.  Run in a thread, as ``serve`` runs its job."""
    corpus = CORPUS.parent / "feed"
    with serving() as server:
        server.route("/good.rss", body(FEED.replace(b"</channel>", GOOD_ITEM + b"</channel>")))
        server.route("/laughs.rss", body((corpus / "entity-expansion-nested.xml").read_bytes()))
        server.route("/one.rss", body((corpus / "entity-expansion-one-item.xml").read_bytes()))
        server.route("/many.rss", body(MANY_ITEMS))
        server.route("/cdata.rss", body((corpus / "cdata-nameless-declaration.xml").read_bytes()))
        names = ["good.rss", "laughs.rss", "one.rss", "many.rss", "cdata.rss"]
        settings = _feed_config(tmp_path, server, names)
        reports: list[object] = []
        started = time.monotonic()
        job = threading.Thread(
            target=lambda: reports.append(pipeline.run(settings, (), date(2026, 3, 11)))
        )
        job.start()
        job.join(120)
        elapsed = time.monotonic() - started
    [report] = reports
    assert isinstance(report, RunReport) and report.status == "published", report
    errors = {d.name: d.error or "" for d in report.digests if d.error}
    assert set(errors) == {"laughs.rss", "one.rss", "many.rss"}, errors
    assert "declares entities" in errors["laughs.rss"] and "declares entities" in errors["one.rss"]
    assert "parsing took longer than fetch.timeout_seconds (3 s" in errors["many.rss"]
    assert elapsed < 3 + 1 + 30  # the slow parse ends at its deadline (+ start-up, load)
    abstracts = {p.title: p.abstract for p in report.edition.papers}
    assert abstracts["Good item survives"] == "ok text"
    assert abstracts["Garbled"] == "<![ <![ <!"  # once, not 9 times
    assert _children() == []

"""Fuzzing every parser and normalizer that reads the outside world.

The promise under test: whatever the bytes, each input is either accepted
(a value comes back) or refused with a :class:`NewsletterError` whose message
says what and where.  Any other exception is a crash: it would end a run that
should have gone on with the other sources, so it fails the test.

Two kinds of generated input per parser: raw bytes/text (the parser must not
trust its input's shape at all) and structured documents built from the
format's own pieces (date lines, chrome, RSS items, JSON keys, TOML keys), so
the fuzzer reaches past the first syntax check.  ``NEWSLETTER_FUZZ_EXAMPLES``
scales every test (default 150 examples each; CI runs the default).
"""

from __future__ import annotations

import ipaddress
import json
import os
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import figures
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopback import ScriptedNetwork, numeric_resolver

from newsletter import config, topics
from newsletter.errors import ConfigError, NewsletterError
from newsletter.identity import fold_text, parse_arxiv_id, signature, title_key
from newsletter.model import Digest
from newsletter.render.untrusted import clean_text, safe_url
from newsletter.repair import repair_text
from newsletter.sources.feed import ParsedFeed, html_to_text, parse_feed
from newsletter.sources.fetch import FetchError, FetchPolicy, fetch, make_client
from newsletter.sources.hf import parse_hf
from newsletter.sources.network import GuardedNetwork
from newsletter.sources.text import parse_digest

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("NEWSLETTER_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TODAY = date(2026, 3, 12)

# Text as hostile sources write it: any code point but lone surrogates (not encodable).
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
nasty = st.sampled_from(
    [
        "",
        " ",
        "\r\n",
        "\r",
        "\x0c",
        "\x00",
        "\x1b[31m",
        "\u202e",
        "\u2066",
        "\ufeff",
        "\ufffe",
        "&amp;",
        "&#0;",
        "&#99999999;",
        "&#x110000;",
        "x2013",
        "donx27t",
        "\\textbf{x}",
        "3.18times",
        "<script>alert(1)</script>",
        "<![CDATA[x]]>",
        "]]>",
        "javascript:alert(1)",
        "https://arxiv.org/abs/2403.01234v2",
        "arXiv:hep-th/9901001v3",
        "a" * 600,
        "A sentence. " * 60,
    ]
)
hostile = st.one_of(text, nasty, st.lists(st.one_of(text, nasty), max_size=4).map("".join))


def _example() -> None:
    figures.count("fuzz", "examples")
    figures.count("fuzz", "hypothesis examples")


def accepted_or_refused(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the parser: a value, or None when it refused with one of our errors."""
    _example()
    try:
        return fn(*args, **kwargs)
    except NewsletterError as exc:
        assert str(exc).strip(), "a refusal must say why"
        assert "\n" not in exc.message or isinstance(exc, ConfigError)
        figures.count("fuzz", "refused")
        return None


# ---------------------------------------------------------------- text digests

digest_line = st.one_of(
    hostile,
    st.sampled_from(
        [
            "new",
            "Subscribe",
            "Daily Papers",
            "byAK and the research community",
            "Get trending papers in your email inbox!",
            "Mar 11",
            "Feb 29",
            "Feb 30",
            "Sept 31",
            "Foo 3",
            "Dec. 1",
            "A Title Without A Full Stop",
            "Is This A Question?",
            "An abstract that ends with a full stop.",
            "Truncated abstract that ends mid-wo",
            "...",
        ]
    ),
)


@FUZZ
@given(st.binary(max_size=2000))
def test_digest_from_any_bytes_is_accepted_or_refused(data: bytes) -> None:
    result = accepted_or_refused(parse_digest, data, name="d.txt", edition_date=TODAY)
    assert result is None or isinstance(result, Digest)


@FUZZ
@given(
    st.lists(digest_line, max_size=40),
    st.sampled_from(["\n", "\r\n", "\r", "\n\n"]),
    st.booleans(),
    st.dates(min_value=date(1900, 1, 1), max_value=date(9990, 12, 31)),
)
def test_digest_shaped_text_is_accepted_or_refused(
    lines: list[str], newline: str, bom: bool, edition_date: date
) -> None:
    data = newline.join(lines).encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    result = accepted_or_refused(parse_digest, data, name="d.txt", edition_date=edition_date)
    if result is not None:
        assert result.entries, "an accepted digest has entries"
        for entry in result.entries:
            assert entry.title and entry.title == entry.title.strip()
            assert repair_text(entry.title) == entry.title  # already repaired
        if result.digest_date is not None:
            assert result.digest_date <= edition_date


# ---------------------------------------------------------------- feeds


def _rss(items: list[tuple[str, str, str, str, str]]) -> str:
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f"<description>{escape(d)}</description><guid>{escape(g)}</guid>"
        f"<pubDate>{escape(p)}</pubDate><category>{escape(p)}</category>"
        f"<dc:creator>{escape(d[:40])}</dc:creator></item>"
        for t, link, d, g, p in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom"><channel><title>t</title>'
        f"{body}</channel></rss>"
    )


def _atom(items: list[tuple[str, str, str, str, str]]) -> str:
    body = "".join(
        f"<entry><title type='html'>{escape(t)}</title><link href={quoteattr(link)}/>"
        f"<summary type='html'>{escape(d)}</summary><id>{escape(g)}</id>"
        f"<updated>{escape(p)}</updated><author><name>{escape(p)}</name></author>"
        f"<arxiv:primary_category term={quoteattr(p)}/></entry>"
        for t, link, d, g, p in items
    )
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
        f'xmlns:arxiv="http://arxiv.org/schemas/atom"><title>t</title>{body}</feed>'
    )


def _check_feed(result: ParsedFeed | None) -> None:
    if result is None:
        return
    for entry in result.digest.entries:
        assert entry.title, "entries without a title are skipped, not kept"
        assert entry.url is None or entry.url.startswith(("http://", "https://"))


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["", "application/rss+xml", "text/html"]))
def test_feed_from_any_bytes_is_accepted_or_refused(data: bytes, content_type: str) -> None:
    _check_feed(accepted_or_refused(parse_feed, data, name="f", content_type=content_type))


feed_field = st.one_of(
    hostile,
    st.sampled_from(
        [
            "oai:arXiv.org:2403.01234v2",
            "http://arxiv.org/abs/2403.01234v9",
            "arXiv:2403.01234v1 Announce Type: replace Abstract: text",
            "Mon, 11 Mar 2024 00:00:00 -0400",
            "2024-03-11T00:00:00Z",
            "9999-99-99",
            "cs.CL",
        ]
    ),
)


@FUZZ
@given(
    st.lists(st.tuples(feed_field, feed_field, feed_field, feed_field, feed_field), max_size=6),
    st.sampled_from([_rss, _atom]),
    st.sampled_from(["utf-8", "latin-1"]),
)
def test_feed_shaped_documents_are_accepted_or_refused(
    items: list[tuple[str, str, str, str, str]], shape: Any, encoding: str
) -> None:
    document = shape(items).encode(encoding, "replace")
    _check_feed(accepted_or_refused(parse_feed, document, name="f"))


@FUZZ
@given(hostile)
def test_html_to_text_never_returns_markup(fragment: str) -> None:
    _example()
    plain = html_to_text(fragment)
    assert "<script" not in plain.casefold() or "<script" in fragment.casefold()


# ---------------------------------------------------------------- HF JSON

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    *("paper", "papers", "id", "title", "summary", "authors", "name"),
                    *("upvotes", "publishedAt"),
                ]
            )
            | text,
            inner,
            max_size=6,
        )
    ),
    max_leaves=40,
)


@FUZZ
@given(json_value)
def test_hf_json_of_any_shape_is_accepted_or_refused(document: Any) -> None:
    data = json.dumps(document).encode()
    _check_feed(accepted_or_refused(parse_hf, data, name="hf"))


@FUZZ
@given(st.binary(max_size=1000))
def test_hf_from_any_bytes_is_accepted_or_refused(data: bytes) -> None:
    _check_feed(accepted_or_refused(parse_hf, data, name="hf"))


# ---------------------------------------------------------------- config files


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


config_value = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    hostile,
    st.sampled_from(
        [
            "UTC",
            "Mars/Phobos",
            "../../etc/passwd",
            "* * * * *",
            "61 7 * * *",
            "0 7 31 2 *",
            "http://[::1",
            "http://127.0.0.1:1/feed",
            "sqlite:///:memory:",
            "postgresql+psycopg://user:secret@db/x",
            "text",
            "feed",
            "hf",
        ]
    ),
    st.lists(st.sampled_from(["cs.CL", "q-bio", "not a category", ""]), max_size=3),
    st.dictionaries(
        st.sampled_from(["LLM", "vision-language", "quantiz*", "a*", "(a+)+$", "", "x|"]),
        st.one_of(st.integers(-5, 5), st.floats(allow_nan=False), st.booleans()),
        max_size=3,
    ),
)
setting_key = st.sampled_from(
    [s.key for s in config.SETTINGS] + ["newsletter.bogus", "bogus.key", "database.url"]
)
source = st.dictionaries(
    st.sampled_from(["name", "kind", "path", "url", "allow_private", "extra"]),
    config_value,
    max_size=5,
)
topic = st.dictionaries(
    st.sampled_from(
        ["id", "title", "scope", "priority", "fallback", "categories", "keywords", "patterns"]
    )
    | st.just("extra"),
    config_value,
    max_size=7,
)


def _config_text(
    values: dict[str, Any], sources: list[dict[str, Any]], topic_tables: list[dict[str, Any]]
) -> str:
    sections: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        section, name = key.split(".")
        sections.setdefault(section, {})[name] = value
    out = []
    for section, body in sections.items():
        out.append(f"[{section}]")
        out += [f"{json.dumps(name)} = {_toml(v)}" for name, v in body.items()]
    for table, rows in (("sources", sources), ("topics", topic_tables)):
        for row in rows:
            out.append(f"[[{table}]]")
            out += [f"{json.dumps(name)} = {_toml(v)}" for name, v in row.items()]
    return "\n".join(out) + "\n"


@FUZZ
@given(
    st.dictionaries(setting_key, config_value, max_size=8),
    st.lists(source, max_size=3),
    st.one_of(st.none(), st.lists(topic, max_size=3)),
    hostile,
)
def test_config_of_any_shape_is_accepted_or_refused_all_at_once(
    values: dict[str, Any],
    sources: list[dict[str, Any]],
    topic_tables: list[dict[str, Any]] | None,
    sample: str,
) -> None:
    content = _config_text(values, sources, topic_tables or [])
    if topic_tables is None:  # leave [[topics]] out: the bundled taxonomy applies
        content = content.replace("[[topics]]", "# none")
    settings_ = accepted_or_refused(config.parse, content, where="c.toml", base_dir=Path("/srv"))
    if settings_ is None:
        return
    # What validation let through must work: dates, paths, and the rules on hostile text.
    assert settings_.newsletter.timezone is not None
    assert settings_.output.site_dir.is_absolute()
    topics.classify(sample, sample, (), settings_.taxonomy)


def test_overlong_timezone_is_refused() -> None:
    text = '[newsletter]\ntimezone = "Europe/' + "x" * 300 + '"\n'
    with pytest.raises(ConfigError, match=r"newsletter\.timezone"):
        config.parse(text, where="c.toml", base_dir=Path("/srv"))


@FUZZ
@given(st.binary(max_size=600))
def test_config_file_of_any_bytes_is_accepted_or_refused(data: bytes) -> None:
    _example()
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-config-{os.getpid()}.toml"
    path.write_bytes(data)
    try:
        config.load(path)
    except ConfigError as exc:
        assert all(problem.startswith(str(path)) for problem in exc.problems)
        figures.count("fuzz", "refused")
    finally:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- normalizers


@FUZZ
@given(hostile)
def test_repair_and_title_keys_are_stable_under_repetition(value: str) -> None:
    _example()
    once = repair_text(value)
    assert repair_text(once) == once
    key = title_key(value)
    assert title_key(key) == key or title_key(once) == key
    assert fold_text(fold_text(value)) == fold_text(value)
    signature(value)  # any abstract has a signature or None, never an exception
    parse_arxiv_id(value)


@FUZZ
@given(hostile)
def test_untrusted_text_and_urls_come_out_inert(value: str) -> None:
    _example()
    cleaned = clean_text(value)
    assert clean_text(cleaned) == cleaned
    assert not any(ch in cleaned for ch in "\x00\r\n\x1b\u202e\u2066")
    url = safe_url(value, "https://fallback.example/")
    assert url == "https://fallback.example/" or url.lower().startswith(("http://", "https://"))
    assert not any(ch.isspace() for ch in url)


# ---------------------------------------------------------------- URLs and redirects

hosts = st.one_of(
    st.ip_addresses().map(lambda a: f"[{a}]" if a.version == 6 else str(a)),
    st.sampled_from(
        [
            "localhost",
            "127.1",
            "0",
            "2130706433",
            "[::ffff:127.0.0.1]",
            "[fe80::1%25eth0]",
            "169.254.169.254",
            "[::1",
            "",
            "a:99999",
            "user:pw@10.0.0.1",
            "example.com@127.0.0.1",
        ]
    ),
)
url = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["http", "https", "HTTP", "file", "gopher", "ftp", ""]),
    hosts,
    st.sampled_from(["", ":80", ":0", ":65536", ":-1", ":x"]),
    st.sampled_from(["/", "/feed", "/../../etc/passwd", "?a=1#f", "/%00"]),
)


relative = st.sampled_from(["/next", "next", "../x", "?page=2", "#top", "", " ", "/\x00"])


def _is_public(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False  # a name: none of the generated ones may be contacted
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@FUZZ
@given(url, st.lists(st.one_of(url, relative), max_size=3))
def test_no_url_or_redirect_chain_reaches_a_private_address(start: str, chain: list[str]) -> None:
    """SSRF: whatever the URL and the Location headers, only public addresses are connected to.

    The fetch goes through its real transport and address checks down to the
    network, which is in memory (:class:`loopback.ScriptedNetwork`): it
    answers every connection with the next redirect of ``chain`` and records
    the address connected to; each must be a public (global) address.  Host
    names resolve without the network (IP literals and localhost).
    """
    hops = iter(chain)

    def answer(address: str, port: int) -> bytes:
        location = next(hops, None)
        if location is None:
            return b"HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n<rss version='2.0'></rss>"
        target = location.encode("utf-8", "replace").replace(b"\r", b"").replace(b"\n", b"")
        return b"HTTP/1.1 302 Found\r\nLocation: " + target + b"\r\nContent-Length: 0\r\n\r\n"

    _example()
    network = ScriptedNetwork(answer)
    guarded = GuardedNetwork(resolver=numeric_resolver, inner=network)
    with make_client("fuzz", 5, network=guarded) as client:
        try:
            fetch(client, start, FetchPolicy(timeout=5, max_redirects=3))
        except FetchError as exc:
            assert str(exc)
            figures.count("fuzz", "refused")
    private = [address for address in network.connected if not _is_public(address)]
    assert private == [], f"a connection was made to a non-public address: {private}"

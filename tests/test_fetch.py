"""Fetching and parsing hostile input: real loopback servers, no mocks of our code."""

from __future__ import annotations

import time

import httpx
import pytest
from loopback import body, huge, redirect, serving

from newsletter.errors import InputError
from newsletter.sources.feed import parse_feed
from newsletter.sources.fetch import FetchError, FetchPolicy, Validators, fetch, make_client
from newsletter.sources.hf import parse_hf

ALLOW = FetchPolicy(timeout=3, max_bytes=2**20, max_redirects=3, allow_private=True)


@pytest.fixture
def client() -> httpx.Client:
    return make_client("newsletter-test/1 (+http://localhost/)", 3)


def rss(title: str, encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><link>https://arxiv.org/abs/2403.01234v3</link>"
        "<description>An abstract.</description></item></channel></rss>"
    )


def test_loopback_is_refused_unless_the_source_allows_it(client: httpx.Client) -> None:
    with serving() as server:
        server.route("/f", body(rss("x").encode()))
        with pytest.raises(FetchError, match="loopback, private or link-local"):
            fetch(client, server.url("/f"), FetchPolicy(timeout=3))
        assert server.hits == []  # refused before connecting
        assert fetch(client, server.url("/f"), ALLOW).content.startswith(b"<?xml")


def test_only_http_and_https_even_after_a_redirect(client: httpx.Client) -> None:
    with serving() as server:
        server.route("/f", redirect("file:///etc/passwd"))
        with pytest.raises(FetchError, match="only http and https"):
            fetch(client, server.url("/f"), ALLOW)


def test_too_many_redirects_and_declared_huge_size_are_refused(client: httpx.Client) -> None:
    with serving() as server:
        for i in range(5):
            server.route(f"/r{i}", redirect(f"/r{i + 1}"))
        with pytest.raises(FetchError, match="more than 3 redirects"):
            fetch(client, server.url("/r0"), ALLOW)
        server.route("/big", huge(20, declare_length=True))
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"20\.0 MB, more than the 1 MB limit"):
            fetch(client, server.url("/big"), ALLOW)
        assert time.monotonic() - started < 2


def test_conditional_request_sends_validators_and_reads_304(client: httpx.Client) -> None:
    with serving() as server:
        server.route("/f", body(rss("x").encode(), etag='"abc"'))
        first = fetch(client, server.url("/f"), ALLOW)
        assert first.etag == '"abc"' and not first.not_modified
        again = fetch(client, server.url("/f"), ALLOW, Validators(etag=first.etag))
        assert again.not_modified and again.content == b""
        assert server.hits[-1][1]["If-None-Match"] == '"abc"'
        assert server.hits[-1][1]["User-Agent"].startswith("newsletter-test/1")


def test_encodings_declared_right_wrong_or_not_at_all() -> None:
    latin = parse_feed(rss("Café €", "windows-1252").encode("windows-1252"), name="f")
    assert latin.digest.entries[0].title == "Café €"
    assert latin.digest.entries[0].arxiv_id == "2403.01234"
    assert latin.digest.entries[0].arxiv_version == 3
    # declared UTF-8, sent Latin-1: read anyway (with a warning) or refused, never a crash
    lying = rss("Café").encode("latin-1")
    try:
        parsed = parse_feed(lying, name="f", content_type="application/rss+xml; charset=utf-8")
    except InputError as exc:
        assert "f:" in str(exc)
    else:
        assert parsed.digest.entries and parsed.warnings
    utf16 = parse_feed(rss("Zürich", "utf-16").encode("utf-16"), name="f")
    assert utf16.digest.entries[0].title == "Zürich"


def test_feed_html_is_reduced_to_text_and_non_feeds_are_refused() -> None:
    evil = rss("&lt;b&gt;Bold&lt;/b&gt; &lt;form&gt;&lt;input name=x&gt;&lt;/form&gt;Title")
    assert parse_feed(evil.encode(), name="f").digest.entries[0].title == "Bold Title"
    with pytest.raises(InputError, match=r"not a usable RSS/Atom feed|not an RSS or Atom feed"):
        parse_feed(b"<html><body>Not found</body></html", name="f")


def test_hf_json_is_read_and_bad_json_refused() -> None:
    doc = (
        b'[{"paper": {"id": "2403.01234", "title": "T", "summary": "S.", "upvotes": 5,'
        b' "authors": [{"name": "A"}], "publishedAt": "2026-03-11T00:00:00Z"}},'
        b' {"paper": {"title": 3}}, "junk"]'
    )
    parsed = parse_hf(doc, name="hf")
    [entry] = parsed.digest.entries
    assert (entry.arxiv_id, entry.upvotes, entry.authors) == ("2403.01234", 5, ("A",))
    assert parsed.warnings == ("hf: 2 items without a title were skipped",)
    with pytest.raises(InputError, match="not valid JSON"):
        parse_hf(b"[{", name="hf")
    with pytest.raises(InputError, match="expected a JSON list"):
        parse_hf(b'{"error": "rate limited"}', name="hf")

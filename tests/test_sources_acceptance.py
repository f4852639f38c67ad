"""Acceptance: an arXiv-style RSS feed and an HF JSON document on loopback, with the text
seeds and a set of hostile feeds, through the real pipeline and database."""

from __future__ import annotations

import json
import shutil
import time
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from corpus_kit import Corpus
from loopback import (
    Loopback,
    body,
    coded,
    continue_flood,
    huge,
    redirect,
    serving,
    slow_body,
    trickle,
    trickled_headers,
)

from newsletter import config, pipeline
from newsletter.model import RawEntry
from newsletter.novelty import split
from newsletter.sources.text import read_digest


def arxiv_rss(items: list[tuple[str, int, RawEntry, str, list[str]]]) -> bytes:
    """An RSS document shaped like rss.arxiv.org: (id, version, entry, announce, categories)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        "<title>cs updates on arXiv.org</title><link>https://arxiv.org/</link>",
        "<description>test</description>",
    ]
    for ident, version, entry, announce, categories in items:
        parts.append(
            f"<item><title>{escape(entry.title)}</title>"
            f"<link>https://arxiv.org/abs/{ident}</link>"
            f"<description>arXiv:{ident}v{version} Announce Type: {announce} \n"
            f"Abstract: {escape(entry.abstract)}</description>"
            f'<guid isPermaLink="false">oai:arXiv.org:{ident}v{version}</guid>'
            + "".join(f"<category>{c}</category>" for c in categories)
            + f"<arxiv:announce_type>{announce}</arxiv:announce_type>"
            "<dc:creator>Ada Lovelace, Alan Turing</dc:creator></item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


def hf_json(items: list[tuple[str, RawEntry, int]]) -> bytes:
    return json.dumps(
        [
            {
                "paper": {
                    "id": ident,
                    "title": e.title,
                    "summary": e.abstract,
                    "authors": [{"name": "Grace Hopper"}],
                    "upvotes": upvotes,
                    "publishedAt": "2026-03-11T00:00:00.000Z",
                },
                "publishedAt": "2026-03-11T08:00:00.000Z",
                "title": e.title,
            }
            for ident, e, upvotes in items
        ]
    ).encode()


def write_config(tmp: Path, server: Loopback, hostile: bool) -> config.Settings:
    lines = [
        "[database]",
        f'url = "sqlite:///{tmp / "db" / "nl.db"}"',
        "[fetch]",
        "timeout_seconds = 3",
        "max_mb = 1",
        "max_redirects = 3",
        "[[sources]]",
        'name = "drop"',
        'kind = "text"',
        'path = "drop"',
        "[[sources]]",
        'name = "arxiv"',
        'kind = "feed"',
        f'url = "{server.url("/arxiv.rss")}"',
        "allow_private = true",
        "[[sources]]",
        'name = "hf"',
        'kind = "hf"',
        f'url = "{server.url("/daily_papers")}"',
        "allow_private = true",
    ]
    if hostile:
        for name in ("slow", "huge", "loop", "to-loopback", "malformed"):
            host = "localhost" if name == "to-loopback" else "127.0.0.1"
            lines += [
                "[[sources]]",
                f'name = "{name}"',
                'kind = "feed"',
                f'url = "{server.url("/" + name, host)}"',
                "allow_private = true",
            ]
    text = "\n".join(lines) + "\n"
    (tmp / "config.toml").write_text(text, encoding="utf-8")
    return config.parse(text, where="config.toml", base_dir=tmp)


@pytest.fixture
def seed_entries(corpus: Corpus) -> tuple[list[RawEntry], list[RawEntry]]:
    """The entries of the first digest, and those of the second that are new after it."""
    a = list(read_digest(corpus.file(0), date(2026, 3, 20)).entries)
    b = list(read_digest(corpus.file(1), date(2026, 3, 20)).entries)
    verdicts = split(a + b, None)
    return a, [v.entry for v in verdicts[len(a) :] if v.new]


def test_feed_hf_and_text_together_publish_each_paper_once_and_hostile_feeds_are_skipped(
    tmp_path: Path, corpus: Corpus, seed_entries: tuple[list[RawEntry], list[RawEntry]]
) -> None:
    in_seed, other = seed_entries
    assert len(other) >= 10
    (tmp_path / "drop").mkdir()
    shutil.copy(corpus.file(0), tmp_path / "drop" / "day1.txt")
    # feed: 3 papers also in the text seed, 6 papers of another day; HF: 4 of the feed's + 2 own
    feed_items = [
        (f"2603.{10000 + i}", 1, e, "new", ["cs.CL", "cs.AI"]) for i, e in enumerate(in_seed[:3])
    ]
    feed_items += [(f"2603.{20000 + i}", 1, e, "new", ["cs.CV"]) for i, e in enumerate(other[:6])]
    hf_items = [(ident, e, 7 + n) for n, (ident, _, e, _, _) in enumerate(feed_items[2:6])]
    hf_items += [(f"2603.{30000 + i}", e, 1) for i, e in enumerate(other[6:8])]
    with serving() as server:
        server.route("/arxiv.rss", body(arxiv_rss(feed_items), etag='"v1"'))
        server.route("/daily_papers", body(hf_json(hf_items), "application/json"))
        server.route("/slow", trickle(0.2))
        server.route("/huge", huge(50, declare_length=False))
        server.route("/loop", redirect("/loop2"))
        server.route("/loop2", redirect("/loop"))
        server.route("/to-loopback", redirect(server.url("/arxiv.rss", "127.0.0.1")))
        server.route("/malformed", body(b"<rss><channel><item><title>broken"))
        settings = write_config(tmp_path, server, hostile=True)

        started = time.monotonic()
        report = pipeline.run(settings, (), date(2026, 3, 11))
        elapsed = time.monotonic() - started

        assert report.status == "published", report
        titles = [p.title for p in report.edition.papers]
        assert len(titles) == len(set(titles))
        expected = {e.title for e in in_seed} | {e.title for e in other[:8]}
        assert len(titles) == len(expected)  # distinct papers across the three sources
        by_title = {p.title: p for p in report.edition.papers}
        shared = by_title[in_seed[2].title]  # in the seed, the feed and HF
        assert shared.arxiv_id == "2603.10002" and shared.upvotes == 7
        assert by_title[other[0].title].categories == ("cs.CV",)
        errors = {d.name: d.error for d in report.digests if d.error}
        assert set(errors) == {"slow", "huge", "loop", "to-loopback", "malformed"}
        assert "timed out" in (errors["slow"] or "")
        assert "limit" in (errors["huge"] or "")
        assert "redirect loop" in (errors["loop"] or "")
        assert "loopback" in (errors["to-loopback"] or "")
        assert "not a usable" in (errors["malformed"] or "")
        assert elapsed < 30

        # day 2: the feed re-announces a sent paper as v2 (retitled), plus one new paper
        replaced = RawEntry(
            title=other[0].title + " (extended version)", abstract=other[0].abstract, source="x"
        )
        day2 = [
            ("2603.20000", 2, replaced, "replace", ["cs.CV"]),
            ("2603.40000", 1, other[9], "new", ["eess.AS"]),
        ]
        server.route("/arxiv.rss", body(arxiv_rss(day2), etag='"v2"'))
        settings = write_config(tmp_path, server, hostile=False)
        second = pipeline.run(settings, (), date(2026, 3, 12))
        assert second.status == "published"
        assert [p.title for p in second.edition.papers] == [other[9].title]
        arxiv_report = next(d for d in second.digests if d.name == "arxiv")
        assert (arxiv_report.entries, arxiv_report.new, arxiv_report.note) == (
            2,
            1,
            "1 replacement",
        )

        # day 3: nothing changed anywhere: said loudly, nothing published
        third = pipeline.run(settings, (), date(2026, 3, 13))
        assert third.status == "stale" and not third.ok
        assert "every source returned what it returned last time" in (third.skipped_reason or "")
        arxiv_hits = [h for h in server.hits if h[0] == "/arxiv.rss"]
        assert arxiv_hits[-1][1].get("If-None-Match") == '"v2"'  # conditional request → 304


GOOD = RawEntry(
    title="A good paper from a good feed",
    abstract="Nothing hostile here. It has two sentences.",
    source="x",
)
HOSTILE_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>h</title>'
    b"<item><title>Bold &lt;![ claims about marked sections</title>"
    b"<link>https://arxiv.org/abs/2603.50001</link><description>x &lt;![if !x]&gt; y"
    b"</description></item>"
    b"<item><title>A lone &#xD800; surrogate in a title</title>"
    b"<link>https://arxiv.org/abs/2603.50002</link></item>"
    b"<item><title>Version of five thousand digits</title><guid>oai:arXiv.org:2603.50003v"
    + b"9"
    * 5000
    + b"</guid></item>"
    b"<item><title>The good paper of the hostile feed</title>"
    b"<link>https://arxiv.org/abs/2603.50004</link><description>Kept.</description></item>"
    b"</channel></rss>"
)
HOSTILE_HF = (
    b'[{"paper": {"id": "2603.60001", "title": "Upvotes of 5,000 digits", "upvotes": '
    + b"9" * 5000
    + b'}}, {"paper": {"id": "2603.60002", "title": "Negative upvotes", "upvotes": -1}},'
    b' {"paper": {"id": "2603.60003", "title": "A <![ title", "upvotes": 2}},'
    b' {"paper": {"id": "2603.60004", "title": "The good paper of the hostile JSON",'
    b' "upvotes": 4}}]'
)


def test_hostile_sources_cost_only_themselves_and_their_bad_items(tmp_path: Path) -> None:
    """Issue 10's hostile sources in one run, ``timeout_seconds = 3``, ``max_mb = 2``: each
    slow or bombing source is refused at its deadline, the hostile documents' good items
    and the good sources are published."""
    nested = (Path(__file__).parent / "corpus" / "fetch" / "gzip-gzip-2gib.bin").read_bytes()
    slow = {"trickled-headers", "continue-flood", "slow-body"}
    refused = {
        "trickled-headers": "timed out after 3 s",
        "continue-flood": "timed out after 3 s",
        "slow-body": "timed out after 3 s",
        "nested-gzip": "more than one content coding",
        "deep-json": "nested too deeply",
    }
    with serving() as server:
        server.route("/good.rss", body(arxiv_rss([("2603.70001", 1, GOOD, "new", ["cs.CL"])])))
        server.route("/hostile.rss", body(HOSTILE_FEED))
        server.route("/hostile.json", body(HOSTILE_HF, "application/json"))
        server.route("/trickled-headers", trickled_headers(0.5))
        server.route("/continue-flood", continue_flood(0.01))
        server.route("/slow-body", slow_body(2.8))
        server.route("/nested-gzip", coded(nested, "gzip, gzip"))
        server.route("/deep-json", body(b"[" * 100_000, "application/json"))
        lines = [
            "[database]",
            f'url = "sqlite:///{tmp_path / "nl.db"}"',
            "[fetch]",
            "timeout_seconds = 3",
            "max_mb = 2",
        ]
        for name, kind in [
            ("good.rss", "feed"),
            ("hostile.rss", "feed"),
            ("hostile.json", "hf"),
            *[(n, "hf" if n == "deep-json" else "feed") for n in refused],
        ]:
            lines += [
                "[[sources]]",
                f'name = "{name}"',
                f'kind = "{kind}"',
                f'url = "{server.url("/" + name)}"',
                "allow_private = true",
            ]
        settings = config.parse("\n".join(lines) + "\n", where="config.toml", base_dir=tmp_path)
        started = time.monotonic()
        report = pipeline.run(settings, (), date(2026, 3, 11))
        elapsed = time.monotonic() - started

    assert report.status == "published", report
    errors = {d.name: d.error or "" for d in report.digests if d.error}
    assert set(errors) == set(refused), errors
    for name, reason in refused.items():
        assert reason in errors[name], (name, errors[name])
    assert elapsed < len(slow) * (3 + 1) + 10  # each slow source ends at its own deadline
    titles = {p.title for p in report.edition.papers}
    assert {
        GOOD.title,
        "Bold <![ claims about marked sections",
        "A lone \ufffd surrogate in a title",
        "Version of five thousand digits",
        "The good paper of the hostile feed",
        "Upvotes of 5,000 digits",
        "Negative upvotes",
        "A <![ title",
        "The good paper of the hostile JSON",
    } <= titles
    upvotes = {p.title: p.upvotes for p in report.edition.papers}
    assert upvotes["Upvotes of 5,000 digits"] is None and upvotes["A <![ title"] == 2
    assert any("upvotes 999999999999… (5000 digits) out of range" in w for w in report.warnings)

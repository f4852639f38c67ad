"""Editions and settings for the render tests: a kit, not a test module.

Everything is built from the model dataclasses, so the render tests depend
neither on the sources nor on the classifier, and the golden files only change
when rendering does.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from newsletter import config
from newsletter.model import Edition, Paper, Section
from newsletter.render import publish_site
from newsletter.topics import Taxonomy, Topic

TOPICS = (
    Topic("llm", "Language Models"),
    Topic("vision", "Computer Vision"),
    Topic("generative", "Generative Models"),
    Topic("other", "Other", fallback=True),
)

HOSTILE_TITLE = 'Attention <script>alert("x")</script> & Tables ]]> \u202eevil\u202c \x07bell'
HOSTILE_ABSTRACT = (
    "We study <b>bold</b> claims & ]]> CDATA ends. The \u202eoverride\u202c and "
    "\x1b[31mANSI\x1b[0m codes must stay text. <img src=x onerror=alert(1)>"
)


def settings(tmp: Path | None = None, **overrides: Any) -> config.Settings:
    """Default settings with a fixed base URL, taxonomy and the given ``dotted_key=value``s.

    Keyword names use ``__`` for the dot: ``email__budget_kb=40``.
    """
    values: dict[str, Any] = {
        "newsletter.base_url": "https://papers.example.org/",
        "newsletter.name": "Test Papers",
    }
    for key, value in overrides.items():
        values[key.replace("__", ".")] = value
    return config.from_values(values, base_dir=tmp or Path("."), taxonomy=Taxonomy(TOPICS))


def paper(n: int, topic: str = "llm", *, extra: tuple[str, ...] = (), **fields: Any) -> Paper:
    """A plausible paper with a deterministic text."""
    base = Paper(
        key=f"arxiv:2403.{n:05d}",
        title=f"Paper number {n}: a study of things in {topic}",
        abstract=(
            f"We present method {n}. It improves results on several benchmarks by a "
            "wide margin. Experiments on five datasets confirm the gains, and ablations "
            "show which parts matter. Code and models are released for everyone to use, "
            "together with the evaluation scripts and the raw numbers of every table."
        ),
        url=f"https://arxiv.org/abs/2403.{n:05d}",
        source="fixture.txt",
        arxiv_id=f"2403.{n:05d}",
        topics=(topic, *extra),
    )
    return replace(base, **fields)


def edition_of(papers: Iterable[Paper], day: date = date(2026, 11, 20), number: int = 1) -> Edition:
    """Group papers by primary topic in taxonomy order."""
    by_topic: dict[str, list[Paper]] = {}
    for p in papers:
        by_topic.setdefault(p.topic, []).append(p)
    titles = {t.id: t.title for t in TOPICS}
    sections = tuple(
        Section(topic=t, title=titles.get(t, t), papers=tuple(by_topic[t]))
        for t in [*titles, *sorted(set(by_topic) - set(titles))]
        if t in by_topic
    )
    return Edition(date=day, sections=sections, number=number)


def small_edition() -> Edition:
    """Five papers over three topics, one with hostile text: the golden-file edition."""
    return edition_of(
        [
            paper(1, "llm", extra=("generative",)),
            paper(2, "llm", title=HOSTILE_TITLE, abstract=HOSTILE_ABSTRACT),
            paper(3, "vision", url="javascript:alert(1)"),
            paper(4, "generative", authors=("Ada Lovelace", "Alan Turing")),
            replace(paper(5, "other"), key="title:a paper without an arxiv id", arxiv_id=None),
        ]
    )


def large_edition(
    count: int, topics: tuple[str, ...] = ("llm", "vision", "generative", "other")
) -> Edition:
    """``count`` papers spread over ``topics`` with long abstracts."""
    long_abstract = " ".join(
        f"Sentence {i} of a long abstract explains one more detail of the method."
        for i in range(20)
    )
    return edition_of(
        paper(n, topics[n % len(topics)], abstract=long_abstract) for n in range(count)
    )


def seed_entries(path: Path) -> list[tuple[str, str]]:
    from newsletter.sources.text import read_digest

    digest = read_digest(path, date(2026, 3, 11))
    return [(e.title, e.abstract) for e in digest.entries]


def seed_edition(path: Path) -> Edition:
    """A digest as a fresh-state edition: each distinct title is new; topics by hand."""
    seen: set[str] = set()
    papers = []
    for title, abstract in seed_entries(path):
        key = "title:" + " ".join(re.sub(r"\W+", " ", title.casefold()).split())
        if key in seen:
            continue
        seen.add(key)
        topic = TOPICS[len(papers) % len(TOPICS)].id
        papers.append(
            Paper(
                key=key,
                title=title,
                abstract=abstract,
                url="https://huggingface.co/papers",
                source=path.name,
                topics=(topic,),
            )
        )
    return edition_of(papers)


class _Collect(HTMLParser):
    """Visible text, start tags and attributes of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def parse_html(html: str) -> _Collect:
    collector = _Collect()
    collector.feed(html)
    return collector


def visible(html: str) -> str:
    return " ".join(" ".join(parse_html(html).text).split())


ARCHIVE_DIGESTS = Path(__file__).parent / "digests"


def seed_editions() -> list[Edition]:
    """The five seed digests as editions on consecutive days, oldest first."""
    paths = sorted(ARCHIVE_DIGESTS.glob("*.txt"))
    return [
        replace(seed_edition(p), date=date(2026, 11, 16) + timedelta(days=i))
        for i, p in enumerate(paths)
    ]


def build(site: Path, editions: list[Edition]) -> list[list[Path]]:
    history: list[Edition] = []
    runs = []
    for edition in editions:
        runs.append(publish_site(edition, history, settings(), site))
        history.insert(0, edition)
    return runs


def links_of(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return [html_lib.unescape(m) for m in re.findall(r'(?:href|src|action)="([^"]*)"', text)]


def pages_of(site: Path) -> list[Path]:
    return [
        p
        for p in site.rglob("*.html")
        if p.name != "email.html" and "pagefind" not in p.relative_to(site).parts
    ]

"""Measure: how many email teasers state what the paper does, on the real seed digests.

Run from the project folder::

    .venv/bin/python bench/bench_teasers.py

Each seed in ``../shared/seeds`` is read with the text source, classified with
the default taxonomy, rendered as the email of the whole edition (size budget
included), and every teaser shown on a card is judged by :func:`states_contribution`.
That judge is deliberately independent of :mod:`newsletter.render.teaser`: a
different formulation (first-person or "this paper" subject, then a verb of
contribution, within the first few words of the sentence), so the number is not
the chooser grading itself.  It also reports the largest email's size against
the budget and whether every title is visible in it.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter import config  # noqa: E402
from newsletter.edition import build_edition  # noqa: E402
from newsletter.model import Edition, Paper  # noqa: E402
from newsletter.render import templates  # noqa: E402
from newsletter.render.context import ContextBuilder  # noqa: E402
from newsletter.render.email import fit, meta_for, render_email  # noqa: E402
from newsletter.render.recipients import RecipientLinks  # noqa: E402
from newsletter.render.untrusted import clean_text  # noqa: E402
from newsletter.topics import classify  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
DAY = date(2026, 3, 12)
GMAIL_CLIP = 102_000

_SUBJECT = (
    r"(?:we|our (?:\w+ )?(?:work|paper|method|approach|framework|model|study|contributions?)"
    r"|this (?:paper|work|study|report|article|technical report|survey|thesis)|here,? we"
    r"|the present (?:paper|work|study))"
)
_VERB = (
    r"(?:propose|introduce|present|develop|design|build|describe|release|offer|construct"
    r"|contribute|formulate|establish|provide|report|investigate|explore|study|examine"
    r"|analy[sz]e|show|demonstrate|find|reveal|identify|tackle|address|unveil|devise"
    r"|create|curate|collect|train|extend|leverage|take|focus|aim|seek|conduct|revisit"
    r"|evaluate|benchmark|derive|prove|adapt|apply|bridge|make|compare|characteri[sz]e"
    r"|is|are|reveals|presents|proposes|introduces|describes|explores|studies|investigates"
    r"|examines|shows|demonstrates|provides|offers|reports|addresses|tackles|aims"
    r"|focuses|seeks|develops|establishes|conducts|revisits|analy[sz]es|details)"
)
_JUDGE = re.compile(rf"\b{_SUBJECT}\b(?:\W+\w+){{0,4}}?\W+{_VERB}\b", re.IGNORECASE)
_NAMED = re.compile(r"^[A-Z][\w-]*(?: \([^)]*\))?,? (?:a|an|the) (?:new|novel)\b")


def states_contribution(teaser: str) -> bool:
    """Whether a teaser says what the paper does (not only the field's background)."""
    opening = " ".join(teaser.split()[:25])
    return bool(_JUDGE.search(opening) or _NAMED.search(teaser))


def seed_edition(path: Path, settings: config.Settings) -> Edition:
    from newsletter.sources.text import read_digest

    entries = read_digest(path, DAY).entries
    seen: set[str] = set()
    papers = []
    for i, e in enumerate(entries):
        key = f"title:{e.title.casefold()}"
        if key in seen:
            continue
        seen.add(key)
        papers.append(
            Paper(
                key=key,
                title=e.title,
                abstract=e.abstract,
                url=e.url or f"https://example.org/{i}",
                source=path.name,
                topics=classify(e.title, e.abstract, e.categories, settings.taxonomy).topics,
                authors=e.authors,
                upvotes=e.upvotes,
            )
        )
    return build_edition(papers, settings.taxonomy, DAY)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def main() -> int:
    settings = config.from_values(
        {"newsletter.base_url": "https://papers.example.org/"}, base_dir=ROOT
    )
    env = templates.environment(settings.output.templates_dir)
    total = good = 0
    largest = (0, "", True)
    for path in sorted(SEEDS.glob("*.txt")):
        edition = seed_edition(path, settings)
        builder = ContextBuilder(edition, meta_for(settings), RecipientLinks.placeholders(), None)
        _, context = fit(builder, env, settings.email.budget_bytes, settings.email.teaser_chars)
        teasers = [p.teaser for s in context.sections for p in s.cards]
        ok = [t for t in teasers if states_contribution(t)]
        total += len(teasers)
        good += len(ok)
        html = render_email(edition, settings).html
        size = len(html.encode("utf-8"))
        page = visible(html)
        titles_ok = all(clean_text(p.title) in page for p in edition.papers)
        print(
            f"{path.name}: {len(ok)}/{len(teasers)} teasers state the contribution; "
            f"email {size} bytes, every title visible: {titles_ok}"
        )
        if size > largest[0]:
            largest = (size, path.name, titles_ok)
    share = 100 * good / total if total else 0.0
    print(f"ALL: {good}/{total} = {share:.1f}% of teasers state the contribution")
    print(
        f"largest email: {largest[1]} {largest[0]} bytes "
        f"(budget {settings.email.budget_bytes}, Gmail clips at {GMAIL_CLIP}); "
        f"every title visible: {largest[2]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

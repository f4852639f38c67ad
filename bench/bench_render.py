"""Benchmark: rendering one 100-paper edition, beside bare mjml-python and the official MJML.

Run from the project folder::

    .venv/bin/python bench/bench_render.py            # everything
    .venv/bin/python bench/bench_render.py --no-official   # skip Node (no npm needed)

What is timed, in the same run and on the same MJML (median of ``--runs``):

* ``render_email``: our email, HTML and plain text, size budget included;
* ``build_feeds``: feed.xml, atom.xml and one RSS feed per topic;
* all of it together, what ``newsletter run`` spends rendering an edition;
* bare mjml-python compiling the exact MJML our templates produced;
* the official MJML (``mjml`` from npm, installed on first use into
  ``bench/.cache``): its command line, one process per email as a Node
  toolchain would run it, and, for reference, its ``mjml2html`` called in a
  warm Node process.

The edition is the seed digest ``003`` (102 papers) when ``../shared/seeds`` is
beside the project, else 100 synthetic papers; topics come from the configured
classifier.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from mjml import mjml2html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter import config  # noqa: E402
from newsletter.edition import build_edition  # noqa: E402
from newsletter.model import Edition, Paper  # noqa: E402
from newsletter.render import build_feeds, render_email, templates  # noqa: E402
from newsletter.render.context import paper_text, with_texts  # noqa: E402
from newsletter.render.email import meta_for  # noqa: E402
from newsletter.render.recipients import RecipientLinks  # noqa: E402
from newsletter.topics import Taxonomy, classify  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
SEED = ROOT.parent / "shared" / "seeds" / "003_bf041023cdecb2cb.txt"
MJML_VERSION = "4"
DAY = date(2026, 3, 12)


def papers(taxonomy: Taxonomy) -> tuple[list[Paper], str]:
    """The papers of the benchmark edition (classified) and where they come from."""
    if SEED.exists():
        from newsletter.sources.text import read_digest

        entries = read_digest(SEED, DAY).entries
        found = [
            Paper(
                key=f"title:{i}:{e.title.casefold()}",
                title=e.title,
                abstract=e.abstract,
                url=e.url or "https://huggingface.co/papers",
                source=SEED.name,
                topics=classify(e.title, e.abstract, e.categories, taxonomy).topics,
            )
            for i, e in enumerate(entries)
        ]
        return found, f"seed {SEED.name} ({len(found)} entries)"
    sentence = "We propose a method that improves a strong baseline on several benchmarks. "
    found = [
        Paper(
            key=f"arxiv:2403.{n:05d}",
            title=f"Synthetic paper {n}: scaling laws for efficient multimodal language models",
            abstract=sentence * 12,
            url=f"https://arxiv.org/abs/2403.{n:05d}",
            source="synthetic",
            topics=classify(
                f"Synthetic paper {n}: scaling laws for efficient multimodal language models",
                sentence * 12,
                (),
                taxonomy,
            ).topics,
        )
        for n in range(100)
    ]
    return found, "100 synthetic papers"


def edition(settings: config.Settings) -> tuple[Edition, str]:
    """The benchmark edition as ``newsletter run`` makes it: each paper's text (cleaned,
    its contribution sentence chosen) made at ingest (:func:`with_texts`)."""
    found, origin = papers(settings.taxonomy)
    return with_texts(build_edition(found, settings.taxonomy, DAY)), origin


def without_texts(ed: Edition) -> Edition:
    """``ed`` as an edition stored before texts were kept: its renderings make them."""
    return dataclasses.replace(
        ed,
        sections=tuple(
            dataclasses.replace(
                s, papers=tuple(dataclasses.replace(p, text=None) for p in s.papers)
            )
            for s in ed.sections
        ),
    )


def new_edition(ed: Edition, number: int) -> Edition:
    """``ed`` as another edition: numbered ``number``, each paper under a key of its own
    (``<key>#<number>``), so that nothing kept by edition or by paper key (paper views,
    cards, frames, sizes, vote references) serves its first email.  Keys, anchors and
    references keep their lengths: the email weighs the same and fits the same plan."""
    renamed: dict[str, Paper] = {}

    def paper(p: Paper) -> Paper:
        found = renamed.get(p.key)
        if found is None:
            found = renamed[p.key] = dataclasses.replace(p, key=f"{p.key}#{number}")
        return found

    return dataclasses.replace(
        ed,
        number=number,
        sections=tuple(
            dataclasses.replace(s, papers=tuple(paper(p) for p in s.papers)) for s in ed.sections
        ),
    )


class Prepared:
    """A timed call whose argument is made beforehand, outside the timing (``prepare()``,
    then ``run(its result)`` timed), and dropped after it."""

    def __init__(self, prepare: Callable[[], Any], run: Callable[[Any], object]) -> None:
        self.prepare = prepare
        self.run = run


def paired_cpu_ms(fns: dict[str, Callable[[], object] | Prepared], runs: int) -> dict[str, float]:
    """Median CPU ms of each in-process function, run in turn (one of each per round), so a
    loaded machine weighs on all of them alike."""

    def timed(fn: Callable[[], object] | Prepared) -> float:
        if isinstance(fn, Prepared):
            arg = fn.prepare()
            start = time.process_time()
            fn.run(arg)
        else:
            start = time.process_time()
            fn()
        return time.process_time() - start

    for fn in fns.values():
        for _ in range(3):
            timed(fn)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            times[name].append(timed(fn))
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def our_mjml(ed: Edition, settings: config.Settings, topics: frozenset[str] | None = None) -> str:
    """The MJML source our templates produce for the plan the budget settled on (for a
    subscriber on ``topics``, when given)."""
    from newsletter.render.context import ContextBuilder
    from newsletter.render.email import fit

    env = templates.environment(settings.output.templates_dir)
    builder = ContextBuilder(ed, meta_for(settings), RecipientLinks.placeholders(), topics)
    _, context = fit(builder, env, settings.email.budget_bytes, settings.email.teaser_chars)
    return env.get_template(templates.EMAIL_MJML).render(edition=context)


def conventional_mjml(ed: Edition) -> str:
    """A card-per-paper MJML of the same papers, as MJML's own examples build one.

    Not what we send: a reference for how much work bare mjml-python does on
    the usual layout (one ``mj-section`` and four components per paper), which
    our layout (cards as HTML inside one ``mj-text`` per section) avoids.
    """
    from html import escape

    cards = "".join(
        "<mj-section background-color='#ffffff'><mj-column>"
        f"<mj-text font-size='17px' font-weight='bold'><a href='{escape(p.url)}'>"
        f"{escape(p.title)}</a></mj-text>"
        f"<mj-text font-size='13px' color='#57606a'>{escape(', '.join(p.topics))}</mj-text>"
        f"<mj-text>{escape(p.abstract[:280])}</mj-text>"
        f"<mj-button href='{escape(p.url)}'>Read more</mj-button>"
        "</mj-column></mj-section>"
        for p in ed.papers
    )
    return f"<mjml><mj-body>{cards}</mj-body></mjml>"


def ensure_official() -> Path | None:
    """The mjml CLI in bench/.cache, installed from npm on first use; None without npm."""
    cli = CACHE / "node_modules" / ".bin" / "mjml"
    if cli.exists():
        return cli
    npm = shutil.which("npm")
    if npm is None:
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"installing mjml@{MJML_VERSION} from npm into {CACHE} ...", file=sys.stderr)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), f"mjml@{MJML_VERSION}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return cli if cli.exists() else None


def official_cli_ms(cli: Path, source: str, runs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "email.mjml"
        path.write_text(source, encoding="utf-8")
        return median_ms(
            lambda: subprocess.run(
                [str(cli), str(path), "-s"], check=True, capture_output=True, cwd=CACHE
            ),
            runs,
            warmup=1,
        )


def official_in_process_ms(source: str, runs: int) -> float:
    script = (
        "const mjml = require('mjml'); const fs = require('fs');"
        "const src = fs.readFileSync(process.argv[1], 'utf8'); const n = +process.argv[2];"
        "for (let i = 0; i < 3; i++) mjml(src);"
        "const t = []; for (let i = 0; i < n; i++) {"
        " const s = process.hrtime.bigint(); mjml(src);"
        " t.push(Number(process.hrtime.bigint() - s) / 1e6); }"
        "t.sort((a, b) => a - b); console.log(JSON.stringify(t[Math.floor(n / 2)]));"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "email.mjml"
        path.write_text(source, encoding="utf-8")
        out = subprocess.run(
            ["node", "-e", script, str(path), str(runs)],
            check=True,
            capture_output=True,
            text=True,
            cwd=CACHE,
        )
    return float(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per Python figure")
    parser.add_argument("--cli-runs", type=int, default=10, help="timed runs of the MJML CLI")
    parser.add_argument("--no-official", action="store_true", help="skip the official MJML")
    parser.add_argument("--json", help="write the figures as JSON to this file (bench/run_all.py)")
    parser.add_argument(
        "--write-docs", action="store_true", help="with --json: update docs/benchmarks.md"
    )
    args = parser.parse_args()

    settings = config.from_values(base_dir=ROOT)  # the defaults, as the bundled config.toml
    ed, origin = edition(settings)
    source = our_mjml(ed, settings)
    email = render_email(ed, settings)
    feeds = build_feeds([ed], settings)

    def everything() -> None:
        render_email(ed, settings)
        build_feeds([ed], settings)

    conventional = conventional_mjml(ed)
    # Each round's first email is of an edition never rendered before (made just before,
    # outside the timing, and dropped after): another number, and other paper keys.
    numbers = itertools.count(2)
    bare_ed = without_texts(ed)
    # Delivery renders an edition once per topic set: each set's first email (the edition's
    # views made already), a set never rendered before each round, beside bare
    # mjml-python compiling that set's own MJML in the same round.
    shown = [s.topic for s in ed.sections if s.papers]
    sets = [frozenset(c) for n in (1, 2, 3, 4) for c in itertools.combinations(shown, n)]
    sets = sets[: args.runs + 3]
    set_sources = iter([our_mjml(ed, settings, t) for t in sets])
    set_topics = iter(sets)
    cpu = paired_cpu_ms(
        {
            "bare mjml-python, same MJML": lambda: mjml2html(source, fonts={}),
            "render_email (HTML + text)": lambda: render_email(ed, settings),
            # A new edition to every cache: its paper views and cards are built again, as
            # for the first email of a run.
            "render_email, first email of an edition": Prepared(
                lambda: new_edition(ed, next(numbers)), lambda e: render_email(e, settings)
            ),
            "render_email, first email, texts not stored": Prepared(
                lambda: new_edition(bare_ed, next(numbers)), lambda e: render_email(e, settings)
            ),
            # What the texts cost where they are made now: once per paper, at ingest.
            "ingest: paper texts of the edition": lambda: [paper_text(p) for p in ed.papers],
            "bare mjml-python, one topic set's MJML": lambda: mjml2html(
                next(set_sources), fonts={}
            ),
            "render_email, one topic set (its first email)": lambda: render_email(
                ed, settings, topics=next(set_topics)
            ),
            f"build_feeds ({len(feeds)} files)": lambda: build_feeds([ed], settings),
            "all: HTML, text, feeds": everything,
            "(ref.) bare mjml-python, card-per-paper MJML": lambda: mjml2html(
                conventional, fonts={}
            ),
        },
        args.runs,
    )
    if len(sets) < args.runs + 3:
        print(f"only {len(sets)} topic sets: some were rendered before", file=sys.stderr)
    rows: list[tuple[str, float]] = list(cpu.items())
    if not args.no_official:
        cli = ensure_official()
        if cli is None:
            print("npm not found: skipping the official MJML", file=sys.stderr)
        else:
            rows.append(
                ("official MJML CLI (node, per email)", official_cli_ms(cli, source, args.cli_runs))
            )
            rows.append(
                (
                    "official MJML in warm node (mjml2html)",
                    official_in_process_ms(source, args.runs),
                )
            )

    bare = cpu["bare mjml-python, same MJML"]
    ours = cpu["all: HTML, text, feeds"]
    print(f"Rendering: {ed.paper_count} papers in {len(ed.sections)} sections, from {origin}")
    print(
        f"MJML {len(source.encode()):,} bytes -> HTML {len(email.html.encode()):,} bytes; "
        f"text {len(email.text.encode()):,} bytes; median of {args.runs} runs "
        f"({args.cli_runs} for the CLI); Python {sys.version.split()[0]}"
    )
    print()
    print(f"| {'what':46} | {'ms':>9} | {'x bare mjml-python':>18} | {'x ours (all)':>12} |")
    print(f"| {'-' * 46} | {'-' * 9}:| {'-' * 18}:| {'-' * 12}:|")
    for name, ms in rows:
        print(f"| {name:46} | {ms:9.2f} | {ms / bare:18.2f} | {ms / ours:12.2f} |")
    if args.json:
        from importlib.metadata import version

        fitting = config.from_values({"email.budget_kb": 150}, base_dir=ROOT)
        figures = {
            "papers": ed.paper_count,
            "sections": len(ed.sections),
            "origin": origin,
            "mjml_bytes": len(source.encode()),
            "html_bytes": len(email.html.encode()),
            "text_bytes": len(email.text.encode()),
            "conventional_mjml_bytes": len(conventional.encode()),
            "feed_files": len(feeds),
            "feed_items": sum(data.count(b"<item>") for data in feeds.values()),
            "runs": args.runs,
            "cli_runs": args.cli_runs,
            "mjml_python": version("mjml-python"),
            "rows": dict(rows),
            "email_fitting_budget_ms": paired_cpu_ms(
                {"fitting": lambda: render_email(ed, fitting)}, args.runs
            )["fitting"],
        }
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
        if args.write_docs:
            sys.path.insert(0, str(ROOT / "bench"))
            from run_all import put_section, render_section

            put_section("## Rendering", render_section(figures))


if __name__ == "__main__":
    main()

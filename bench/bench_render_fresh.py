"""The first email render in a fresh process, beside bare mjml-python's first compile.

    .venv/bin/python bench/bench_render_fresh.py --write-docs

A ``newsletter run`` is a fresh process that renders its edition once, so what
counts for it is the *first* ``render_email`` of a process: Jinja compiling
the templates (unless its bytecode cache holds them), the paper views (their texts
made at ingest, as ``run`` makes them before it renders) and the
cards.  Each child process builds the edition of ``bench_render.py`` (seed
``003``, 102 papers), then times, in CPU time, its first ``render_email`` and a
second one of another edition number (what a later email costs).  The
reference is a fresh process that imports mjml-python and compiles once the
very MJML our templates produce for that edition.  Imports are outside every
timing on both sides.  Three kinds of child, interleaved, ``--runs`` each:
the bytecode cache empty (a new ``NEWSLETTER_CACHE_DIR`` per run), the cache
primed, and the bare compile; medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import put_section

BENCH = Path(__file__).resolve().parent
GOAL = 3.0

RENDER = f"""
import json, sys, time
sys.path.insert(0, {str(BENCH)!r})
import bench_render as b
settings = b.config.from_values(base_dir=b.ROOT)
ed, _ = b.edition(settings)
if len(sys.argv) > 1:
    open(sys.argv[1], "w", encoding="utf-8").write(b.our_mjml(ed, settings))
    raise SystemExit
later = b.new_edition(ed, 2)  # another edition: other number, other paper keys
start = time.process_time()
b.render_email(ed, settings)
first = time.process_time() - start
start = time.process_time()
b.render_email(later, settings)
second = time.process_time() - start
print(json.dumps([first * 1000, second * 1000]))
"""

BARE = """
import json, sys, time
from mjml import mjml2html
source = open(sys.argv[1], encoding="utf-8").read()
start = time.process_time()
mjml2html(source)
print(json.dumps([(time.process_time() - start) * 1000]))
"""


def child(code: str, *args: str, cache: str) -> list[float]:
    env = {**os.environ, "NEWSLETTER_CACHE_DIR": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True
    )
    return [float(x) for x in json.loads(done.stdout.splitlines()[-1])]


def measure(runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "email.mjml"
        warm = str(Path(tmp) / "warm")
        subprocess.run(
            [sys.executable, "-c", RENDER, str(source)],
            check=True,
            env={**os.environ, "NEWSLETTER_CACHE_DIR": warm},
        )
        child(RENDER, cache=warm)  # primes the cache
        cold_first, warm_first, later, bare = [], [], [], []
        for n in range(runs):
            cold = child(RENDER, cache=str(Path(tmp) / f"cold{n}"))
            hot = child(RENDER, cache=warm)
            [compile_ms] = child(BARE, str(source), cache=warm)
            cold_first.append(cold[0])
            warm_first.append(hot[0])
            later.append(hot[1])
            bare.append(compile_ms)
            print(n, cold, hot, compile_ms, file=sys.stderr, flush=True)
    return {
        "cold_ms": statistics.median(cold_first),
        "warm_ms": statistics.median(warm_first),
        "later_ms": statistics.median(later),
        "bare_ms": statistics.median(bare),
    }


def section(f: dict[str, float], runs: int, load: str) -> list[str]:
    bare = f["bare_ms"]
    ratio = f["warm_ms"] / bare
    met = ratio <= GOAL
    return [
        "## First render in a fresh process",
        "",
        "```",
        f".venv/bin/python bench/bench_render_fresh.py --runs {runs} --write-docs",
        "```",
        "",
        "What a `newsletter run` pays: the first `render_email` of a fresh process (the "
        "edition of the Rendering section), beside a fresh process compiling the same MJML "
        f"once with bare mjml-python; CPU time, imports outside the timing, median of {runs} "
        f"interleaved runs of each ({load}).",
        "",
        "| what | CPU ms | × bare mjml-python |",
        "| --- | ---: | ---: |",
        f"| bare mjml-python, first compile in a fresh process (reference) | {bare:.2f} | 1.00 |",
        f"| first `render_email`, Jinja bytecode cache empty | {f['cold_ms']:.2f} | "
        f"{f['cold_ms'] / bare:.2f} |",
        f"| first `render_email`, bytecode cache primed (every run after the first) | "
        f"{f['warm_ms']:.2f} | {ratio:.2f} |",
        f"| a second `render_email` in the same process (another edition) | "
        f"{f['later_ms']:.2f} | {f['later_ms'] / bare:.2f} |",
        "",
        f"- **First email render ≤ {GOAL:.0f}× a bare mjml-python compile of its own MJML, "
        f"fresh processes: {'met' if met else 'NOT MET'}** ({ratio:.2f}× with the bytecode "
        "cache, which `newsletter/render/templates.py` keeps in `$NEWSLETTER_CACHE_DIR`, "
        "`$XDG_CACHE_HOME/newsletter/jinja` or `~/.cache/newsletter/jinja`). What the first "
        "render does beyond loading the compiled templates and one compile: building the "
        "paper views (their cleaned texts and contribution sentences made at ingest, "
        "outside the timing, as `run` makes them), making each card once (a body, its "
        "links per vote link) and weighing the plans from them, rendering and compiling "
        "the email's frame once, and the text part's cards.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    figures = measure(args.runs)
    load = f"load average {os.getloadavg()[0]:.0f} when it ended"
    lines = section(figures, args.runs, load)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(figures), encoding="utf-8")
    if args.write_docs:
        put_section("## First render in a fresh process", lines)


if __name__ == "__main__":
    main()

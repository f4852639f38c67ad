"""Start-up: ``newsletter --help`` beside ``python -c pass``; ingest repair beside its old rules.

    .venv/bin/python bench/bench_startup.py --write-docs

Each command runs as a fresh process, interleaved with the others, ``--runs``
times; the figure is the median CPU time (user + system) of the child, which a
loaded machine inflates less than wall-clock time.  Bytecode is written and
warm (two runs before measuring), as after any install: the environment's
``PYTHONDONTWRITEBYTECODE`` is dropped for the children.

Repair: :func:`newsletter.repair.repair_text` over every line of the five seed
digests (what a text-source ingest passes through it), beside the rules as they
were before issue 14 (``bench/legacy_repair.py``) on the same lines, in this
process; both must give the same text.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import legacy_repair
from run_all import SEEDS, put_section

from newsletter.repair import repair_text

PY = sys.executable
NEWSLETTER = str(Path(sys.executable).with_name("newsletter"))
GOAL_HELP_VS_PASS = 5.0
COMMANDS = {
    "pass": [PY, "-c", "pass"],
    "click": [PY, "-c", "import click"],
    "import": [PY, "-c", "import newsletter.cli"],
    "help": [NEWSLETTER, "--help"],
    "run_help": [NEWSLETTER, "run", "--help"],
}


def cpu_ms(args: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def startup(runs: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(2):
        for args in COMMANDS.values():
            cpu_ms(args, env)
    for _ in range(runs):
        for name, args in COMMANDS.items():
            samples[name].append(cpu_ms(args, env))
    return {f"{name}_ms": statistics.median(values) for name, values in samples.items()}


def repair(rounds: int) -> dict[str, float]:
    lines = [
        line
        for seed in sorted(SEEDS.glob("*.txt"))
        for line in seed.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert [repair_text(s) for s in lines] == [legacy_repair.repair_text(s) for s in lines]
    figures: dict[str, float] = {"lines": len(lines)}
    for name, fn in (("repair", repair_text), ("legacy", legacy_repair.repair_text)):
        times = []
        for _ in range(rounds):
            started = time.process_time()
            for s in lines:
                fn(s)
            times.append(time.process_time() - started)
        figures[f"{name}_ms"] = 1000 * statistics.median(times)
    return figures


def section(f: dict[str, float], runs: int) -> list[str]:
    ratio = f["help_ms"] / f["pass_ms"]
    met = ratio <= GOAL_HELP_VS_PASS
    return [
        "## Start-up",
        "",
        "```",
        f".venv/bin/python bench/bench_startup.py --runs {runs} --write-docs",
        "```",
        "",
        f"Fresh processes, interleaved, median CPU time (user + system) of {runs} runs each, "
        "bytecode warm. The reference is the bare interpreter in the same run.",
        "",
        "| what | CPU ms | × `python -c pass` |",
        "| --- | ---: | ---: |",
        f"| `python -c pass` (reference) | {f['pass_ms']:.0f} | 1.0 |",
        f"| `python -c 'import click'` (the floor of any click CLI) | {f['click_ms']:.0f} | "
        f"{f['click_ms'] / f['pass_ms']:.1f} |",
        f"| `python -c 'import newsletter.cli'` | {f['import_ms']:.0f} | "
        f"{f['import_ms'] / f['pass_ms']:.1f} |",
        f"| `newsletter --help` | {f['help_ms']:.0f} | {ratio:.1f} |",
        f"| `newsletter run --help` (through click) | {f['run_help_ms']:.0f} | "
        f"{f['run_help_ms'] / f['pass_ms']:.1f} |",
        "",
        f"- **`newsletter --help` ≤ {GOAL_HELP_VS_PASS:.0f}× `python -c pass`: "
        f"{'met' if met else 'NOT MET'}** ({ratio:.1f}×; 13× before issue 14, 6.1× with click "
        "loaded for it). The console script (`newsletter.__main__:entry`) prints "
        "`newsletter/cli/help.txt` for `newsletter --help` or `-h` alone on a terminal of 80 "
        "columns or more (or no terminal), without importing click: that file is click's own "
        "output, kept equal to it by `tests/test_cli_startup.py` (`UPDATE_GOLDEN=1` rewrites "
        "it). Every other command line goes through click, whose import alone is the "
        "floor above (the `run --help` row). The CLI module "
        "imports click and the package's small modules (errors, states, wording) only: rich, "
        "the settings (and with them the taxonomy), SQLAlchemy, httpx, NumPy, Jinja and "
        "mjml are imported by the command that uses them. `tests/test_cli_startup.py` fails "
        "when `--help` (of the CLI or of a command) loads any of them. What is left above the "
        "interpreter is click itself (its import loads `inspect`, `uuid`, `platform`) and "
        "building the command tree.",
        "",
        "Ingest repair (`newsletter/repair.py`) over every non-empty line of the five seed "
        f"digests ({int(f['lines']):,} lines), in-process CPU, median of 20 passes; the rules "
        "before issue 14 on the same lines as reference (both give identical text):",
        "",
        "| what | ms per pass | × today |",
        "| --- | ---: | ---: |",
        f"| rules before issue 14: a per-character loop, every regex on every line (reference) "
        f"| {f['legacy_ms']:.1f} | {f['legacy_ms'] / f['repair_ms']:.1f} |",
        f"| today: one character class for controls, each rule behind a literal pre-check | "
        f"{f['repair_ms']:.1f} | 1.0 |",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    figures = {**startup(args.runs), **repair(20)}
    lines = section(figures, args.runs)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(figures), encoding="utf-8")
    if args.write_docs:
        put_section("## Start-up", lines)


if __name__ == "__main__":
    main()

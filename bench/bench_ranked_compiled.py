"""Benchmark: a ranked next edition in process — CPU per ranked recipient in
``Ranking.compiled``, and a hash of every ranked message (the same bytes before/after?).

    .venv/bin/python bench/bench_ranked_compiled.py snapshot 1000 /tmp/snap1000
    PYTHONPATH=../main .venv/bin/python bench/bench_ranked_compiled.py measure /tmp/snap1000 a.json
    PYTHONPATH=$PWD .venv/bin/python bench/bench_ranked_compiled.py measure /tmp/snap1000 new.json
    .venv/bin/python bench/bench_ranked_compiled.py measure /tmp/snap1000 x.json --steady

``snapshot`` makes what ``bench_ranked.py`` makes for its ranked project up to its next
edition — N subscribers with 50 votes each, the first edition run (every model trained
and stored), then 10% of them vote once more — and keeps the folder.  ``measure`` copies
the snapshot and runs that next edition (seed digest 004) with ``newsletter run`` in
this process, over SMTP to the loopback sink: the code measured is whichever
``newsletter`` is first on the path (``PYTHONPATH``: compare two checkouts on one
snapshot, alternated).  ``--steady`` first removes the last votes, so nothing retrains
(the run reads its vocabulary and every model as stored).

Per ranked recipient: the thread CPU (``time.thread_time``) of ``Ranking.compiled``,
less the models' update inside its first call (training, the vocabulary) — what one
more ranked recipient costs beyond the shared message, the copy's render included
(once per topic set).  Each message is hashed with its recipient slots filled alike
and its ``Date:`` header and MIME boundary set aside (they change every run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench_ranked as ranked_bench  # noqa: E402
from bench_send import _env, _seed, start_sink, stop_sink  # noqa: E402


def snapshot(count: int, out: Path) -> None:
    sink, port = start_sink()
    try:
        folder = Path(tempfile.mkdtemp(prefix="bench-ranked-snapshot-"))
        config = ranked_bench._project(folder, port, 4)
        _seed(folder, config, count)
        primed = ranked_bench._newsletter(
            config, "run", "--no-send", "--date", ranked_bench.PRIME_DAY, str(folder / "prime")
        )
        if primed.returncode != 0:
            raise SystemExit(f"priming failed:\n{primed.stderr[-800:]}")
        db = folder / "subscribers" / "newsletter.db"
        stored = ranked_bench._votes(db, 50)
        print(
            ranked_bench._timed(
                "ranked", config, ranked_bench.DAY, folder / "digests", count, stored
            )
        )
        ranked_bench._revote(db, ranked_bench.REVOTE_SHARE)
        shutil.move(str(folder), out)
    finally:
        stop_sink(sink)


def measure(snap: Path, out: Path, steady: bool) -> dict[str, Any]:
    os.environ.update(_env())
    import newsletter
    from newsletter.cli import main
    from newsletter.delivery import ranked
    from newsletter.delivery.message import Recipient

    who = Recipient(
        "r@example.org", "<m@x>", "https://x/u?t=1", "https://x/u?t=1", "https://x/p", "u", "t" * 20
    )
    cpu = {"compiled": 0.0, "models": 0.0, "build": 0.0}
    hashes: dict[int, str] = {}
    compiled, models, build = ranked.Ranking.compiled, ranked.Ranking.models, ranked.Ranking._build

    def timed_models(self: Any) -> Any:
        t = time.thread_time()
        found = models(self)
        cpu["models"] += time.thread_time() - t
        return found

    def timed_build(self: Any, topics: Any) -> Any:
        t = time.thread_time()
        found = build(self, topics)
        cpu["build"] += time.thread_time() - t
        return found

    def timed_compiled(self: Any, subscriber: int, topics: Any) -> Any:
        t = time.thread_time()
        found = compiled(self, subscriber, topics)
        cpu["compiled"] += time.thread_time() - t
        if found is not None:
            data = b"".join(found.pieces(who, smtp=True))
            data = re.sub(rb"\r\nDate: [^\r]*", b"", data)
            hashes[subscriber] = hashlib.sha256(
                re.sub(rb"=_[0-9a-f]{24}", b"=_B", data)
            ).hexdigest()
        return found

    ranked.Ranking.compiled = timed_compiled  # type: ignore[method-assign]
    ranked.Ranking.models = timed_models  # type: ignore[method-assign]
    ranked.Ranking._build = timed_build  # type: ignore[method-assign]
    folder = Path(tempfile.mkdtemp(prefix="bench-ranked-compiled-"))
    shutil.copytree(snap, folder / "p")
    sink, port = start_sink()
    try:
        config = folder / "p" / "config.toml"
        config.write_text(re.sub(r"port = \d+", f"port = {port}", config.read_text()))
        if steady:
            with sqlite3.connect(folder / "p" / "subscribers" / "newsletter.db") as db:
                db.execute("DELETE FROM votes WHERE at = (SELECT max(at) FROM votes)")
        os.chdir(folder / "p")
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        argv = ["--config", str(config), "run", "--date", ranked_bench.NEXT_DAY]
        with contextlib.suppress(SystemExit):
            main([*argv, str(folder / "p" / "next")], standalone_mode=False)
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        stop_sink(sink)
        shutil.rmtree(folder, ignore_errors=True)
    count = len(hashes)
    summary = {
        "code": str(Path(newsletter.__file__).resolve().parent.parent),
        "ranked": count,
        "compiled_ms_per_recipient": (cpu["compiled"] - cpu["models"]) / count * 1000,
        "models_s": cpu["models"],
        "copy_render_s": cpu["build"],
        "run_cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
        "run_s": time.perf_counter() - started,
        "sklearn_imported": "sklearn" in sys.modules,
        "messages_sha256": hashlib.sha256(json.dumps(sorted(hashes.items())).encode()).hexdigest(),
    }
    out.write_text(json.dumps({"summary": summary, "hashes": hashes}, indent=1), "utf-8")
    return summary


if __name__ == "__main__":
    if sys.argv[1:2] == ["snapshot"] and len(sys.argv) == 4:
        snapshot(int(sys.argv[2]), Path(sys.argv[3]).resolve())
    elif sys.argv[1:2] == ["measure"] and len(sys.argv) in (4, 5):
        found = measure(
            Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve(), "--steady" in sys.argv
        )
        print(json.dumps(found), file=sys.__stderr__)
    else:
        raise SystemExit(__doc__)

"""The per-recipient ``mailto:`` unsubscribe address beside the VERP return path.

    .venv/bin/python bench/bench_mailto.py

With ``bounces.return_path`` set, each digest gets both: its envelope sender
(:class:`~newsletter.subscribers.returnpath.ReturnPath`) and the tokened address
of its ``List-Unsubscribe`` mailto:
(:class:`~newsletter.subscribers.returnpath.MailtoAddress`).  The two are made
alternately in one process, ``--calls`` each, ``--rounds`` times; the figure is
each one's best round in CPU time per call, and their ratio (what a loaded
machine changes least).  ``bench_send.py`` runs without VERP, so its
preparation figure holds neither.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable

from newsletter.subscribers.returnpath import MailtoAddress, ReturnPath


def _per_call(make: Callable[[int], str], calls: int) -> float:
    started = time.process_time()
    for i in range(calls):
        make(i)
    return (time.process_time() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    key = hashlib.sha256(b"bench key").digest()
    mailto = MailtoAddress("unsubscribe@papers.example.org", "+", key)
    verp = ReturnPath("bounces@papers.example.org", "+", key, "digest@papers.example.org")
    legs: dict[str, Callable[[int], str]] = {
        "mailto address": lambda i: mailto.for_recipient(i, "x7Yc2PqR9sTuVw3ZaB4dEf"),
        "VERP return path": lambda i: verp.for_recipient(7, i),
    }
    best = {name: float("inf") for name in legs}
    for _ in range(args.rounds):
        for name, make in legs.items():
            best[name] = min(best[name], _per_call(make, args.calls))
    for name, seconds in best.items():
        print(f"{name}: {seconds * 1e6:.2f} µs a recipient")
    ratio = best["mailto address"] / best["VERP return path"]
    print(f"mailto address / VERP return path: {ratio:.2f}")


if __name__ == "__main__":
    main()

"""`delivery.rate_per_day` counts the mail the ledger shows sent earlier the same UTC day,
also what went out while the limit was off (red team rt14r F9: 300 sent with the limit off,
then a limit of 400 sent 300 more)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from delivery_kit import NOW, SAMPLE, add_subscribers, maildir_messages, make_settings

from newsletter import pipeline

DAY = date(2026, 11, 20)


def test_mail_sent_with_the_limit_off_counts_against_a_limit_set_later_that_day(
    tmp_path: Path,
) -> None:
    unlimited = make_settings(tmp_path)
    add_subscribers(unlimited, [(f"r{i}@example.org", None) for i in range(5)])
    first = pipeline.run(unlimited, [str(SAMPLE)], DAY, clock=lambda: NOW)
    assert first.delivery is not None and first.delivery.sent == 5

    other = tmp_path / "other-digest.txt"
    other.write_text(
        "Daily Papers\n\nNov 20\n\n"
        "Sparse Ledgers: Counting What Was Sent Before the Limit\n\n"
        "A rate limit that forgets what was sent earlier the same day lets a sender exceed "
        "it. We count from the ledger instead. The count is exact.\n",
        encoding="utf-8",
    )
    limited = make_settings(tmp_path, delivery={"rate_per_day": 7})
    later = NOW + timedelta(hours=2)
    second = pipeline.run(limited, [str(other)], DAY, clock=lambda: later, force=True)
    assert second.delivery is not None
    assert second.delivery.sent == 2  # 7 a day, 5 of them sent this morning
    assert len(maildir_messages(limited.delivery.maildir)) == 7

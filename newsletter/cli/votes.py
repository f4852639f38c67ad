"""``newsletter subscribers seed`` and ``newsletter subscribers ranking``: a subscriber's
votes from the operator's side.  Each command calls one method of
:class:`newsletter.subscribers.feedback.Feedback` and prints what it returns."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from newsletter.cli.output import output
from newsletter.errors import NewsletterError


def register(
    group: click.Group, handle_errors: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    """Add ``seed`` and ``ranking`` to the ``subscribers`` group."""

    def _open(obj: Any, email: str) -> tuple[Any, Any, Any]:
        from newsletter.store import Database
        from newsletter.subscribers.feedback import Feedback
        from newsletter.subscribers.subscriptions import Subscriptions, normalize_address

        db = Database.open(obj.settings.database.url)
        subscriber = Subscriptions(db).by_email(normalize_address(email))
        if subscriber is None:
            db.close()
            raise NewsletterError(f"{email} is not on the list", hint="newsletter subscribers list")
        return db, Feedback(db), subscriber

    @group.command("seed")
    @click.argument("email")
    @click.argument("papers", nargs=-1, required=True)
    @click.pass_obj
    @handle_errors
    def subscribers_seed(obj: Any, email: str, papers: tuple[str, ...]) -> None:
        """Record papers EMAIL likes (arXiv ids or titles of papers seen) to rank their email."""
        from newsletter.subscribers.feedback import MAX_SEEDS
        from newsletter.wording import counted

        db, feedback, subscriber = _open(obj, email)
        try:
            seeded = feedback.seed(subscriber, papers, datetime.now(UTC))
        finally:
            db.close()
        for _name, title in seeded.found:
            output.line(f"liked: {title}")
        for name in seeded.unknown:
            output.error(f"not found: {name} (no paper seen has this arXiv id or title)")
        for name in seeded.over:
            output.error(f"not read: {name} (at most {counted(MAX_SEEDS, 'paper')} at a time)")
        if seeded.unknown or seeded.over:
            sys.exit(1)

    @group.command("ranking")
    @click.argument("email")
    @click.option("--reset", is_flag=True, help="Forget every vote and seed of EMAIL.")
    @click.option("--off", "off", is_flag=True, help="Send EMAIL the digest's order.")
    @click.option("--on", "on", is_flag=True, help="Rank EMAIL's emails by their votes.")
    @click.pass_obj
    @handle_errors
    def subscribers_ranking(obj: Any, email: str, reset: bool, off: bool, on: bool) -> None:
        """Show EMAIL's ranking (on or off, how many votes); --reset, --off, --on change it."""
        if on and off:
            raise click.UsageError("--on and --off contradict each other: give one")
        switch = "on" if on else "off" if off else None
        db, feedback, subscriber = _open(obj, email)
        try:
            if reset:
                count = feedback.reset(subscriber)
                output.line(f"forgot {count} vote{'' if count == 1 else 's'} of {subscriber.email}")
            if switch is not None:
                feedback.set_ranking(subscriber, switch == "on", datetime.now(UTC))
            enabled = feedback.ranking_enabled(subscriber)
            votes = feedback.votes_of(subscriber)
        finally:
            db.close()
        likes = sum(v.liked for v in votes)
        count = f"{len(votes)} vote{'' if len(votes) == 1 else 's'}"
        output.line(
            f"{subscriber.email}: ranking {'on' if enabled else 'off'}, "
            f"{count} ({likes} 👍, {len(votes) - likes} 👎)"
        )

"""When the daily edition is due, and where ``serve`` listens: ``[schedule]``, ``[serve]``.

:class:`Schedule` is the section and the cron maths at once, so the web app
and ``status`` can say when the next edition is due without importing the
scheduler (and with it the whole pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from newsletter.config.rules import CRONTAB, Setting, Values, at_least, at_most

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

SCHEDULE_ROWS = (
    Setting(
        "schedule.cron",
        "0 7 * * *",
        "When 'newsletter serve' and 'newsletter schedule' make the daily edition: "
        "crontab syntax (minute hour day month weekday) in newsletter.timezone.",
        rules=(CRONTAB,),
    ),
    Setting(
        "schedule.misfire_grace_minutes",
        360,
        "How late a scheduled run may still start (after a suspend or a busy moment); "
        "a later one is logged as missed and the next check catches up.",
        int,
        rules=(at_least(1),),
    ),
)

SERVE_ROWS = (
    Setting("serve.host", "127.0.0.1", "Address 'newsletter serve' listens on."),
    Setting(
        "serve.port",
        8000,
        "Port 'newsletter serve' listens on.",
        int,
        rules=(at_least(0), at_most(65535)),
    ),
    Setting(
        "serve.forwarded_allow_ips",
        "",
        "Proxies whose X-Forwarded-For/-Proto headers are trusted (comma-separated "
        "addresses or networks, '*' for any); empty trusts nobody: the TCP peer is the client.",
    ),
    Setting(
        "serve.header_timeout_seconds",
        10,
        "A connection that has not sent its request headers this long after it opened "
        "(or after its last response) is closed.",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "serve.keepalive_seconds",
        5,
        "How long an idle keep-alive connection is kept open.",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "serve.max_connections",
        1000,
        "Most connections open at once (all clients); a request past it gets 503.",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "serve.max_connections_per_client",
        32,
        "Most connections one client (TCP peer address; IPv6 by /64) may hold open; "
        "one past it is closed at once. Proxies named in serve.forwarded_allow_ips are exempt.",
        int,
        rules=(at_least(1),),
    ),
)

_WINDOWS = (timedelta(hours=2), timedelta(days=2), timedelta(days=8), timedelta(days=32))


@dataclass(frozen=True)
class Schedule:
    """A crontab expression in a timezone; computes due and next times."""

    cron: str
    timezone: ZoneInfo
    misfire_grace_minutes: int = 360

    @classmethod
    def build(cls, v: Values) -> Schedule:
        return cls(
            cron=v.text("schedule.cron"),
            timezone=ZoneInfo(v.text("newsletter.timezone")),
            misfire_grace_minutes=v.integer("schedule.misfire_grace_minutes"),
        )

    def trigger(self) -> CronTrigger:
        from apscheduler.triggers.cron import CronTrigger

        return CronTrigger.from_crontab(self.cron, timezone=self.timezone)

    def next_after(self, now: datetime) -> datetime | None:
        found: datetime | None = self.trigger().get_next_fire_time(None, now)
        return found.astimezone(self.timezone) if found else None

    def latest_due(self, now: datetime) -> datetime | None:
        """The latest scheduled time at or before ``now`` (within the last month)."""
        trigger = self.trigger()
        for window in _WINDOWS:
            latest: datetime | None = None
            cursor = now - window
            for _ in range(100_000):  # bounded: a trigger bug must not hang the scheduler
                fire: datetime | None = trigger.get_next_fire_time(None, cursor)
                if fire is None or fire > now:
                    break
                if latest is not None and fire <= latest:  # DST repeats: move past it
                    cursor += timedelta(minutes=1)
                    continue
                latest = fire
                cursor = fire + timedelta(seconds=1)
            if latest is not None:
                return latest.astimezone(self.timezone)
        return None

    def due_date(self, now: datetime) -> date | None:
        """The edition date that should exist at ``now``."""
        due = self.latest_due(now)
        return due.date() if due else None


@dataclass(frozen=True)
class ServeSettings:
    """``[serve]``: where ``newsletter serve`` listens, whom it trusts, how long it waits."""

    host: str
    port: int
    forwarded_allow_ips: str
    header_timeout_seconds: int
    keepalive_seconds: int
    max_connections: int
    max_connections_per_client: int

    @classmethod
    def build(cls, v: Values) -> ServeSettings:
        return cls(
            host=v.text("serve.host"),
            port=v.integer("serve.port"),
            forwarded_allow_ips=v.text("serve.forwarded_allow_ips").strip(),
            header_timeout_seconds=v.integer("serve.header_timeout_seconds"),
            keepalive_seconds=v.integer("serve.keepalive_seconds"),
            max_connections=v.integer("serve.max_connections"),
            max_connections_per_client=v.integer("serve.max_connections_per_client"),
        )

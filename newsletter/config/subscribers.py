"""``[subscribers]``: the signing key of subscriber links and the sign-up limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.config.rules import ENV_NAME, Setting, Values, at_least

ROWS = (
    Setting(
        "subscribers.secret_env",
        "NEWSLETTER_SECRET_KEY",
        "Environment variable holding the key that signs confirmation, preferences and "
        "unsubscribe links (never logged).",
        rules=(ENV_NAME,),
    ),
    Setting(
        "subscribers.secret_file",
        "subscribers/secret.key",
        "Key file used when that variable is unset: generated on first use with mode 0600.",
    ),
    Setting(
        "subscribers.confirm_hours",
        48,
        "How long a confirmation link stays valid, in hours.",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "subscribers.per_address_per_day",
        3,
        "Most confirmation emails sent to one address in 24 hours (the sign-up form "
        "cannot be used to mail-bomb someone).",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "subscribers.per_client_per_hour",
        20,
        "Most sign-up and link posts accepted from one client address in an hour.",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "subscribers.overall_per_hour",
        500,
        "Most confirmation emails the sign-up form sends in an hour, all addresses together.",
        int,
        rules=(at_least(1),),
    ),
)


@dataclass(frozen=True)
class SubscribersSettings:
    """Where the signing key comes from, how long a confirmation link lives, the limits."""

    secret_env: str
    secret_file: Path
    confirm_hours: int
    per_address_per_day: int
    per_client_per_hour: int
    overall_per_hour: int

    @property
    def confirm_seconds(self) -> int:
        return self.confirm_hours * 3600

    @classmethod
    def build(cls, v: Values) -> SubscribersSettings:
        return cls(
            secret_env=v.text("subscribers.secret_env"),
            secret_file=v.path("subscribers.secret_file"),
            confirm_hours=v.integer("subscribers.confirm_hours"),
            per_address_per_day=v.integer("subscribers.per_address_per_day"),
            per_client_per_hour=v.integer("subscribers.per_client_per_hour"),
            overall_per_hour=v.integer("subscribers.overall_per_hour"),
        )

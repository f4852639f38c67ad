"""The one settings table: every scalar key of config.toml, in the order shown.

It drives validation (:mod:`newsletter.config.load`), ``newsletter config
show``, the README/config.toml documentation test, and the list of every
validation rule (:func:`rule_ids`) that the config tests must each exercise.
"""

from __future__ import annotations

from newsletter.config import (
    bounces,
    database,
    ingest,
    mail,
    publishing,
    ranking,
    schedule,
    sources,
    subscribers,
)
from newsletter.config.rules import CrossRule, EnvironmentRule, Setting

SETTINGS: tuple[Setting, ...] = (
    *publishing.NEWSLETTER_ROWS,
    *database.ROWS,
    *publishing.OUTPUT_ROWS,
    *publishing.EMAIL_ROWS,
    *publishing.FEEDS_ROWS,
    *ingest.NOVELTY_ROWS,
    *ingest.FETCH_ROWS,
    *schedule.SCHEDULE_ROWS,
    *schedule.SERVE_ROWS,
    *subscribers.ROWS,
    *mail.DELIVERY_ROWS,
    *mail.SMTP_ROWS,
    *mail.DKIM_ROWS,
    *bounces.ROWS,
    *ranking.ROWS,
)

CROSS_RULES: tuple[CrossRule, ...] = (*mail.CHECKS, *bounces.CHECKS)

ENVIRONMENT_RULES: tuple[EnvironmentRule, ...] = (*database.ENVIRONMENT,)
"""Rules on the environment variables that override settings (reported without the file)."""

SETTING_BY_KEY = {s.key: s for s in SETTINGS}
SECTIONS = sorted({s.key.split(".")[0] for s in SETTINGS})
"""The ``[tables]`` of config.toml that hold scalar settings."""


def rule_ids() -> list[str]:
    """Every validation rule by a stable id (``key: rule``, or a cross or source rule's name)."""
    ids = [f"{s.key}: {rule.name}" for s in SETTINGS for rule in s.rules]
    ids += [f"cross: {rule.name}" for rule in CROSS_RULES]
    ids += [f"environment: {rule.name}" for rule in ENVIRONMENT_RULES]
    ids += [f"sources: {rule.__name__.strip('_')}" for rule in sources.RULES]
    ids += [f"sources: {rule.__name__.strip('_')}" for rule in sources.LIST_RULES]
    return ids

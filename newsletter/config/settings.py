"""The effective configuration of one run: frozen, typed sections.

Every consumer reads a typed field (``settings.smtp.port``,
``settings.site.base``); only :mod:`newsletter.config` knows the dotted keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from newsletter.config.bounces import BouncesSettings
from newsletter.config.database import DatabaseSettings
from newsletter.config.ingest import FetchSettings, NoveltySettings
from newsletter.config.mail import DeliverySettings, DkimSettings, SmtpSettings
from newsletter.config.publishing import (
    EmailSettings,
    FeedsSettings,
    NewsletterSettings,
    OutputSettings,
    SiteSettings,
)
from newsletter.config.ranking import RankingSettings
from newsletter.config.rules import Values, resolve
from newsletter.config.schedule import Schedule, ServeSettings
from newsletter.config.sources import SourceSettings
from newsletter.config.subscribers import SubscribersSettings
from newsletter.topics import Taxonomy


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one run.

    ``values`` holds the checked value of every dotted key (what ``config
    show`` prints); read settings through the typed sections instead.
    """

    config_path: Path | None
    base_dir: Path
    values: Mapping[str, Any]
    sources: tuple[SourceSettings, ...]
    taxonomy: Taxonomy
    newsletter: NewsletterSettings
    site: SiteSettings
    database: DatabaseSettings
    output: OutputSettings
    email: EmailSettings
    feeds: FeedsSettings
    novelty: NoveltySettings
    fetch: FetchSettings
    schedule: Schedule
    serve: ServeSettings
    subscribers: SubscribersSettings
    delivery: DeliverySettings
    smtp: SmtpSettings
    dkim: DkimSettings
    bounces: BouncesSettings
    ranking: RankingSettings

    def resolve(self, value: str | Path) -> Path:
        """A path as config.toml means it: relative to the config's folder."""
        return resolve(self.base_dir, value)


def build(
    values: Mapping[str, Any],
    *,
    base_dir: Path,
    config_path: Path | None,
    sources: tuple[SourceSettings, ...],
    taxonomy: Taxonomy,
) -> Settings:
    """The sections of checked values (see :func:`newsletter.config.load.check`)."""
    v = Values(values, base_dir)
    return Settings(
        config_path=config_path,
        base_dir=base_dir,
        values=MappingProxyType(dict(values)),
        sources=sources,
        taxonomy=taxonomy,
        newsletter=NewsletterSettings.build(v),
        site=SiteSettings.build(v),
        database=DatabaseSettings.build(v),
        output=OutputSettings.build(v),
        email=EmailSettings.build(v),
        feeds=FeedsSettings.build(v),
        novelty=NoveltySettings.build(v),
        fetch=FetchSettings.build(v),
        schedule=Schedule.build(v),
        serve=ServeSettings.build(v),
        subscribers=SubscribersSettings.build(v),
        delivery=DeliverySettings.build(v),
        smtp=SmtpSettings.build(v),
        dkim=DkimSettings.build(v),
        bounces=BouncesSettings.build(v),
        ranking=RankingSettings.build(v),
    )

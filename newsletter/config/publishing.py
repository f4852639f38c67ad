"""What an edition is called, where it is published, how big it may be.

Sections ``[newsletter]``, ``[output]``, ``[email]``, ``[feeds]`` of
config.toml; ``newsletter.base_url`` becomes :attr:`SiteSettings.base`, the
:class:`~newsletter.urls.Site` every public link starts with.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from newsletter.config.rules import HTTP_URL, TIMEZONE, Setting, Values, at_least, existing
from newsletter.urls import Site

NEWSLETTER_ROWS = (
    Setting("newsletter.name", "Daily Papers Digest", "Name shown in the email header and feeds."),
    Setting("newsletter.language", "en", "Language of the edition (HTML lang, feed language)."),
    Setting(
        "newsletter.timezone",
        "UTC",
        "IANA timezone that decides what 'today' is.",
        rules=(TIMEZONE,),
    ),
    Setting(
        "newsletter.base_url",
        "http://localhost:8000/",
        "Public URL of the web archive; links in emails and feeds start with it.",
        rules=(HTTP_URL,),
    ),
    Setting(
        "newsletter.postal_address",
        "Newsletter Operator, 1 Example Street, 00000 Example City",
        "Sender's postal address, printed in every email footer (CAN-SPAM).",
    ),
    Setting(
        "newsletter.editor_note",
        "",
        "Markdown file whose text opens the next edition (it must exist); empty for none.",
        rules=(existing("file"),),
    ),
)

OUTPUT_ROWS = (
    Setting("output.site_dir", "site", "Folder the web archive, feeds and edition.json go to."),
    Setting(
        "output.templates_dir",
        "",
        "Folder of your own templates (it must exist); a file there overrides the stock one "
        "of that name.",
        rules=(existing("folder"),),
    ),
)

EMAIL_ROWS = (
    Setting(
        "email.budget_kb",
        100,
        "Largest HTML email in KB (Gmail clips past ~102 KB).",
        int,
        rules=(at_least(20),),
    ),
    Setting(
        "email.teaser_chars",
        280,
        "Longest abstract teaser in an email card.",
        int,
        rules=(at_least(40),),
    ),
)

FEEDS_ROWS = (
    Setting(
        "feeds.max_items",
        200,
        "How many of the newest papers the feeds keep.",
        int,
        rules=(at_least(1),),
    ),
)


@dataclass(frozen=True)
class NewsletterSettings:
    """``[newsletter]``: the name, language and clock of the publication."""

    name: str
    language: str
    timezone: zoneinfo.ZoneInfo
    postal_address: str
    editor_note: Path | None

    @classmethod
    def build(cls, v: Values) -> NewsletterSettings:
        return cls(
            name=v.text("newsletter.name"),
            language=v.text("newsletter.language"),
            timezone=zoneinfo.ZoneInfo(v.text("newsletter.timezone")),
            postal_address=v.text("newsletter.postal_address"),
            editor_note=v.optional_path("newsletter.editor_note"),
        )


@dataclass(frozen=True)
class SiteSettings:
    """The public web archive: ``base`` makes every absolute link."""

    base: Site

    @property
    def https(self) -> bool:
        return self.base.base_url.startswith("https://")

    @classmethod
    def build(cls, v: Values) -> SiteSettings:
        return cls(base=Site.from_base(v.text("newsletter.base_url")))


@dataclass(frozen=True)
class OutputSettings:
    """``[output]``: where the site is written, and the operator's templates."""

    site_dir: Path
    templates_dir: Path | None

    @classmethod
    def build(cls, v: Values) -> OutputSettings:
        return cls(
            site_dir=v.path("output.site_dir"),
            templates_dir=v.optional_path("output.templates_dir"),
        )


@dataclass(frozen=True)
class EmailSettings:
    """``[email]``: the size budget of one HTML email."""

    budget_kb: int
    teaser_chars: int

    @property
    def budget_bytes(self) -> int:
        return self.budget_kb * 1000

    @classmethod
    def build(cls, v: Values) -> EmailSettings:
        return cls(
            budget_kb=v.integer("email.budget_kb"), teaser_chars=v.integer("email.teaser_chars")
        )


@dataclass(frozen=True)
class FeedsSettings:
    """``[feeds]``: how many papers the feeds keep."""

    max_items: int

    @classmethod
    def build(cls, v: Values) -> FeedsSettings:
        return cls(max_items=v.integer("feeds.max_items"))

"""Load config.toml once into frozen, typed settings.

Owns: the settings table, its validation, and the typed sections every other
package reads (``settings.smtp.port``, ``settings.site.base``, ...).  No other
package looks a setting up by its dotted key (a test enforces it).
May import: ``errors``, ``resources``, ``topics`` (the taxonomy is part of the
config) and ``urls`` (``settings.site.base`` is a ``Site``); no subpackage.
See ``docs/architecture.md``.

Modules, one idea each:

=================  ==========================================================
``rules``          a table row (:class:`Setting`) and the rules it may carry
``table``          the one table of every key, in order; every rule's id
``publishing``     ``[newsletter]`` ``[output]`` ``[email]`` ``[feeds]``
``database``       ``[database]`` and ``NEWSLETTER_DATABASE_URL``
``ingest``         ``[fetch]`` ``[novelty]``
``schedule``       ``[schedule]`` (with the cron maths) ``[serve]``
``subscribers``    ``[subscribers]``
``mail``           ``[delivery]`` ``[smtp]`` ``[dkim]``
``sources``        ``[[sources]]``
``settings``       the frozen :class:`Settings` of all sections
``load``           find, read and check; every problem at once
``show``           the effective settings for ``config show``
=================  ==========================================================

A validation rule is one of: a :class:`~newsletter.config.rules.Rule` in a
row's ``rules``; a :class:`~newsletter.config.rules.CrossRule` in a section's
``CHECKS``; a function in ``sources.RULES``/``sources.LIST_RULES``; or the
structural checks of :mod:`~newsletter.config.load` (TOML, unknown section or
key, a value's type).  Every problem is reported as ``file: dotted.key: why``.

Where a config comes from, first match wins: ``--config PATH``, the
``NEWSLETTER_CONFIG`` environment variable, ``./config.toml``, the default
bundled with the package.  Relative paths resolve against the folder of the
config file (for the bundled default: the current folder).
"""

from newsletter.config.database import DatabaseSettings
from newsletter.config.ingest import FetchSettings, NoveltySettings
from newsletter.config.load import find_config, from_values, load, parse
from newsletter.config.mail import DeliverySettings, DkimSettings, SmtpSettings
from newsletter.config.publishing import (
    EmailSettings,
    FeedsSettings,
    NewsletterSettings,
    OutputSettings,
    SiteSettings,
)
from newsletter.config.rules import Setting
from newsletter.config.schedule import Schedule, ServeSettings
from newsletter.config.settings import Settings
from newsletter.config.show import effective
from newsletter.config.sources import SourceSettings
from newsletter.config.subscribers import SubscribersSettings
from newsletter.config.table import SETTINGS, rule_ids

__all__ = [
    "SETTINGS",
    "DatabaseSettings",
    "DeliverySettings",
    "DkimSettings",
    "EmailSettings",
    "FeedsSettings",
    "FetchSettings",
    "NewsletterSettings",
    "NoveltySettings",
    "OutputSettings",
    "Schedule",
    "ServeSettings",
    "Setting",
    "Settings",
    "SiteSettings",
    "SmtpSettings",
    "SourceSettings",
    "SubscribersSettings",
    "effective",
    "find_config",
    "from_values",
    "load",
    "parse",
    "rule_ids",
]

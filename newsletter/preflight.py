"""What ``newsletter config check`` verifies beyond the config's own rules.

The config's rules (:mod:`newsletter.config`) run when it is loaded; a
config that loads can still fail at 07:00: a template override with a typo,
an SMTP password variable that is not exported, a DKIM key that is not a
key.  :func:`check` tries each of those the way a run would, without
writing anything or connecting anywhere, and reports one line per finding.
A finding can also be a warning: the config works, but something an operator
would expect does not happen (nothing reads the advertised ``mailto:``
unsubscribe address).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

from newsletter.config import Settings
from newsletter.delivery.message import Dkim, dkim_sign
from newsletter.edition import build_edition
from newsletter.errors import NewsletterError
from newsletter.model import Paper
from newsletter.render import render_email, templates
from newsletter.render.site import edition_page, index_page
from newsletter.subscribers.tokens import environment_secret


@dataclass(frozen=True)
class Finding:
    """One line of the check: ``ok`` or not, about ``what``; a ``warning`` is ok (the
    check passes) but says what will not happen."""

    what: str
    ok: bool
    detail: str
    warning: bool = False


def check(settings: Settings) -> list[Finding]:
    """Every check, in the order a run meets them; none writes or connects."""
    compiled = _templates(settings)
    if all(f.ok for f in compiled):
        rendered = _sample_edition(settings)
    else:
        rendered = Finding("sample edition", False, "not rendered: a template does not compile")
    return [
        _config(settings),
        *compiled,
        rendered,
        _delivery(settings),
        _intake(settings),
        _dkim(settings),
        _signing_key(settings),
    ]


def _config(settings: Settings) -> Finding:
    where = str(settings.config_path) if settings.config_path else "the bundled default"
    counts = ", ".join(
        _count(n, noun)
        for n, noun in (
            (len(settings.values), "setting"),
            (len(settings.sources), "source"),
            (len(settings.taxonomy.topics), "topic"),
        )
    )
    return Finding("config", True, f"{where} ({counts})")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _templates(settings: Settings) -> list[Finding]:
    env = templates.environment(settings.output.templates_dir)
    errors = templates.check(env)
    if not errors:
        own = settings.output.templates_dir
        detail = f"every template compiles{f' (overrides from {own})' if own else ''}"
        return [Finding("templates", True, detail)]
    return [Finding("templates", False, str(e.message)) for e in errors]


def _sample_edition(settings: Settings) -> Finding:
    """Render an edition of one paper per topic: the email, its page, the index."""
    papers = [
        Paper(
            key=f"title:config check sample {topic.id}",
            title=f"A sample paper on {topic.title}",
            abstract="This abstract stands in for a real one. It has two sentences.",
            url=settings.site.base.url(""),
            source="config check",
            topics=(topic.id,),
        )
        for topic in settings.taxonomy.topics
    ]
    edition = build_edition(papers, settings.taxonomy, date(2000, 1, 1))
    try:
        render_email(edition, settings)
        edition_page(edition, settings)
        index_page([edition], settings)
    except NewsletterError as exc:
        return Finding("sample edition", False, exc.message)
    return Finding("sample edition", True, "the email, its web page and the index render")


def _delivery(settings: Settings) -> Finding:
    if settings.delivery.method == "maildir":
        return Finding("delivery", True, f"maildir {settings.delivery.maildir}")
    smtp = settings.smtp
    where = f"smtp {smtp.host}:{smtp.port} ({smtp.security})"
    if smtp.username and os.environ.get(smtp.password_env) is None:
        return Finding(
            "delivery", False, f"{where}: smtp.username is set but ${smtp.password_env} is not"
        )
    return Finding("delivery", True, where)


def _intake(settings: Settings) -> Finding:
    """What reads the bounces, complaints and mailto unsubscribes that come back."""
    bounces = settings.bounces
    mailto = settings.delivery.unsubscribe_mailto
    if bounces.intake == "none":
        return Finding(
            "bounces",
            True,
            f"bounces.intake is 'none': nothing reads mail to mailto:{mailto}, which every "
            "digest advertises in List-Unsubscribe, nor bounces and complaints (unless your "
            "mail server pipes them to `newsletter bounces read --stdin`); set "
            "bounces.intake to 'maildir' or 'imap'",
            warning=True,
        )
    if bounces.intake == "imap":
        imap = bounces.imap
        where = f"imap {imap.username}@{imap.host}:{imap.port} folder {imap.folder}"
        if not os.environ.get(imap.password_env):
            return Finding(
                "bounces",
                False,
                f"bounces.imap_password_env: ${imap.password_env} is not set "
                f"(intake = 'imap' logs in as {imap.username})",
            )
    else:
        where = f"maildir {bounces.maildir}"
    if bounces.interval_minutes == 0:
        return Finding(
            "bounces",
            True,
            f"{where}: bounces.interval_minutes is 0, so serve and schedule never read it "
            f"(mail to mailto:{mailto} waits for `newsletter bounces fetch`); set an interval "
            "or run that command from cron",
            warning=True,
        )
    return Finding("bounces", True, f"{where}, read every {bounces.interval_minutes} min")


_PROBE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: probe\r\n\r\nprobe\r\n"


def _dkim(settings: Settings) -> Finding:
    key = settings.dkim
    if key.key_file is None:
        return Finding("dkim", True, "no signing (dkim.key_file is empty)")
    try:
        dkim_sign(_PROBE, Dkim.from_file(key.domain, key.selector, key.key_file))
    except NewsletterError as exc:
        return Finding("dkim", False, exc.message)
    return Finding("dkim", True, f"{key.key_file} signs as {key.selector}._domainkey.{key.domain}")


def _signing_key(settings: Settings) -> Finding:
    subs = settings.subscribers
    try:
        if environment_secret(settings) is not None:
            return Finding("link signing key", True, f"from ${subs.secret_env}")
    except NewsletterError as exc:
        return Finding("link signing key", False, exc.message)
    if subs.secret_file.is_file():
        return Finding("link signing key", True, f"from {subs.secret_file}")
    return Finding("link signing key", True, f"{subs.secret_file} is made on first use (mode 0600)")

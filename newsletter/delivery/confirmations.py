"""The one-off emails to one person: the confirmation link, and "your links".

Not editions: no list headers, no ledger; built the plain way
(:func:`~newsletter.delivery.message.confirmation_message`) and handed to the
configured :class:`~newsletter.delivery.mailer.Mailer` (the Maildir outbox or
SMTP).  The web form's sign-up desk (:mod:`newsletter.web.signup`) and the
operator's ``newsletter subscribers invite`` (:func:`invite`) send them through
:class:`Mailroom`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from newsletter.config import Settings
from newsletter.delivery.mailer import Mailer, MailerStopped, SendFailure
from newsletter.delivery.mailer import from_settings as mailer_from_settings
from newsletter.delivery.message import confirmation_message, make_message_id
from newsletter.errors import NewsletterError
from newsletter.render import templates
from newsletter.subscribers.links import SubscriberLinks
from newsletter.subscribers.subscriptions import (
    CONFIRMED,
    SUPPRESSED,
    Subscriber,
    Subscriptions,
    normalize_address,
)
from newsletter.subscribers.tokens import Tokens


@dataclass(frozen=True)
class ConfirmationContext:
    """What the confirmation email templates receive as ``mail``."""

    name: str
    language: str
    confirm_url: str
    valid_hours: int
    archive_url: str
    postal_address: str


@dataclass(frozen=True)
class LinksContext:
    """What the "your links" email templates receive as ``mail``."""

    name: str
    language: str
    preferences_url: str
    unsubscribe_url: str
    archive_url: str
    postal_address: str


class Mailroom:
    """Builds and sends the one-off emails: confirmation, "your links"."""

    def __init__(
        self,
        settings: Settings,
        *,
        mailer_factory: Callable[[], Mailer] | None = None,
        tokens: Tokens | None = None,
    ) -> None:
        self.settings = settings
        self.tokens = tokens or Tokens.from_settings(settings)
        self.links = SubscriberLinks.from_settings(settings, self.tokens)
        self.site = settings.site.base
        self.env = templates.environment(settings.output.templates_dir)
        self.mailer_factory = mailer_factory or (lambda: mailer_from_settings(settings))

    def confirmation(self, subscriber: Subscriber, now: datetime) -> None:
        """Send the confirmation email; SendFailure or MailerStopped when it could not go."""
        context = ConfirmationContext(
            name=self.settings.newsletter.name,
            language=self.settings.newsletter.language,
            confirm_url=self.links.confirm(subscriber.public_id),
            valid_hours=self.settings.subscribers.confirm_hours,
            archive_url=self.site.url(""),
            postal_address=self.settings.newsletter.postal_address,
        )
        self._send(
            subscriber,
            f"Confirm your subscription to {self.settings.newsletter.name}",
            "confirmation.txt.j2",
            "confirmation.html.j2",
            context,
            "confirm",
            now,
        )

    def new_links(self, subscriber: Subscriber, now: datetime) -> None:
        """Send fresh preferences and unsubscribe links to a confirmed subscriber."""
        links = self.links.for_subscriber(subscriber.public_id)
        context = LinksContext(
            name=self.settings.newsletter.name,
            language=self.settings.newsletter.language,
            preferences_url=links.preferences,
            unsubscribe_url=links.unsubscribe,
            archive_url=self.site.url(""),
            postal_address=self.settings.newsletter.postal_address,
        )
        self._send(
            subscriber,
            f"Your links to {self.settings.newsletter.name}",
            "links_email.txt.j2",
            "links_email.html.j2",
            context,
            "links",
            now,
        )

    def _send(
        self,
        subscriber: Subscriber,
        subject: str,
        text_template: str,
        html_template: str,
        context: ConfirmationContext | LinksContext,
        kind: str,
        now: datetime,
    ) -> None:
        from newsletter.delivery.sending import sender_for

        message_id = make_message_id(kind, self.settings.delivery.sender_domain)
        message = confirmation_message(
            sender_for(self.settings),
            subscriber.email,
            subject,
            templates.render(self.env, text_template, mail=context),
            templates.render(self.env, html_template, mail=context),
            now,
            message_id,
        )
        mailer = self.mailer_factory()
        try:
            mailer.send(self.settings.delivery.from_address, subscriber.email, message, message_id)
        finally:
            mailer.close()


_WHY_NOT = {
    "unsubscribed": "they can sign up again on the web form; an operator cannot re-subscribe them",
    "bounced": "their mail server refused the address; the web form does not sign it up again "
    "and an operator cannot re-subscribe it (only deleting the record, "
    "`newsletter subscribers remove --purge`, would let it sign up again)",
    "complained": "they reported a digest as spam; the web form does not sign them up again "
    "and an operator cannot re-subscribe them (only deleting the record, "
    "`newsletter subscribers remove --purge`, would let them sign up again)",
}
"""Why ``invite`` sends nothing to a suppressed address: what can still bring it back,
as the web form and the CLI really behave."""


def invite(
    settings: Settings,
    subs: Subscriptions,
    addresses: list[str],
    *,
    now: datetime,
    mailroom: Mailroom | None = None,
) -> list[tuple[str, str]]:
    """The operator sends the confirmation email to pending addresses.

    Returns ``(address, problem)`` per address, ``problem`` empty when the
    email went out.  Only a pending address is invited: a confirmed one needs
    nothing, and one that unsubscribed or bounced can only come back by
    signing up again itself.
    """
    mailroom = mailroom or Mailroom(settings)
    results: list[tuple[str, str]] = []
    for text in addresses:
        try:
            address = normalize_address(text)
        except NewsletterError as exc:
            results.append((text, exc.message))
            continue
        subscriber = subs.by_email(address)
        if subscriber is None:
            problem = f"not on the list (add it first: newsletter subscribers add {address})"
        elif subscriber.status == CONFIRMED:
            problem = "confirmed already; nothing sent"
        elif subscriber.status in SUPPRESSED:
            problem = f"{subscriber.status}: nothing sent ({_WHY_NOT[subscriber.status]})"
        else:
            try:
                mailroom.confirmation(subscriber, now)
                problem = ""
            except (SendFailure, MailerStopped) as exc:
                problem = f"the confirmation email was not sent: {exc}"
        results.append((subscriber.email if subscriber else address, problem))
    return results

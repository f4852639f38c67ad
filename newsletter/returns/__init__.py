"""What comes back: bounce reports, spam complaints and mailto unsubscribes.

Owns:

- :mod:`~newsletter.returns.reports` — reading one message (DSN, ARF, mailto,
  auto-reply, flufl.bounce's older formats) into a ``Report``; pure;
- :mod:`~newsletter.returns.intake` — attributing it (VERP token, DSN
  recipients, the original message) and applying it: one transaction per
  message, idempotent by its Message-ID;
- :mod:`~newsletter.returns.mailboxes` — the Maildir and IMAP intakes, moving
  each handled message to the processed or the operator folder;
- :mod:`~newsletter.returns.rounds` — one intake round over a mailbox, and one
  message from standard input.

The return path's tokens are :mod:`newsletter.subscribers.returnpath` (delivery
makes them, this package reads them); what ``status`` counts is
:mod:`newsletter.feedback`.

May import: the core values, ``config``, ``store`` and ``subscribers`` (tokens,
the return path, the subscriber state machine).
"""

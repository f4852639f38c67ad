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

May import: the core values, ``config``, ``store``, ``subscribers`` (tokens,
the subscriber state machine) and ``delivery`` (the return path's tokens).
"""

"""Delivery: getting one edition to each subscriber, exactly once, from the send ledger.

Owns: the send ledger (``ledger``: claims with leases, outcomes, uncertain
sends), the MIME message compiled once per topic set and spliced per
recipient (``message``), the seam to the mail system (``mailer``: Maildir
outbox, SMTP), the send loop that ties them together (``sending``) and the
one-off emails to one person: confirmation, "your links" (``confirmations``).

May import: the core values (``model``, ``errors``, ``states``, ``edition``,
``faults``, ``owners``),
``config``, ``store``, ``render`` (the rendered email and its tokens) and
``subscribers`` (who gets what, their links).  Never ``pipeline``, ``web`` or
``cli``.  See ``docs/architecture.md`` and ``docs/delivery.md``.
"""

"""Subscribers: who receives the newsletter, with which topics, and the proof they asked.

Owns: subscriptions and their consent records (``subscriptions``), signed
link and form tokens (``tokens``), each subscriber's confirm, preferences and
unsubscribe URLs (``links``) and the CSV import and export (``csvio``).

May import: the core values (``model``, ``errors``, ``topics``), ``config``,
``store`` and ``render`` (the site's URL layout).  Never ``delivery``,
``web``, ``pipeline`` or ``cli``.  See ``docs/architecture.md`` and
``docs/subscribers.md``.
"""

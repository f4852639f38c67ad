"""Subscribers: who receives the newsletter, with which topics, and the proof they asked.

Owns: subscriptions and their consent records (``subscriptions``), signed
link and form tokens (``tokens``), each subscriber's confirm, preferences and
unsubscribe URLs (``links``) and the CSV import and export (``csvio``).

May import: the core values (``model``, ``errors``, ``states``, ``topics``, ``urls``: the
site's URL layout), ``config`` and ``store``.  Never ``render``, ``delivery``,
``web``, ``pipeline`` or ``cli``.  See ``docs/architecture.md`` and
``docs/subscribers.md``.
"""

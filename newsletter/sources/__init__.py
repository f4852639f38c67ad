"""Sources: one module per kind of input, each turning raw bytes into a ``Digest``.

A source only reads and parses; it never decides what is new.  Each returns a
:class:`newsletter.model.Digest` of :class:`newsletter.model.RawEntry` values
with display text already repaired (:mod:`newsletter.repair`), or raises an
:class:`newsletter.errors.InputError` subclass naming the input, so that the
run can report that one input and go on with the others.

- :mod:`newsletter.sources.text`: the saved "Daily Papers" text digests.
- :mod:`newsletter.sources.feed`: RSS/Atom feeds, arXiv's included (bytes from
  :mod:`newsletter.sources.fetch`, parsed by feedparser).
- :mod:`newsletter.sources.hf`: the Hugging Face daily-papers JSON.

:mod:`newsletter.sources.collect` reads the configured sources of each kind.
Under :mod:`~newsletter.sources.fetch`: :mod:`~newsletter.sources.network`
(one DNS answer, checked and connected to, every operation within the fetch's
deadline) and :mod:`~newsletter.sources.coding` (one content coding, decoded
with bounded output).

Owns: reading and parsing every kind of input, fetching over HTTP with its
limits (``fetch``), and what was read (validators, content hashes) for the
caller to record.

May import: the core values (``model``, ``errors``, ``repair``, ``identity``),
``config`` and ``store`` (what was ingested before).  Never ``render``,
``delivery``, ``web``, ``pipeline`` or ``cli``.  See ``docs/architecture.md``
and ``docs/sources.md``.
"""

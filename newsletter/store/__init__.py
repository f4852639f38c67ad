"""Persistence: the one package that talks to the database.

Owns:

- :mod:`~newsletter.store.database` — :class:`Database` (engine, connections,
  transactions: SQLite ``BEGIN IMMEDIATE`` with a busy retry, WAL,
  ``synchronous=FULL``; a PostgreSQL advisory lock) and running migrations;
- :mod:`~newsletter.store.locks` — named locks across processes for longer than a
  transaction (one intake round per mailbox): a PostgreSQL session advisory lock,
  a ``flock`` beside a SQLite file;
- :mod:`~newsletter.store.schema` — the live tables the repositories query;
- :mod:`~newsletter.store.migrations` — the schema's history, each step frozen DDL;
- the repositories, each over one connection (reach them through the
  :class:`~newsletter.store.database.Transaction` that ``Database.read()`` and
  ``Database.write()`` yield): :mod:`~newsletter.store.papers` (the seen
  papers, bands, aliases), :mod:`~newsletter.store.identity_index` (term
  frequencies, rare pairs), :mod:`~newsletter.store.corrections` (the
  operator's identity decisions, sightings), :mod:`~newsletter.store.seen`
  (what novelty reads, over those three), :mod:`~newsletter.store.editions`,
  :mod:`~newsletter.store.sources` (source validators, ingested files),
  :mod:`~newsletter.store.runs` (run reports and run claims),
  :mod:`~newsletter.store.subscribers` (subscribers and consents),
  :mod:`~newsletter.store.ledger` (send-ledger rows).

Every SQL statement and every ``sqlalchemy`` import of the package is in here
(``tests/test_architecture.py`` enforces it).  Repositories read and write
rows; the rules — novelty, the subscriber and ledger state machines, what
commits together — belong to their callers.

May import: SQLAlchemy, and from ``newsletter`` only the pure core —
:mod:`newsletter.model`, :mod:`newsletter.states`, :mod:`newsletter.errors`,
:mod:`newsletter.identity` (signatures), :mod:`newsletter.owners` (who holds a
claim) and :mod:`newsletter.edition` (its
JSON form).  Never ``config``, ``sources``, ``subscribers``, ``delivery``,
``render``, ``web``, ``cli``, ``pipeline`` or ``scheduler``: they import the store.
"""

from newsletter.store.database import Database, Transaction
from newsletter.store.editions import EditionExists, StoredEdition

__all__ = ["Database", "EditionExists", "StoredEdition", "Transaction"]

"""Who holds a send-ledger row: an owner token per delivery loop, and when it is gone.

Every delivery loop has its own owner token and claims rows with a *lease*
(``lease_until``), renewed while it runs.  A row can be taken back from its
owner in exactly two cases:

- the lease expired: whoever held it (another host, a container that is
  gone, a process frozen for longer than the lease), or
- the owner is *provably* dead: same host, same boot and same PID namespace
  (so a PID means the same thing), and no process has that PID, or the
  process with that PID is a later one (a different process token).

A live loop is never robbed: two loops of one process have different tokens
and neither is "dead" to the other, so only the lease decides between them.
A PID that was reused by an unrelated process keeps the row until its lease
expires — late, never twice.

The token: ``host:pid:process-token:namespace:loop``; the rules live in
:mod:`newsletter.owners`, shared with the run claims.
"""

from __future__ import annotations

from newsletter.owners import NAMESPACE as _NAMESPACE
from newsletter.owners import loop_owner, owner_is_dead

__all__ = ["_NAMESPACE", "loop_owner", "owner_is_dead"]

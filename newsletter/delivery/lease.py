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

The token: ``host:pid:process-token:namespace:loop`` (colons and all; the
first two fields are what :func:`newsletter.store.runs.owner_is_dead`
reads too).
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid

_PROCESS = uuid.uuid4().hex[:8]


def _namespace() -> str:
    """This boot and PID namespace, short: PIDs compare only within one."""
    parts = []
    for path in ("/proc/sys/kernel/random/boot_id",):
        try:
            with open(path, encoding="ascii") as handle:
                parts.append(handle.read().strip())
        except OSError:
            parts.append("")
    try:
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        parts.append("")
    if not any(parts):
        return "-"
    return hashlib.blake2b("|".join(parts).encode(), digest_size=4).hexdigest()


_NAMESPACE = _namespace()


def loop_owner() -> str:
    """A new owner token, for one delivery loop of this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS}:{_NAMESPACE}:{uuid.uuid4().hex[:6]}"


def owner_is_dead(owner: str) -> bool:
    """True only when ``owner`` is certainly not running: see the module docstring."""
    fields = owner.split(":")
    if len(fields) < 2 or fields[0] != socket.gethostname() or not fields[1].isdigit():
        return False
    pid = int(fields[1])
    token = fields[2] if len(fields) > 2 else ""
    if len(fields) >= 4 and fields[3] != _NAMESPACE:
        return False  # another boot or container: its PIDs are not ours to check
    if pid == os.getpid():
        return bool(token) and token != _PROCESS  # an earlier process that had our PID
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False

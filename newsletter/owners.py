"""Who holds a claim or a lease: an owner token per process (and per delivery loop),
and when an owner is *provably* gone.

A run claim (one edition per date) and a send-ledger row are both held by an
owner with a lease.  Either can be taken back early only when its owner is
certainly not running: same host, same boot and same PID namespace (so a PID
means the same thing here as there), and no process has that PID, or the
process with that PID is a later one (a different process token).  Anything
less certain — another host, another container sharing the hostname, a PID we
may not signal — waits for the lease to expire: late, never twice.

One module for both, so the run claims and the ledger cannot disagree about
what "dead" means (they did: the claims once ignored the PID namespace).

Token: ``host:pid:process-token:namespace`` for a process, plus ``:loop`` for
one delivery loop of it.  Tokens written by older versions (``host:pid:token``)
are read too: without a namespace they are never judged dead by PID alone on a
host whose namespace could differ — they fall back to the lease.
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
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
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


NAMESPACE = _namespace()


def process_owner() -> str:
    """This process, as an owner: ``host:pid:token:namespace`` (the token survives PID reuse)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS}:{NAMESPACE}"


def loop_owner() -> str:
    """A new owner token, for one delivery loop of this process."""
    return f"{process_owner()}:{uuid.uuid4().hex[:6]}"


def owner_is_dead(owner: str) -> bool:
    """True only when ``owner`` is certainly not running: see the module docstring."""
    fields = owner.split(":")
    if len(fields) < 2 or fields[0] != socket.gethostname() or not fields[1].isdigit():
        return False
    pid = int(fields[1])
    token = fields[2] if len(fields) > 2 else ""
    if len(fields) < 4 or fields[3] != NAMESPACE:
        return False  # another boot or container (or an old token): its PIDs are not ours
    if pid == os.getpid():
        return bool(token) and token != _PROCESS  # an earlier process that had our PID
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False

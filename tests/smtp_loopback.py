"""A real SMTP server (aiosmtpd) on 127.0.0.1 in a thread, with a script of bad answers.

``script[address]`` is a list of what to do on successive attempts to that
recipient: an SMTP reply such as ``"451 4.7.1 try later"`` (given to RCPT),
``"550 ..."``, ``"drop"`` (close the connection at RCPT, before the message),
``"drop-after-data"`` (take the message, then close without replying),
``"drop-mid-data"`` (answer 354, read a few lines of the message, then close
the connection: the message never arrives), or ``"ok"``.  When the list
runs out, the recipient is accepted.  Every accepted message is kept in
``messages`` (bytes) with its recipients.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class _DroppingSMTP(SMTP):
    """aiosmtpd's session, able to drop the connection in the middle of DATA.

    The handler's ``drop_mid_data(envelope)`` says when: then the server answers
    354, reads a few lines of the message and closes the connection with the
    rest unread (the kernel answers the client's further data with a reset),
    as a server that crashes or times out mid-message does.
    """

    async def smtp_DATA(self, arg: str) -> None:
        decide = getattr(self.event_handler, "drop_mid_data", None)
        if (
            decide is None
            or self.envelope is None
            or not self.envelope.rcpt_tos
            or arg
            or not decide(self.envelope)
        ):
            await super().smtp_DATA(arg)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        for _ in range(3):
            await self._reader.readuntil(b"\r\n")
        assert self.transport is not None
        self.transport.close()


class DroppingController(Controller):
    """A Controller whose sessions can drop mid-DATA (see :class:`_DroppingSMTP`)."""

    def factory(self) -> SMTP:
        return _DroppingSMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class ScriptedHandler:
    script: dict[str, list[str]] = field(default_factory=dict)
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _next(self, address: str) -> str:
        with self.lock:
            steps = self.script.get(address.lower())
            return steps.pop(0) if steps else "ok"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        step = self._next(address)
        envelope.rcpt_step = step
        if step == "drop":
            server.transport.close()
            return "421 4.4.2 dropped"
        if step[:1] in ("4", "5"):
            return step
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def drop_mid_data(self, envelope: Any) -> bool:
        return getattr(envelope, "rcpt_step", "") == "drop-mid-data"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        if getattr(envelope, "rcpt_step", "") == "drop-after-data":
            server.transport.close()
        return "250 2.0.0 queued"

    def received_by(self, address: str) -> list[bytes]:
        with self.lock:
            return [m.data for m in self.messages if address.lower() in map(str.lower, m.rcpt_tos)]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[bytes]:
        """The messages to ``address`` once there are ``count`` (mail sent off the request path)."""
        deadline = time.monotonic() + timeout
        while len(found := self.received_by(address)) < count:
            assert time.monotonic() < deadline, f"{count} message(s) to {address} never arrived"
            time.sleep(0.02)
        return found


@dataclass
class Server:
    handler: ScriptedHandler
    port: int


def _authenticator(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server(
    script: dict[str, list[str]] | None = None, auth: tuple[str, str] | None = None
) -> Iterator[Server]:
    handler = ScriptedHandler(script={k.lower(): v for k, v in (script or {}).items()})
    kwargs: dict[str, Any] = {}
    if auth:
        kwargs = {
            "auth_required": True,
            "auth_require_tls": False,
            "authenticator": _authenticator(*auth),
        }
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = DroppingController(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Server(handler, port)
    finally:
        controller.stop()

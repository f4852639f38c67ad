"""A fast SMTP sink for the delivery benchmark: accepts and discards every message.

    python bench/smtp_sink.py            # prints its port, serves until stdin closes

aiosmtpd parses every line of every message in Python, so at a few hundred
messages per second the *server* is the bottleneck and a benchmark of the
client measures the server.  This sink speaks just enough SMTP for smtplib
(EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), finds the end of a message
with one ``bytes.find`` per chunk, and counts.  It runs in its own process,
so it does not share the client's GIL.
"""

from __future__ import annotations

import asyncio
import socket
import sys

END = b"\r\n.\r\n"


class Sink(asyncio.Protocol):
    received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = bytearray()
        self.in_data = False
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.in_data:
                # the terminator may straddle two chunks: search from a little back
                at = self.buffer.find(END, 0)
                if at < 0:
                    keep = len(END) - 1
                    if len(self.buffer) > keep:
                        del self.buffer[: len(self.buffer) - keep]
                    return
                del self.buffer[: at + len(END)]
                self.in_data = False
                Sink.received += 1
                self.transport.write(b"250 2.0.0 Ok: queued\r\n")
                continue
            at = self.buffer.find(b"\r\n")
            if at < 0:
                return
            line = bytes(self.buffer[:at]).upper()
            del self.buffer[: at + 2]
            verb = line[:4]
            if verb in (b"EHLO", b"HELO"):
                self.transport.write(b"250-sink\r\n250-8BITMIME\r\n250 SIZE 0\r\n")
            elif verb == b"DATA":
                self.in_data = True
                self.transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                self.buffer[:0] = b"\r\n"  # so a message that is only "." still ends
            elif verb == b"QUIT":
                self.transport.write(b"221 Bye\r\n")
                self.transport.close()
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.transport.write(b"250 Ok\r\n")


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    server = await loop.create_server(Sink, sock=listener, backlog=128)
    print(listener.getsockname()[1], flush=True)
    done = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: done.done() or done.set_result(None))
    await done
    server.close()


if __name__ == "__main__":
    asyncio.run(_serve())

"""The mailers against real servers: what each failure is taken for, and the Maildir outbox."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from smtp_loopback import smtp_server

from newsletter.delivery.mailer import (
    ConnectionLost,
    MaildirMailer,
    MailerStopped,
    PermanentFailure,
    ReplyLost,
    SmtpMailer,
    SmtpSettings,
    TemporaryFailure,
)

SENDER = "digest@papers.example.org"


def message(to: str, body_lines: int = 4000) -> bytes:
    head = f"From: {SENDER}\r\nTo: {to}\r\nMessage-ID: <m.{to}>\r\nSubject: s\r\n\r\n"
    return head.encode() + b"".join(b"line %d of the body\r\n" % i for i in range(body_lines))


def mailer(port: int, timeout: float = 2) -> SmtpMailer:
    return SmtpMailer(SmtpSettings("127.0.0.1", port, "none", "", "X", timeout))


def test_a_drop_in_the_middle_of_data_is_a_lost_connection_not_an_uncertain_send() -> None:
    """The server never saw the end of the message: certainly not sent, so no "uncertain"."""
    to = "mid@example.org"
    with smtp_server({to: ["drop-mid-data"] * 20}) as server:
        smtp = mailer(server.port)
        for _ in range(20):
            prepared = None
            with pytest.raises(ConnectionLost) as caught:
                prepared = smtp.prepare(SENDER, to, message(to), f"<m.{to}>")
                prepared.hand_over()
            assert not isinstance(caught.value, ReplyLost)
        assert server.handler.received_by(to) == []
        assert smtp.send(SENDER, to, message(to), f"<m.{to}>").startswith("250")  # lifted
        assert len(server.handler.received_by(to)) == 1
        smtp.close()


def test_a_drop_after_the_end_of_the_message_is_uncertain() -> None:
    to = "after@example.org"
    with smtp_server({to: ["drop-after-data"]}) as server:
        smtp = mailer(server.port)
        with pytest.raises(ReplyLost):
            smtp.send(SENDER, to, message(to, 10), f"<m.{to}>")
        assert len(server.handler.received_by(to)) == 1  # it did arrive
        smtp.close()


def test_replies_become_the_failures_the_loop_acts_on() -> None:
    script = {
        "grey@example.org": ["451 4.7.1 greylisted"],
        "quota@example.org": ["552 5.2.2 over quota"],
        "gone@example.org": ["550 5.1.1 no such user"],
        "policy@example.org": ["554 5.7.1 rejected"],
        "closing@example.org": ["421 4.3.2 shutting down"],
    }
    with smtp_server(script) as server:
        smtp = mailer(server.port)

        def fails(to: str) -> BaseException:
            with pytest.raises((TemporaryFailure, PermanentFailure)) as caught:
                smtp.send(SENDER, to, message(to, 3), f"<m.{to}>")
            return caught.value

        grey, quota = fails("grey@example.org"), fails("quota@example.org")
        assert isinstance(grey, TemporaryFailure) and isinstance(quota, TemporaryFailure)
        gone, policy = fails("gone@example.org"), fails("policy@example.org")
        assert isinstance(gone, PermanentFailure) and gone.bounce
        assert isinstance(policy, PermanentFailure) and not policy.bounce
        closing = fails("closing@example.org")
        assert type(closing) is TemporaryFailure and closing.code == 421
        assert smtp.send(SENDER, "fine@example.org", message("x", 3), "<m.x>").startswith("250")
        smtp.close()


def test_an_unreachable_server_is_a_lost_connection_while_connecting() -> None:
    with smtp_server() as server:
        port = server.port
    with pytest.raises(ConnectionLost) as caught:
        mailer(port).send(SENDER, "a@example.org", message("a", 3), "<m.a>")
    assert caught.value.connecting


def test_maildir_outbox_that_cannot_be_created_stops_with_a_reason(tmp_path: Path) -> None:
    """Not a folder (or not writable): one line naming the outbox, never a traceback."""
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(MailerStopped) as caught:
        MaildirMailer(tmp_path / "file" / "outbox").send(SENDER, "a@x.org", b"x\r\n", "<1@x>")
    assert "outbox" in str(caught.value) and "Not a directory" in str(caught.value)
    assert "delivery.maildir" in str(caught.value)


def test_maildir_write_failure_leaves_no_partial_file(tmp_path: Path) -> None:
    """A full disk mid-write: the run stops with a reason and tmp/ holds nothing."""
    box = tmp_path / "box"
    mailer_ = MaildirMailer(box)
    mailer_.send(SENDER, "a@x.org", b"first\r\n", "<0@x>")
    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full")
    # the temporary file of the next message is /dev/full: writing it fails with ENOSPC
    name = mailer_._name("<1@x>")
    temp = box / "tmp" / f"{name}.{os.getpid()}.{id(mailer_):x}"
    os.symlink(full, temp)
    with pytest.raises(MailerStopped) as caught:
        mailer_.send(SENDER, "a@x.org", b"x" * 100_000 + b"\r\n", "<1@x>")
    assert os.strerror(errno.ENOSPC) in str(caught.value)
    assert list((box / "tmp").iterdir()) == []
    assert len(list((box / "new").iterdir())) == 1


def test_maildir_never_writes_the_same_message_twice(tmp_path: Path) -> None:
    mailer_ = MaildirMailer(tmp_path / "box")
    data = b"From: a@b.c\r\nTo: d@e.f\r\nMessage-ID: <1@b.c>\r\n\r\nhi\r\n"
    mailer_.send("a@b.c", "d@e.f", data, "<1@b.c>")
    assert "not written twice" in mailer_.send("a@b.c", "d@e.f", data, "<1@b.c>")
    assert len(list((tmp_path / "box" / "new").iterdir())) == 1


def _send_from_another_host(box: Path, data: bytes, message_id: str) -> str:
    """Write ``data`` into the outbox from a process with another hostname, as a new
    container per cron run would."""
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None:
        pytest.skip("no unshare")
    code = (
        "import sys; from pathlib import Path; "
        "from newsletter.delivery.mailer import MaildirMailer; "
        "print(MaildirMailer(Path(sys.argv[1])).send('a@b.c', 'd@e.f', sys.stdin.buffer.read(), "
        "sys.argv[2]))"
    )
    argv = [sys.executable, "-c", code, str(box), message_id]
    shell = ["unshare", "--uts", "sh", "-c", 'hostname "elsewhere-$$" && exec "$@"', "sh", *argv]
    done = subprocess.run(shell, input=data, capture_output=True)
    if done.returncode != 0 and b"Operation not permitted" in done.stderr:
        pytest.skip("cannot start a process with another hostname here (unshare --uts)")
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_maildir_resend_from_another_hostname_is_not_written_twice(tmp_path: Path) -> None:
    """The outbox file is named by the Message-ID alone: a resend after a kill from a
    new container (another hostname) finds the first copy."""
    box = tmp_path / "box"
    data = b"From: a@b.c\r\nTo: d@e.f\r\nMessage-ID: <1@b.c>\r\n\r\nhi\r\n"
    assert "written to new/" in _send_from_another_host(box, data, "<1@b.c>")
    assert "not written twice" in MaildirMailer(box).send("a@b.c", "d@e.f", data, "<1@b.c>")
    assert "not written twice" in _send_from_another_host(box, data, "<1@b.c>")
    assert len(list((box / "new").iterdir())) == 1


def test_maildir_message_a_reader_moved_to_cur_is_not_written_again(tmp_path: Path) -> None:
    """A mail reader moves a message to cur/ (``:2,S`` flags, or none); an older version
    named it ``<hash>.<host>``: in every case the resend writes nothing."""
    box = tmp_path / "box"
    mailer_ = MaildirMailer(box)
    data = b"Message-ID: <1@b.c>\r\n\r\nhi\r\n"
    for i, suffix in enumerate([":2,S", "", ".oldhost", ".oldhost:2,RS"]):
        mid = f"<{i}@b.c>"
        mailer_.send("a@b.c", "d@e.f", data, mid)
        [written] = [p for p in (box / "new").iterdir()]
        written.rename(box / "cur" / (written.name + suffix))
        assert "not written twice" in mailer_.send("a@b.c", "d@e.f", data, mid), suffix
        assert list((box / "new").iterdir()) == []


def test_maildir_half_written_copy_in_tmp_is_replaced_not_kept(tmp_path: Path) -> None:
    """A writer killed mid-write left part of the message in tmp/: the resend writes the
    whole message once and leaves tmp/ empty."""
    box = tmp_path / "box"
    mailer_ = MaildirMailer(box)
    mailer_.send("a@b.c", "d@e.f", b"Message-ID: <0@b.c>\r\n\r\nfirst\r\n", "<0@b.c>")
    killed = MaildirMailer(box)
    partial = killed.prepare("a@b.c", "d@e.f", b"Message-ID: <1@b.c>\r\n\r\nwhole\r\n", "<1@b.c>")
    assert len(list((box / "tmp").iterdir())) == 1  # killed before the hand-over: never linked
    del partial
    reply = mailer_.send("a@b.c", "d@e.f", b"Message-ID: <1@b.c>\r\n\r\nwhole\r\n", "<1@b.c>")
    assert "written to new/" in reply
    assert list((box / "tmp").iterdir()) == []
    assert len(list((box / "new").iterdir())) == 2


def test_a_message_given_in_pieces_arrives_as_the_same_bytes() -> None:
    # The delivery loop hands the SMTP mailer a digest as its pieces (never joined per
    # recipient); the server must get exactly what the joined message would be, with
    # SMTP's dot-stuffing undone, whether given as pieces or as one bytes.
    to = "pieces@example.org"
    whole = message(to, 20000)  # ~400 KB: more than one gathering write on a small buffer
    cut = [whole[i : i + 997] for i in range(0, len(whole), 997)]  # > IOV_MAX pieces
    with smtp_server({}) as server:
        smtp = mailer(server.port)
        assert smtp.gather
        for given in (cut, [b"", whole, b""]):  # no line starts with ".": stuffed already
            prepared = smtp.prepare(SENDER, to, given, f"<m.{to}>", transparent=True)
            assert prepared.hand_over().startswith("250")
        assert smtp.send(SENDER, to, whole, f"<m.{to}>").startswith("250")
        smtp.close()
        got = server.handler.received_by(to)
    assert len(got) == 3 and got[0] == got[1] == got[2]
    assert got[0].replace(b"\r\n", b"\n").endswith(b"line 19999 of the body\n")


def test_a_gathering_write_cut_short_by_the_kernel_goes_on_where_it_stopped() -> None:
    import socket
    import threading

    from newsletter.delivery.mailer import _write

    pieces = [bytes([65 + i % 26]) * (1 + (i * 7919) % 5000) for i in range(3000)]
    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # short writes, many of them
    got = bytearray()

    def read() -> None:
        while chunk := b.recv(65536):
            got.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    _write(a, pieces)
    a.close()
    reader.join(timeout=30)
    b.close()
    assert bytes(got) == b"".join(pieces)

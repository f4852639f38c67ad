"""A real Dovecot IMAP server for the bounce-intake tests, started by the test.

Dovecot from Debian's ``dovecot-imapd``, unprivileged: the master runs as the
current user (as ``nobody`` when the tests run as root), with its own config,
state, log and Maildirs in a fresh folder, listening on 127.0.0.1 only, plain
IMAP with plaintext login on loopback, one user in a passwd-file.  Skipped when
Dovecot is not installed — unless ``NEWSLETTER_REQUIRE_DOVECOT`` is set (CI),
then it fails.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "bounces"
PASSWORD = "loopback-only-secret"
START_SECONDS = 60.0


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    return found


def need_dovecot() -> str:
    binary = dovecot_binary()
    if binary is None:
        if os.environ.get("NEWSLETTER_REQUIRE_DOVECOT"):
            pytest.fail("NEWSLETTER_REQUIRE_DOVECOT is set but dovecot is not installed")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    return binary


@dataclass(frozen=True)
class Dovecot:
    port: int
    root: Path
    imaps_port: int = 0
    """With ``tls``: the IMAPS port (the plain port offers STARTTLS)."""

    @property
    def certificate(self) -> Path:
        return self.root / "cert.pem"

    @property
    def maildir(self) -> Path:
        return self.root / "mail" / USER

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        conn.login(USER, PASSWORD)
        return conn

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into the mailbox, as the server's delivery would."""
        conn = self.client()
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def count(self, folder: str) -> int:
        conn = self.client()
        try:
            typ, data = conn.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return 0
            return int(data[0] or 0)
        finally:
            conn.logout()

    def subjects(self, folder: str) -> list[str]:
        conn = self.client()
        try:
            typ, _ = conn.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            _, found = conn.uid("SEARCH", "ALL")
            out = []
            for uid in found[0].split():
                _, data = conn.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                header = next(bytes(d[1]) for d in data if isinstance(d, tuple))
                out.append(header.decode("utf-8", "replace").partition(":")[2].strip())
            return sorted(out)
        finally:
            conn.logout()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(
    root: Path, port: int, user: str, group: str, uid: int, gid: int, imaps: int = 0
) -> str:
    ssl = (
        f"ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem\n"
        if imaps
        else "ssl = no\n"
    )
    return (
        ssl
        + f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
"""
    )


def _ready(port: int, process: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.settimeout(10)
                if sock.recv(200).startswith(b"* OK"):
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def _certificate(root: Path) -> None:
    """A throw-away self-signed certificate for 127.0.0.1 (openssl, as the DKIM test)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("NEWSLETTER_REQUIRE_DOVECOT"):
            pytest.fail("openssl is needed for the IMAPS test")
        pytest.skip("openssl is not installed")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def dovecot_server(*, tls: bool = False) -> Iterator[Dovecot]:
    binary = need_dovecot()
    # never run the server as root: as nobody then, in a folder it owns
    who = pwd.getpwnam("nobody") if os.getuid() == 0 else pwd.getpwuid(os.getuid())

    group = grp.getgrgid(who.pw_gid).gr_name
    root = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
    root.chmod(0o755)
    process: subprocess.Popen[bytes] | None = None
    try:
        for name in ("run", "state", "mail"):
            (root / name).mkdir()
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
        if tls:
            _certificate(root)
        for _attempt in range(3):  # a free port can be taken before dovecot binds it
            port = _free_port()
            imaps = _free_port() if tls else 0
            conf = root / "dovecot.conf"
            conf.write_text(
                _config(root, port, who.pw_name, group, who.pw_uid, who.pw_gid, imaps),
                encoding="utf-8",
            )
            if os.getuid() == 0:
                for path in [root, *root.rglob("*")]:
                    os.chown(path, who.pw_uid, who.pw_gid)
            with (root / "stderr.log").open("ab") as stderr:
                process = subprocess.Popen(
                    [binary, "-F", "-c", str(conf)],
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    user=who.pw_uid if os.getuid() == 0 else None,
                    group=who.pw_gid if os.getuid() == 0 else None,
                    start_new_session=True,
                )
            if _ready(port, process, time.monotonic() + START_SECONDS):
                break
            _stop(process)
            process = None
        if process is None:
            log = (
                (root / "dovecot.log").read_text(errors="replace")[-2000:]
                if (root / "dovecot.log").exists()
                else ""
            )
            raise AssertionError(f"dovecot did not start:\n{log}")
        yield Dovecot(port, root, imaps)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)

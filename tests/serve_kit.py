"""``newsletter serve`` as a real process: started in a folder, its printed address, its logs.

``serve(folder)`` starts ``python -m newsletter serve --port 0`` there and
waits for the line it prints once it accepts connections; the address in it
(the real port) is how tests reach it.  Its stderr (logs, the access log) is
collected in a thread so a chatty server never blocks on a full pipe.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

READY = re.compile(r"serving (http://[^ ]+/) ")


class ServeProcess:
    def __init__(self, folder: Path, extra_args: tuple[str, ...] = ()) -> None:
        env = {**os.environ}
        env.pop("NEWSLETTER_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "serve", "--port", "0", *extra_args],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._ready = threading.Event()
        self.url = ""
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout.append(line)
            found = READY.search(line)
            if found and not self.url:
                self.url = found.group(1)
                self._ready.set()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self.proc.poll() is not None:
                self.close()
                raise AssertionError(f"serve exited with {self.proc.returncode}: {self.logs()}")
            assert time.monotonic() < deadline, f"serve printed no address: {self.logs()}"
        return self.url

    def logs(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc status")

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"serve did not stop on SIGTERM: {self.logs()}") from None
        finally:
            self.close()

    def close(self) -> None:
        """Collect the rest of the output and close the pipes (the process has ended)."""
        for reader in self._readers:
            reader.join(10)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def write_config(folder: Path, text: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(
        '[newsletter]\nbase_url = "https://papers.example.org/"\n'
        '[delivery]\nfrom_address = "digest@papers.example.org"\n' + text,
        encoding="utf-8",
    )


@contextmanager
def serving(folder: Path, extra_args: tuple[str, ...] = ()) -> Iterator[ServeProcess]:
    process = ServeProcess(folder, extra_args)
    try:
        process.wait_ready()
        yield process
    finally:
        if process.proc.poll() is None:
            process.stop()
        else:
            process.close()

"""A real daemon (and its real worker) in a child process, on a temporary socket."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imagine.client import Client

SERVE = [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())", "serve"]


class DaemonProcess:
    def __init__(self, data_dir: Path, models_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.models_dir = models_dir
        self.socket = Path(tempfile.mkdtemp(prefix="im", dir="/tmp")) / "d.sock"
        # one job per pipeline call unless a test turns batching on, so queue-order tests see the order
        defaults = {"IMAGINED_MODELS_DIR": str(models_dir), "HF_HUB_OFFLINE": "1", "IMAGINED_MAX_BATCH_SIZE": "1"}
        self.env = os.environ | defaults | (env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "daemon.log"

    @property
    def target(self) -> str:
        return f"unix:{self.socket}"

    def client(self, owner: str | None = None) -> Client:
        return Client(self.target, on_behalf_of=owner)

    async def start(self, timeout: float = 180.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [*SERVE, "--socket", str(self.socket), "--data-dir", str(self.data_dir), "--device", "cpu"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        async with self.client() as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"daemon exited with {self.proc.returncode}:\n{self.log.read_text()}")
                try:
                    await client.wait_ready(timeout=2.0)
                    return
                except Exception:  # noqa: BLE001 - not up yet
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"daemon not ready in {timeout}s:\n{self.log.read_text()}") from None
                    await asyncio.sleep(0.2)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

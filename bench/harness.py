"""A real daemon on a temporary socket, for the benchmarks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from imagine import types as t
from imagine.client import Client


@contextlib.contextmanager
def running_daemon(work: Path, name: str, models_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start `imagine serve` with its own data dir under work; yields its target; stops it after."""
    socket = work / f"{name}.sock"
    daemon = subprocess.Popen(
        [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())", "serve",
         "--socket", str(socket), "--data-dir", str(work / name), "--device", "cpu", "--log-level", "warning"],
        env=os.environ | {"IMAGINED_MODELS_DIR": str(models_dir), "HF_HUB_OFFLINE": "1"} | (env or {}),
    )
    try:
        yield f"unix:{socket}"
    finally:
        daemon.terminate()
        daemon.wait()


async def finish(client: Client, job_id: str) -> t.Job:
    """Watch a job to its end; exit the benchmark when it did not succeed."""
    async for event in client.watch(job_id):
        if isinstance(event.kind, t.Finished) and event.kind.state != t.JobState.SUCCEEDED:
            raise SystemExit(f"job {job_id} {event.kind.state.value}: {event.kind.error}")
    return await client.get(job_id)

"""One real daemon (with its worker and the tiny model) for the dashboard tests that need one.

The daemon is a child process, so the fixture is synchronous and shared by
the whole package; each test opens its own client on its own event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.e2e.daemon_process import DaemonProcess


@pytest.fixture(scope="package")
def live_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path_factory.mktemp("data"), tmp_path_factory.mktemp("models"))
    asyncio.run(proc.start())
    yield proc
    proc.stop()

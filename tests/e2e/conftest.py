from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.daemon_process import DaemonProcess


@pytest.fixture(scope="session")
def shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model store for every daemon of the session: tiny-sd is built once."""
    return tmp_path_factory.mktemp("models")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def daemon(tmp_path_factory: pytest.TempPathFactory, shared_models_dir: Path) -> AsyncIterator[DaemonProcess]:
    """A daemon shared by the tests of one module (tests use their own owners and jobs)."""
    proc = DaemonProcess(tmp_path_factory.mktemp("data"), shared_models_dir)
    await proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def fresh_daemon(tmp_path: Path, shared_models_dir: Path) -> Iterator[DaemonProcess]:
    """A daemon of the test's own, not started: for tests that kill or configure it."""
    proc = DaemonProcess(tmp_path / "data", shared_models_dir)
    yield proc
    proc.stop()

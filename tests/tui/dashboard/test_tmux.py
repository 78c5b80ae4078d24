"""`imagine tui` in a real terminal (tmux) against a real daemon: type a prompt, submit, read the job on screen."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.daemon_process import DaemonProcess

IMAGINE = f"{shlex.quote(sys.executable)} -c 'import sys; from tui.cli import main; sys.exit(main())'"
PROMPT = "a lighthouse typed in tmux"


class Tmux:
    """A tmux server of the test's own (its own socket), one session, read with capture-pane."""

    def __init__(self, name: str) -> None:
        self.base = ["tmux", "-L", name]

    def __call__(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], check=True, capture_output=True, text=True).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "tui")

    def wait_for(self, *texts: str, timeout: float = 30.0) -> str:
        """Poll the pane (there is no pilot in a real terminal) until every text is on it."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts} not on screen after {timeout:g}s:\n{screen}")
            time.sleep(0.1)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self("send-keys", "-t", "tui", *(["-l"] if literal else []), *keys)

    def tab(self, times: int = 1) -> None:
        """Tab to the next field. A key that arrives in the same read as the Tab can land in the old
        field, and a real terminal shows nothing to wait for, so give the app a moment."""
        for _ in range(times):
            self.keys("Tab")
            time.sleep(0.3)


@pytest.fixture
def tmux(live_daemon: DaemonProcess) -> Iterator[Tmux]:
    server = Tmux(f"imagine-test-{os.getpid()}")
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in (("HF_HUB_OFFLINE", "1"), ("PYTHONPATH", os.getcwd())))
    command = f"env -u COLUMNS -u LINES {env} {IMAGINE} --socket {shlex.quote(str(live_daemon.socket))} tui"
    server("-f", "/dev/null", "new-session", "-d", "-s", "tui", "-x", "100", "-y", "30", command)
    server("resize-window", "-t", "tui", "-x", "100", "-y", "30")  # a server with no client may start at 80x24
    yield server
    server("kill-server")


def test_imagine_tui_in_tmux_submits_a_job_and_shows_it(tmux: Tmux) -> None:
    first = tmux.wait_for("imagined", "Queue", "New job")
    assert max(len(line) for line in first.splitlines()) == 100
    tmux.keys("s")
    tmux.wait_for("prompt", "size WxH")
    tmux.keys(PROMPT, literal=True)
    tmux.tab(2)  # past the negative prompt
    tmux.keys("64x64", literal=True)
    tmux.tab()
    tmux.keys("2", literal=True)
    tmux.wait_for("64x64", "steps 2")
    tmux.keys("Enter")
    screen = tmux.wait_for(PROMPT, "succeeded", timeout=30)
    row = next(line for line in screen.splitlines() if PROMPT in line and "succeeded" in line)
    assert "txt2img" in row and "done" in row
    tmux.keys("q")

"""`imagine` as a subprocess when no daemon answers: one sentence, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

IMAGINE = [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]


def imagine(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IMAGINE, *argv], capture_output=True, text=True, timeout=60, env=env)


def test_status_without_a_daemon_says_how_to_start_it() -> None:
    result = imagine("--socket", "/tmp/nonexistent.sock", "status")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("imagine: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "imagine serve" in result.stderr and "/tmp/nonexistent.sock" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "a lighthouse", "--steps", "2"],
        ["jobs", "list"],
        ["jobs", "show", "j1"],
        ["jobs", "watch", "j1"],
        ["jobs", "cancel", "j1"],
        ["jobs", "rerun", "j1"],
        ["jobs", "rm", "j1"],
        ["models", "list"],
        ["queue", "pause"],
    ],
)
def test_every_command_without_a_daemon_fails_cleanly(argv: list[str]) -> None:
    result = imagine("--socket", "/tmp/nonexistent.sock", *argv)
    assert result.returncode == 1
    assert result.stderr.startswith("imagine: the imagined daemon is not running"), result.stderr
    assert "Traceback" not in result.stderr


def test_the_environment_names_the_socket() -> None:
    env = os.environ | {"IMAGINED_SOCKET": os.path.join(tempfile.gettempdir(), "im-env-nowhere.sock")}
    env.pop("IMAGINED_ADDRESS", None)
    result = imagine("status", env=env)
    assert result.returncode == 1 and "im-env-nowhere.sock" in result.stderr


def test_usage_error_as_a_subprocess() -> None:
    result = imagine("run", "x", "--size", "12x")
    assert result.returncode == 2
    assert result.stderr.startswith("imagine: argument --size: '12x' is not WIDTHxHEIGHT")
    assert result.stdout == ""

"""Where the daemon listens, shared by the daemon and every client."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

APP_NAME = "imagined"


def default_socket_path() -> Path:
    """The per-user runtime dir (`$XDG_RUNTIME_DIR/imagined`), else a private temp dir (made 0700 by the daemon)."""
    for runtime in (os.environ.get("XDG_RUNTIME_DIR"), f"/run/user/{os.getuid()}"):
        if runtime and Path(runtime).is_dir() and os.access(runtime, os.W_OK):
            return Path(runtime) / APP_NAME / "imagined.sock"
    return Path(tempfile.gettempdir()) / f"{APP_NAME}-{os.getuid()}" / "imagined.sock"


def resolve_target(socket: str | None = None, address: str | None = None) -> str:
    """The gRPC target: --socket / --address, then IMAGINED_SOCKET / IMAGINED_ADDRESS, then the default socket."""
    if socket:
        return f"unix:{Path(socket).expanduser().absolute()}"
    if address:
        return address
    if env_socket := os.environ.get("IMAGINED_SOCKET"):
        return f"unix:{Path(env_socket).expanduser().absolute()}"
    if env_address := os.environ.get("IMAGINED_ADDRESS"):
        return env_address
    return f"unix:{default_socket_path()}"


def pid_file(socket_path: Path) -> Path:
    """Written by a starting daemon before it can answer, removed when it stops."""
    return socket_path.with_name(socket_path.name + ".pid")


def daemon_starting(target: str) -> bool:
    """Whether a daemon process for this unix-socket target exists but is not answering yet."""
    if not target.startswith("unix:"):
        return False
    try:
        pid = int(pid_file(Path(target.removeprefix("unix:"))).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True

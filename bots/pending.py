"""The messages a bot is still updating, by job id, kept in a small JSON file.

A bot that restarts reads them back and finishes each message from its job's
events, as it does when the daemon restarts under it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


class PendingMessages:
    def __init__(self, path: Path | None) -> None:
        """`path` None keeps them in memory only."""
        self.path = path
        self._messages: dict[str, dict[str, str]] = self._read()

    def _read(self) -> dict[str, dict[str, str]]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            log.warning("could not read %s; the messages it listed will not be finished", self.path, exc_info=True)
            return {}
        return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.items() if isinstance(v, dict)}

    def _write(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".part")
        temporary.write_text(json.dumps(self._messages, indent=1))
        os.replace(temporary, self.path)

    def put(self, job_id: str, where: dict[str, str]) -> None:
        self._messages[job_id] = dict(where)
        self._write()

    def remove(self, job_id: str) -> None:
        if self._messages.pop(job_id, None) is not None:
            self._write()

    def items(self) -> list[tuple[str, dict[str, str]]]:
        return [(job_id, dict(where)) for job_id, where in self._messages.items()]

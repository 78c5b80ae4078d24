"""Vision jobs in the worker (detect, export, benchmark, train)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.protocol import FrameWriter


class VisionRunner:
    def __init__(
        self, out: FrameWriter, models_dir: Path, device: Any, is_cancelled: Callable[[str], bool], yields: set[str]
    ) -> None:
        self.out = out
        self.models_dir = models_dir
        self.device = device
        self.is_cancelled = is_cancelled
        self.yields = yields

    def run(self, job: dict[str, Any]) -> None:
        from models.errors import ModelError

        raise ModelError(f"{job['kind']} jobs are not wired to the worker yet")

"""Writing a job's result files in the worker and telling the daemon about them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from daemon.protocol import FrameWriter


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none: write a temporary name, then rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def send_output(
    out: FrameWriter, job: dict[str, Any], index: int, data: bytes, size: tuple[int, int], suffix: str = ".png", **extra: Any
) -> None:
    """Write output `index` of the job into its output folder and send the "output" event."""
    out_dir = Path(job["output_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{job['job_id']}-{index}{suffix}"
    write_atomically(path, data)
    out.send(
        {
            "ev": "output",
            "job_id": job["job_id"],
            "index": index,
            "width": size[0],
            "height": size[1],
            "path": str(path),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_bytes": len(data),
            "seed": 0,
            **extra,
        }
    )

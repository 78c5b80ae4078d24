"""What a finished job prints: its images (saved where -o says), detections, benchmark table or metrics; or JSON."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagine import types as t

from tui.options import UsageError
from tui.progress import job_seed
from tui.vision_text import benchmark_lines, detections_lines, names_of, report_lines

if TYPE_CHECKING:
    from imagine.client import Client


@dataclass(frozen=True)
class OutputTarget:
    """`-o PATH`: one file, or a folder taking `<output id>.png` files."""

    path: Path
    is_dir: bool

    @classmethod
    def parse(cls, text: str | None, *, count: int | None, folder_only: bool = False) -> OutputTarget | None:
        """Check `-o` before submitting; `count` is the number of images when known."""
        if text is None:
            return None
        path = Path(text).expanduser()
        if path.is_dir() or text.endswith((os.sep, "/")) or (folder_only and not path.exists()):
            return cls(path, is_dir=True)
        if folder_only:
            raise UsageError(f"-o {text}: that is a file; give a folder for the images")
        if not path.parent.is_dir():
            raise UsageError(f"-o {text}: the folder {path.parent} does not exist")
        if count is not None and count > 1:
            raise UsageError(f"-o {text}: a file holds one image and this job makes {count}; give a folder")
        return cls(path, is_dir=False)

    def destinations(self, outputs: tuple[t.Output, ...]) -> list[Path]:
        if self.is_dir:
            return [self.path / f"{o.id}.png" for o in outputs]
        if len(outputs) > 1:
            raise UsageError(
                f"-o {self.path}: a file holds one image and the job made {len(outputs)}; give a folder"
            )
        return [self.path for _ in outputs]


async def save_outputs(client: Client, job: t.Job, target: OutputTarget) -> list[str]:
    """Download the job's images into `target`; their local paths in output order."""
    destinations = target.destinations(job.outputs)
    if target.is_dir:
        target.path.mkdir(parents=True, exist_ok=True)
    for output, dest in zip(job.outputs, destinations):
        await client.save_output(output.id, dest)
    return [str(dest) for dest in destinations]


def _output_json(output: t.Output, path: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": output.id,
        "path": path,
        "seed": output.seed,
        "width": output.width,
        "height": output.height,
        "sha256": output.sha256,
    }
    if output.detections is not None:
        data["detections"] = t.to_jsonable(output.detections)
    if output.flagged:
        data["flagged"] = True
    return data


def summary(job: t.Job, paths: list[str] | None = None) -> dict[str, Any]:
    """The JSON object commands that follow a job print: `report` only for jobs that have one."""
    paths = paths if paths is not None else [o.path for o in job.outputs]
    data = {
        "job_id": job.id,
        "state": job.state.value,
        "seed": job_seed(job),
        "outputs": [_output_json(o, path) for o, path in zip(job.outputs, paths)],
        "timings": t.to_jsonable(job.timings),
        "error": job.error,
    }
    if job.report is not None:
        data["report"] = t.to_jsonable(job.report)
    return data


def result_lines(job: t.Job, paths: list[str] | None, *, width: int, names: Sequence[str] = ()) -> list[str]:
    """What a job left, for people: image paths; per image detections; the benchmark table; metrics and model."""
    paths = paths if paths is not None else [o.path for o in job.outputs]
    kind = job.spec.kind
    if kind == "detect":
        lines: list[str] = []
        labels = names_of(names, len(job.outputs))
        for output, path, name in zip(job.outputs, paths, labels):
            if lines:
                lines.append("")
            if output.detections is not None:
                lines += detections_lines(output.detections, name, width=width)
            lines.append(f"  annotated: {path}")
        return lines
    if job.report is None:
        return list(paths)
    if kind == "benchmark":
        return benchmark_lines(job.report, width=width, selecting=getattr(job.spec.task, "select", False))
    return report_lines(job.report) + _plots(paths)


def _plots(paths: Sequence[str]) -> list[str]:
    """A training job's plots, as one line: how many and where (`imagine jobs show ID` lists each)."""
    if not paths:
        return []
    folders = sorted({os.path.dirname(p) for p in paths})
    return [f"plots: {len(paths)} image{'s' if len(paths) != 1 else ''} in {', '.join(folders)}"]

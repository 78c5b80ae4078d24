"""JobDetails: a job's recipe, state, timings and outputs, as aligned label/value lines; what a vision job found."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from imagine import types as t

from tui import describe, render, vision_text


def detail_fields(job: t.Job, now: float) -> list[tuple[str, str]]:
    spec = job.spec
    fields = [
        ("id", job.id),
        ("kind", spec.kind),
        ("state", job.state.value + (f": {job.error}" if job.error else "")),
        ("owner", job.owner or "-"),
        *describe.recipe_fields(job, default="(default)"),
        ("model", spec.model or "(default)"),
        ("priority", spec.priority.value),
        ("created", render.format_relative(job.created_at, now)),
    ]
    if job.timings.total_ms:
        fields.append(("took", render.format_ms(job.timings.total_ms)))
    for output in job.outputs:
        fields.append((f"image {output.index}", f"{output.path} ({render.format_bytes(output.size_bytes)})"))
    return fields


def found_lines(job: t.Job, width: int) -> list[str]:
    """What a vision job left: detections per image, the benchmark table, or the metrics and the new model."""
    lines: list[str] = []
    for output in job.outputs:
        if output.detections is not None:
            lines += vision_text.detections_lines(output.detections, f"image {output.index}", width=width)
    if job.report is not None:
        if job.report.benchmark:
            lines += vision_text.benchmark_lines(job.report, width=width)
        else:
            lines += vision_text.report_lines(job.report)
    return lines


class JobDetails(Static):
    DEFAULT_CSS = """
    JobDetails { height: auto; max-height: 50%; border: round $primary; border-title-color: $text; padding: 0 1; overflow-y: auto; }
    """

    job: reactive[t.Job | None] = reactive(None)

    def __init__(self, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.border_title = "Job"

    def watch_job(self, job: t.Job | None) -> None:
        if job is None:
            self.update("pick a job on the left")
            return
        lines = render.render_fields(detail_fields(job, self.clock()))
        found = found_lines(job, max(30, self.content_size.width))
        self.update(Text("\n".join(lines + ([""] + found if found else []))))

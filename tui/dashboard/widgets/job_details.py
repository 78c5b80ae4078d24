"""JobDetails: a job's recipe, state, timings and outputs, as aligned label/value lines."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from imagine import types as t

from tui import render
from tui.progress import job_seed


def detail_fields(job: t.Job, now: float) -> list[tuple[str, str]]:
    task, spec = job.spec.task, job.spec
    seed = job_seed(job)
    fields = [
        ("id", job.id),
        ("state", job.state.value + (f": {job.error}" if job.error else "")),
        ("owner", job.owner or "-"),
        ("prompt", task.prompt),
        ("negative", task.negative_prompt or "-"),
        ("model", spec.model or "(default)"),
        ("size", f"{task.width}x{task.height}" if task.width else "(default)"),
        ("steps", str(task.steps or "(default)")),
        ("sampler", task.scheduler or "(default)"),
        ("seed", str(seed) if seed is not None else "(random)"),
        ("count", str(task.count or 1)),
        ("priority", spec.priority.value),
        ("created", render.format_relative(job.created_at, now)),
    ]
    if job.timings.total_ms:
        fields.append(("took", render.format_ms(job.timings.total_ms)))
    for output in job.outputs:
        fields.append((f"image {output.index}", f"{output.path} ({render.format_bytes(output.size_bytes)})"))
    return fields


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
        self.update(Text("\n".join(render.render_fields(detail_fields(job, self.clock())))))

"""LatestOutputs: the newest finished jobs and their images, one line each."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from imagine import types as t

from tui import describe, render
from tui.dashboard import cells


def output_lines(jobs: Sequence[t.Job], now: float) -> Text:
    """One line a job: id, how long ago, prompt (cut where the panel ends)."""
    if not jobs:
        return Text("no images yet", style="dim")
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, job in enumerate(jobs):
        if i:
            text.append("\n")
        when = render.format_relative(job.finished_at or job.created_at, now).replace(" ago", "")
        when = "now" if when == "just now" else when
        text.append(f"{cells.short_id(job.id)} {when:>3} ", style="dim")
        text.append(" ".join(describe.task_text(job.spec).split()))
    return text


class LatestOutputs(Static):
    DEFAULT_CSS = """
    LatestOutputs { height: 6; border: round $primary; border-title-color: $text; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    jobs: reactive[tuple[t.Job, ...]] = reactive(tuple)

    def __init__(self, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.border_title = "Latest images"

    def watch_jobs(self, jobs: tuple[t.Job, ...]) -> None:
        self.update(output_lines(jobs, self.clock()))

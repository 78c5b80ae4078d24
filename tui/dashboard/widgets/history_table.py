"""HistoryTable: one page of past jobs; the row key is the job id."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from imagine import types as t

from tui import describe, render
from tui.dashboard import cells


KIND_WIDTH = 10  # "benchmark" and a space
KIND_FROM = 70  # narrower tables fold the kind into the prompt column (of vision jobs only) to keep room for prompts


class HistoryTable(DataTable[str | Text]):
    DEFAULT_CSS = """
    HistoryTable { height: 1fr; padding-left: 1; overflow-x: hidden; border: round $primary; border-title-color: $text; }
    HistoryTable:focus { border: round $accent; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(cursor_type="row", cell_padding=0, id=id)
        self.border_title = "History"
        self.jobs: dict[str, t.Job] = {}
        self._now = 0.0
        self._with_kind: bool | None = None

    def _add_columns(self) -> None:
        self._with_kind = self.content_size.width >= KIND_FROM
        self.add_column("ID", key="id", width=9)
        self.add_column("STATE", key="state", width=10)
        self.add_column("WHEN", key="when", width=5)
        if self._with_kind:
            self.add_column("KIND", key="kind", width=KIND_WIDTH)
        self.add_column("PROMPT", key="prompt")

    def on_mount(self) -> None:
        self._add_columns()

    def on_resize(self) -> None:
        if (self.content_size.width >= KIND_FROM) != self._with_kind:
            self.clear(columns=True)
            self._add_columns()
        if self.jobs:
            self.show(list(self.jobs.values()), self._now, cursor=self.cursor_row)

    def show(self, jobs: Sequence[t.Job], now: float, cursor: int = 0) -> None:
        """One page of jobs, the cursor on row `cursor` (or the last row)."""
        self.clear()
        self._now = now
        self.jobs = {job.id: job for job in jobs}
        width = max(8, self.content_size.width - 9 - 10 - 5 - (KIND_WIDTH if self._with_kind else 0) - 1)
        for job in jobs:
            when = render.format_relative(job.finished_at or job.created_at, now).replace(" ago", "")
            when = "now" if when == "just now" else when
            kind = job.spec.kind
            text = describe.task_text(job.spec)
            if not self._with_kind and kind not in t.GENERATION_KINDS:
                text = f"{kind}: {text}"
            prompt = Text(render.truncate(text, width))  # Text: never read as markup
            kind_cell = [Text(kind, style="" if kind in t.GENERATION_KINDS else "italic")] if self._with_kind else []
            self.add_row(cells.short_id(job.id), cells.state_cell(job.state), when, *kind_cell, prompt, key=job.id)
        if jobs:
            self.move_cursor(row=min(cursor, len(jobs) - 1), animate=False)

    def remove_job(self, job_id: str) -> None:
        if self.jobs.pop(job_id, None) is not None:
            self.remove_row(job_id)

    @property
    def selected(self) -> t.Job | None:
        ids = list(self.jobs)
        return self.jobs[ids[self.cursor_row]] if ids and 0 <= self.cursor_row < len(ids) else None

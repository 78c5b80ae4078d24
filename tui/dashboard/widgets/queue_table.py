"""QueueTable: the running and queued jobs (and the last few finished), updated cell by cell."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from tui import describe, render
from tui.dashboard import cells
from tui.progress import JobProgress

COLUMNS = ("id", "owner", "kind", "prompt", "priority", "state", "progress", "eta")
HEADERS = {"priority": "PRIO"}
# each width includes the one-space gap after the column (the table has no cell padding)
FIXED_WIDTHS = {"id": 9, "owner": 9, "kind": 8, "priority": 7, "state": 10, "progress": 11, "eta": 6}
WIDE_PROGRESS = 16  # from WIDE columns on, the progress cell also counts the steps
WIDE = 120
MIN_PROMPT = 10


def row_cells(progress: JobProgress, widths: dict[str, int]) -> list[str | Text]:
    job = progress.job
    spec = job.spec if job else None
    return [
        cells.short_id(progress.job_id),
        Text(render.truncate(job.owner, widths["owner"] - 1) if job else "?"),  # Text: never read as markup
        spec.kind if spec else "?",
        Text(render.truncate(describe.task_text(spec), widths["prompt"] - 1) if spec else ""),
        cells.priority_cell(spec.priority) if spec else "",
        cells.state_cell(progress.state),
        cells.progress_cell(progress, steps=widths["progress"] >= WIDE_PROGRESS),
        cells.eta_cell(progress),
    ]


def column_widths(table_width: int) -> dict[str, int]:
    """The fixed columns, the progress one wider on wide screens, and the prompt taking what is left."""
    widths = dict(FIXED_WIDTHS)
    if table_width >= WIDE:
        widths["progress"] = WIDE_PROGRESS
        widths["owner"] = 13
    inner = table_width - 1  # room for the scrollbar
    widths["prompt"] = max(MIN_PROMPT, inner - sum(widths.values()))
    return widths


class QueueTable(DataTable[str | Text]):
    """`show(rows, changed)` redraws only what changed; the row key is the job id."""

    DEFAULT_CSS = """
    QueueTable { height: 1fr; border: round $primary; border-title-color: $text; overflow-x: hidden; padding-left: 1; }
    QueueTable:focus { border: round $accent; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(cursor_type="row", cell_padding=0, id=id)
        self.border_title = "Queue"
        self._ids: list[str] = []
        self._widths = column_widths(0)
        self._rows: Sequence[JobProgress] = ()

    def on_mount(self) -> None:
        self._add_columns()

    def on_resize(self) -> None:
        if column_widths(self.content_size.width) != self._widths:
            self.clear(columns=True)
            self._ids = []
            self._add_columns()
            self._rebuild(self._rows)

    def _add_columns(self) -> None:
        self._widths = column_widths(self.content_size.width)
        for name in COLUMNS:
            self.add_column(HEADERS.get(name, name.upper()), key=name, width=self._widths[name])

    @property
    def selected_id(self) -> str | None:
        """The job under the cursor."""
        if not self._ids or not 0 <= self.cursor_row < len(self._ids):
            return None
        return self._ids[self.cursor_row]

    def show(self, rows: Sequence[JobProgress], changed: set[str], *, reorder: bool) -> None:
        self._rows = rows
        ids = [r.job_id for r in rows]
        if reorder and ids != self._ids:
            self._rebuild(rows)
            return
        by_id = {r.job_id: r for r in rows}
        for job_id in changed:
            if job_id in by_id and job_id in self.rows:
                for name, value in zip(COLUMNS, row_cells(by_id[job_id], self._widths)):
                    self.update_cell(job_id, name, value)

    def _rebuild(self, rows: Sequence[JobProgress]) -> None:
        selected = self.selected_id
        self.clear()
        self._ids = [r.job_id for r in rows]
        for row in rows:
            self.add_row(*row_cells(row, self._widths), key=row.job_id)
        if selected in self._ids:
            self.move_cursor(row=self._ids.index(selected), animate=False)
        self.border_subtitle = f"{len(rows)} shown" if rows else ""

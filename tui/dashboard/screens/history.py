"""HistoryScreen: search and page through past jobs, preview their images, re-run, delete, copy paths."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input

from imagine import errors
from imagine import types as t

from tui.dashboard.cells import short_id
from tui.dashboard.client import DashboardClient
from tui.dashboard.screens.confirm import ConfirmScreen
from tui.dashboard.widgets.history_table import HistoryTable
from tui.dashboard.widgets.job_details import JobDetails
from tui.dashboard.widgets.link_bar import LinkBar
from tui.dashboard.widgets.output_preview import OutputPreview
from tui.commands import jobs
from tui.describe import task_text

PAGE_SIZE = 20
PREVIEW_DELAY = 0.15  # seconds the cursor rests on a job before its image is fetched (slow links)


def rerun_spec(job: t.Job) -> t.JobSpec:
    """The recorded spec, seed pinned so the images come out the same, request id cleared."""
    return dataclasses.replace(jobs.rerun_spec(job, new_seed=False), request_id="")


def derived_spec(job: t.Job, kind: str) -> t.JobSpec | None:
    """Variations or an upscale of the job's first image; None when it made no image to start from."""
    if job.spec.kind not in t.GENERATION_KINDS or not job.outputs:
        return None
    output_id = job.outputs[0].id
    task = t.Variations(output_id) if kind == "variations" else t.Upscale(output_id)
    return t.JobSpec(task, priority=job.spec.priority, previews=job.spec.previews)


class HistoryScreen(Screen[None]):
    DEFAULT_CSS = """
    HistoryScreen #search { margin: 0 1; }
    HistoryScreen HistoryTable { width: 1fr; }
    HistoryScreen #side { width: 45%; min-width: 30; max-width: 72; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="back to the dashboard"),
        Binding("slash", "search", "Search", key_display="/", tooltip="search prompts (Enter runs it)"),
        Binding("right_square_bracket", "page(1)", "Next", key_display="]", tooltip="next page"),
        Binding("left_square_bracket", "page(-1)", "Prev", key_display="[", tooltip="previous page"),
        Binding("r", "rerun", "Re-run", tooltip="submit the job's recorded spec again"),
        Binding("v", "derive('variations')", "Vary", tooltip="new images like the job's first image (4, at strength 0.4)"),
        Binding("u", "derive('upscale')", "Upscale", tooltip="the job's first image at twice the size, lightly repainted"),
        Binding("d", "delete", "Delete", tooltip="delete the job and its images (asks first)"),
        Binding("y", "copy_path", "Copy path", tooltip="copy the image's path to the clipboard"),
    ]

    def __init__(self, client: DashboardClient, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.client = client
        self.clock = clock
        self.text = ""
        self.tokens: list[str] = [""]  # the page token of each page up to the current one
        self.next_token = ""

    def compose(self) -> ComposeResult:
        yield LinkBar(self.client.target, self.clock)
        yield Input(placeholder="search prompts, Enter to search", compact=True, id="search")
        with Horizontal():
            yield HistoryTable()
            with Vertical(id="side"):
                yield OutputPreview()
                yield JobDetails(self.clock)
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "link", lambda link: setattr(self.query_one(LinkBar), "link", link))
        self.watch(self.app, "status", lambda status: setattr(self.query_one(LinkBar), "status", status))
        self.query_one(HistoryTable).focus()
        self.load_page()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.load_page(keep_cursor=True)

    @work(exclusive=True, group="page", exit_on_error=False)
    async def load_page(self, keep_cursor: bool = False) -> None:
        table = self.query_one(HistoryTable)
        try:
            page = await self.client.list_jobs(text=self.text, page_size=PAGE_SIZE, page_token=self.tokens[-1])
        except errors.ImagineError as exc:
            self.notify(str(exc), title="history", severity="error")
            return
        self.next_token = page.next_page_token
        table.show(page.jobs, self.clock(), cursor=table.cursor_row if keep_cursor else 0)
        where = f" matching “{self.text}”" if self.text else ""
        more = " ]" if self.next_token else ""
        table.border_title = f"History{where}"
        table.border_subtitle = f"page {len(self.tokens)}{more}" if page.jobs else "nothing found"
        if not page.jobs:
            self._show(None)

    @on(Input.Submitted, "#search")
    def search(self, event: Input.Submitted) -> None:
        self.text = event.value.strip()
        self.tokens = [""]
        self.query_one(HistoryTable).focus()
        self.load_page()

    @on(DataTable.RowHighlighted)
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(self.query_one(HistoryTable).jobs.get(str(event.row_key.value)))

    def _show(self, job: t.Job | None) -> None:
        self.query_one(JobDetails).job = job
        preview = self.query_one(OutputPreview)
        preview.data = b""
        preview.placeholder = "loading…" if job and job.outputs else "no image"
        if job and job.outputs:
            self.load_preview(job.id, job.outputs[0].id)
        else:
            self.workers.cancel_group(self, "preview")

    @work(exclusive=True, group="preview", exit_on_error=False)
    async def load_preview(self, job_id: str, output_id: str) -> None:
        await asyncio.sleep(PREVIEW_DELAY)
        preview = self.query_one(OutputPreview)
        try:
            data = await self.client.read_output(output_id)
        except errors.ImagineError as exc:
            preview.placeholder = f"image not available: {exc}"
            return
        selected = self.query_one(HistoryTable).selected
        if selected is not None and selected.id == job_id:
            preview.data = data

    # -- keys ------------------------------------------------------------------

    def action_back(self) -> None:
        if self.focused is self.query_one("#search"):
            self.query_one(HistoryTable).focus()
        else:
            self.app.pop_screen()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_page(self, step: int) -> None:
        if step > 0 and self.next_token:
            self.tokens.append(self.next_token)
        elif step < 0 and len(self.tokens) > 1:
            self.tokens.pop()
        else:
            self.notify("no more pages" if step > 0 else "this is the first page", severity="warning")
            return
        self.load_page()

    def _selected(self) -> t.Job | None:
        job = self.query_one(HistoryTable).selected
        if job is None:
            self.notify("no job selected", severity="warning")
        return job

    @work(exclusive=True, group="action", exit_on_error=False)
    async def action_rerun(self) -> None:
        job = self._selected()
        if job is None:
            return
        try:
            new = (await self.client.submit(rerun_spec(job))).job
        except errors.ImagineError as exc:
            self.notify(str(exc), title="not re-run", severity="error")
            return
        self.notify(f"re-running job {short_id(job.id)} as {short_id(new.id)}", title="submitted")

    @work(exclusive=True, group="action", exit_on_error=False)
    async def action_derive(self, kind: str) -> None:
        job = self._selected()
        if job is None:
            return
        spec = derived_spec(job, kind)
        if spec is None:
            self.notify(f"job {short_id(job.id)} made no image to start from", severity="warning")
            return
        try:
            new = (await self.client.submit(spec)).job
        except errors.ImagineError as exc:
            self.notify(str(exc), title=f"{kind} not submitted", severity="error")
            return
        what = "variations of" if kind == "variations" else "an upscale of"
        self.notify(f"{what} {job.outputs[0].id} as job {short_id(new.id)}", title="submitted")

    def action_delete(self) -> None:
        job = self._selected()
        if job is None:
            return
        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(job.id)

        question = f"Delete job {short_id(job.id)} and its {len(job.outputs)} image(s)?\n“{task_text(job.spec)}”"
        self.app.push_screen(ConfirmScreen(question, yes="Delete"), answered)

    @work(exclusive=True, group="action", exit_on_error=False)
    async def delete(self, job_id: str) -> None:
        try:
            await self.client.delete(job_id)
        except errors.ImagineError as exc:
            self.notify(str(exc), title="not deleted", severity="error")
            return
        self.query_one(HistoryTable).remove_job(job_id)
        self._show(self.query_one(HistoryTable).selected)
        self.notify(f"deleted job {short_id(job_id)}")

    def action_copy_path(self) -> None:
        job = self._selected()
        if job is None:
            return
        if not job.outputs:
            self.notify(f"job {short_id(job.id)} has no image", severity="warning")
            return
        paths = "\n".join(o.path for o in job.outputs)
        self.app.copy_to_clipboard(paths)
        self.notify(paths, title="copied to the clipboard")

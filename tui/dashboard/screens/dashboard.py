"""DashboardScreen: device, loaded models, latest images and the live queue; the keys that steer them.

Everything is pushed by the daemon: the app follows WatchStatus; when the
queue changes this screen lists the queued and running jobs once, and follows
each shown job with its own Watch stream. Events land in a QueueState and
the table is redrawn from it at most FLUSH_HZ times a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer

from imagine import errors
from imagine import types as t
from imagine.client import ModelList

from tui.dashboard.cells import short_id
from tui.describe import task_text
from tui.progress import JobProgress
from tui.dashboard.client import DashboardClient
from tui.dashboard.link import Link, LinkState
from tui.dashboard.queue_state import QueueState, next_priority
from tui.dashboard.screens.confirm import ConfirmScreen
from tui.dashboard.screens.submit import SubmitScreen
from tui.dashboard.widgets.device_panel import DevicePanel
from tui.dashboard.widgets.latest_outputs import LatestOutputs
from tui.dashboard.widgets.link_bar import LinkBar
from tui.dashboard.widgets.models_table import LoadedModels
from tui.dashboard.widgets.output_preview import OutputPreview
from tui.dashboard.widgets.queue_table import QueueTable

FLUSH_HZ = 4  # table redraws a second, at most
MAX_LISTED = 200  # active jobs listed
MAX_WATCHED = 40  # active jobs followed with a Watch stream (the first ones in the table)
LATEST = 4  # finished jobs under "Latest images"
ACTIVE = (t.JobState.QUEUED, t.JobState.RUNNING)


def queue_signature(status: t.Status) -> tuple[object, ...]:
    """What changes when the queue does: counts, pause, and which jobs the workers hold."""
    return (status.queue.queued, status.queue.running, status.queue.paused, tuple(w.job_id for w in status.workers))


class DashboardScreen(Screen[None]):
    DEFAULT_CSS = """
    DashboardScreen #top { height: 6; }
    DashboardScreen DevicePanel { width: 3fr; }
    DashboardScreen LoadedModels { width: 2fr; min-width: 20; }
    DashboardScreen LatestOutputs { width: 3fr; }
    DashboardScreen #live { height: 1fr; }
    DashboardScreen #live-preview { width: 40%; max-width: 48; display: none; }
    """

    BINDINGS = [
        Binding("s", "submit", "New job", tooltip="open the form for a new job"),
        Binding("h", "history", "History", tooltip="search past jobs, preview, re-run, vary, upscale, delete"),
        Binding("c", "cancel", "Cancel", tooltip="cancel the selected job (asks first)"),
        Binding("plus,equals_sign", "priority(1)", "Prio+", key_display="+", tooltip="raise the selected job's priority"),
        Binding("minus,underscore", "priority(-1)", "Prio-", key_display="-", tooltip="lower the selected job's priority"),
        Binding("p", "pause", "Pause", tooltip="pause or resume the queue"),
        Binding("u", "unload", "Unload", tooltip="unload the model selected under Models (asks first)"),
        Binding("tab", "focus_next", "Focus", show=False, tooltip="move between the queue and the models"),
    ]

    def __init__(self, client: DashboardClient, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.client = client
        self.clock = clock
        self.queue = QueueState()
        self.models: ModelList | None = None
        self._watching: set[str] = set()
        self._signature: tuple[object, ...] | None = None
        self._status: t.Status | None = None

    def compose(self) -> ComposeResult:
        yield LinkBar(self.client.target, self.clock)
        with Horizontal(id="top"):
            yield DevicePanel()
            yield LoadedModels()
            yield LatestOutputs(self.clock)
        with Horizontal(id="live"):
            yield QueueTable()
            yield OutputPreview(id="live-preview")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "link", self._link_changed)
        self.watch(self.app, "status", self._status_changed)
        self.set_interval(1 / FLUSH_HZ, self.flush)
        self.query_one(QueueTable).focus()

    # -- what the daemon says --------------------------------------------------

    def _link_changed(self, link: Link) -> None:
        self.query_one(LinkBar).link = link
        if link.state is LinkState.CONNECTED:
            self._signature = None  # list again: anything may have happened while the link was down
            self.load_models()

    def _status_changed(self, status: t.Status | None) -> None:
        if status is None:
            return
        self._status = status
        self.query_one(LinkBar).status = status
        self.query_one(DevicePanel).status = status
        self.query_one(LoadedModels).models = status.loaded_models
        signature = queue_signature(status)
        if signature != self._signature:
            self._signature = signature
            self.load_queue()
            self.load_latest()

    @work(exclusive=True, group="queue-list", exit_on_error=False)
    async def load_queue(self) -> None:
        try:
            page = await self.client.list_jobs(states=ACTIVE, page_size=MAX_LISTED)
        except errors.ImagineError:
            return  # the link bar says why; the next status change lists again
        self.queue.replace_active(page.jobs)
        self._follow_shown()

    @work(exclusive=True, group="latest", exit_on_error=False)
    async def load_latest(self) -> None:
        try:
            page = await self.client.list_jobs(states=(t.JobState.SUCCEEDED,), page_size=LATEST * 4)
        except errors.ImagineError:
            return
        self.query_one(LatestOutputs).jobs = tuple(job for job in page.jobs if job.outputs)[:LATEST]  # not benchmarks

    @work(exclusive=True, group="models", exit_on_error=False)
    async def load_models(self) -> None:
        try:
            self.models = await self.client.list_models()
        except errors.ImagineError:
            pass

    def _follow_shown(self) -> None:
        for job_id in self.queue.active_ids()[:MAX_WATCHED]:
            if job_id not in self._watching:
                self._watching.add(job_id)
                self.run_worker(self._follow(job_id), group="job-watch", name=job_id, exit_on_error=False)

    async def _follow(self, job_id: str) -> None:
        try:
            async for event in self.client.watch(job_id):
                self.queue.apply(event)
        except errors.ImagineError:
            pass  # deleted, or the link dropped: the next listing decides
        finally:
            self._watching.discard(job_id)
            self.queue.watch_ended(job_id)
        self.load_latest()

    def flush(self) -> None:
        """Redraw the rows that changed since the last flush (called FLUSH_HZ times a second)."""
        reorder, dirty = self.queue.take_dirty()
        if reorder or dirty:
            rows = self.queue.ordered()
            self.query_one(QueueTable).show(rows, dirty, reorder=reorder)
            self._show_live_preview(rows)

    def _show_live_preview(self, rows: list[JobProgress]) -> None:
        """The latest preview of the first running job that sends them, beside the queue; hidden when none does."""
        running = next((r for r in rows if r.state is t.JobState.RUNNING and r.preview), None)
        panel = self.query_one("#live-preview", OutputPreview)
        panel.display = running is not None
        if running is None:
            return
        if panel.data != running.preview:
            panel.data = running.preview
        panel.border_title = f"Live {short_id(running.job_id)} · {running.step}/{running.total}"

    # -- keys ------------------------------------------------------------------

    def _selected(self) -> t.Job | None:
        job_id = self.query_one(QueueTable).selected_id
        job = self.queue.job(job_id) if job_id else None
        if job is None:
            self.notify("no job selected: move to one in the queue first", severity="warning")
        return job

    def action_submit(self) -> None:
        def submitted(spec: t.JobSpec | None) -> None:
            if spec is not None:
                self.submit(spec)

        self.app.push_screen(SubmitScreen(self.models), submitted)

    @work(exclusive=True, group="submit", exit_on_error=False)
    async def submit(self, spec: t.JobSpec) -> None:
        try:
            job = (await self.client.submit(spec)).job
        except errors.ImagineError as exc:
            self.notify(str(exc), title="not submitted", severity="error")
            return
        self.queue.update_job(job)
        self._follow_shown()
        self.flush()
        table = self.query_one(QueueTable)
        if job.id in table.rows:
            table.move_cursor(row=table.get_row_index(job.id), animate=False)
        self.notify(f"job {short_id(job.id)} queued", title="submitted")

    def action_history(self) -> None:
        self.app.push_screen("history")

    def action_cancel(self) -> None:
        job = self._selected()
        if job is None:
            return
        if job.state.terminal:
            self.notify(f"job {short_id(job.id)} already {job.state.value}", severity="warning")
            return
        def answered(yes: bool | None) -> None:
            if yes:
                self.cancel(job.id)

        question = f"Cancel job {short_id(job.id)}?\n“{task_text(job.spec)}”"
        self.app.push_screen(ConfirmScreen(question, yes="Cancel job"), answered)

    @work(exclusive=True, group="control", exit_on_error=False)
    async def cancel(self, job_id: str) -> None:
        try:
            job = await self.client.cancel(job_id)
        except errors.ImagineError as exc:
            self.notify(str(exc), title="not cancelled", severity="error")
            return
        self.queue.update_job(job)
        state = "stops after this step" if job.state is t.JobState.RUNNING else job.state.value
        self.notify(f"job {short_id(job_id)} {state}", title="cancel")

    def action_priority(self, step: int) -> None:
        job = self._selected()
        if job is None:
            return
        priority = next_priority(job.spec.priority, step)
        if priority is None or job.state.terminal:
            self.notify(f"job {short_id(job.id)} stays {job.spec.priority.value}", severity="warning")
            return
        self.set_priority(job.id, priority)

    @work(exclusive=True, group="control", exit_on_error=False)
    async def set_priority(self, job_id: str, priority: t.Priority) -> None:
        try:
            job = await self.client.set_priority(job_id, priority)
        except errors.ImagineError as exc:
            self.notify(str(exc), title="priority unchanged", severity="error")
            return
        self.queue.update_job(job)
        self.notify(f"job {short_id(job_id)} is now {priority.value} priority")

    @work(exclusive=True, group="control", exit_on_error=False)
    async def action_pause(self) -> None:
        paused = bool(self._status and self._status.queue.paused)
        try:
            status = await (self.client.resume_queue() if paused else self.client.pause_queue())
        except errors.ImagineError as exc:
            self.notify(str(exc), severity="error")
            return
        self.app.status = status  # type: ignore[attr-defined]
        self.notify("queue resumed" if paused else "queue paused: the running job finishes, new jobs wait")

    def action_unload(self) -> None:
        name = self.query_one(LoadedModels).selected_name
        if name is None:
            self.notify("no model is loaded", severity="warning")
            return
        def answered(yes: bool | None) -> None:
            if yes:
                self.unload(name)

        question = f"Unload model {name}?\nThe next job that needs it loads it again."
        self.app.push_screen(ConfirmScreen(question, yes="Unload"), answered)

    @work(exclusive=True, group="control", exit_on_error=False)
    async def unload(self, name: str) -> None:
        try:
            await self.client.unload_model(name)
        except errors.ImagineError as exc:
            self.notify(str(exc), title="not unloaded", severity="error")
            return
        self.notify(f"unloaded {name}")

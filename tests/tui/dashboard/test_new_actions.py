"""Variations, upscale, live previews and vision jobs in the dashboard, against the fixed client."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from textual.widgets import Checkbox, Input

from imagine import types as t

from tui.dashboard.screens.dashboard import DashboardScreen
from tui.dashboard.screens.submit import SubmitScreen
from tui.dashboard.widgets.job_details import JobDetails
from tui.dashboard.widgets.latest_outputs import LatestOutputs
from tui.dashboard.widgets.output_preview import OutputPreview
from tui.dashboard.widgets.queue_table import QueueTable

from .fixed_client import NOW, FixedClient, sample_jobs, sample_png
from .helpers import app_with, history_row, notices, open_history, type_text, until

pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata is deprecated:DeprecationWarning")
DONE, DETECT, BENCH, TRAIN = "08c0ffee0008", "11c0ffee0011", "12c0ffee0012", "10c0ffee0010"


async def test_history_vary_and_upscale_submit_from_the_first_image() -> None:
    client = FixedClient()
    app = app_with(client)
    async with app.run_test(size=(120, 36)) as pilot:
        _, table = await history_row(pilot, DONE)
        await pilot.press("v")
        await until(pilot, lambda: len(client.submitted) == 1, what="the variations")
        await pilot.press("u")
        await until(pilot, lambda: len(client.submitted) == 2, what="the upscale")
        first_image = client.jobs[DONE].outputs[0].id
        assert client.submitted[0].task == t.Variations(first_image)
        assert client.submitted[1].task == t.Upscale(first_image)
        table.move_cursor(row=table.get_row_index(DETECT))
        await pilot.press("v")
        await until(pilot, lambda: any("made no image to start from" in n for n in notices(app)), what="the refusal")
        assert len(client.submitted) == 2


async def test_vision_jobs_in_the_history_details() -> None:
    app = app_with(FixedClient())
    async with app.run_test(size=(160, 48)) as pilot:
        screen, table = await open_history(pilot)
        await until(pilot, lambda: BENCH in table.jobs, what="the page")
        assert str(table.get_cell(BENCH, "kind")) == "benchmark"
        assert str(table.get_cell(BENCH, "prompt")) == "tiny-yolo on every engine (select)"
        details = screen.query_one(JobDetails)
        table.move_cursor(row=table.get_row_index(BENCH))
        await until(pilot, lambda: details.job is not None and details.job.id == BENCH, what="the benchmark")
        text = str(details.render())
        table_lines = [line.split() for line in text.splitlines()]
        assert ["ENGINE", "BATCH", "P50", "MS", "P99", "MS", "IMG/S", "PEAK", "MEMORY", "ACCURACY"] in table_lines
        assert ["onnxruntime", "1", "9.2", "12.9", "108.7", "60.0", "MiB", "0.990"] in table_lines
        # the provider and p95 columns give way in a narrow panel
        assert "selected engine: onnxruntime" in text
        table.move_cursor(row=table.get_row_index(DETECT))
        await until(pilot, lambda: details.job is not None and details.job.id == DETECT, what="the detection")
        text = str(details.render())
        assert "image 0: 512x512, 2 objects (pytorch, 14 ms)" in text and "person" in text


async def test_a_training_job_in_the_queue() -> None:
    app = app_with(FixedClient())
    async with app.run_test(size=(120, 36)) as pilot:
        board = app.screen
        assert isinstance(board, DashboardScreen)
        table = board.query_one(QueueTable)
        await until(pilot, lambda: TRAIN in table.rows, what="the training job")
        assert str(table.get_cell(TRAIN, "kind")) == "train"
        assert str(table.get_cell(TRAIN, "prompt")).startswith("dataset /data/parts, 20 epochs")


async def test_the_form_asks_for_previews() -> None:
    client = FixedClient()
    app = app_with(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s")
        form = app.screen
        assert isinstance(form, SubmitScreen)
        await type_text(pilot, "a lighthouse")
        form.query_one("#previews", Checkbox).focus()
        await pilot.press("space")
        form.query_one("#prompt", Input).focus()
        await pilot.press("enter")  # Enter submits from a text field
        await until(pilot, lambda: client.submitted, what="the job")
        assert client.submitted[0].previews and client.submitted[0].task.prompt == "a lighthouse"  # type: ignore[union-attr]


class PreviewingClient(FixedClient):
    """The running job asked for previews: its Watch stream sends one with a progress step."""

    async def watch(self, job_id: str, after_seq: int = 0) -> AsyncIterator[t.JobEvent]:
        job = await self.get(job_id)
        if job.state is not t.JobState.RUNNING:
            async for event in super().watch(job_id, after_seq):
                yield event
            return
        yield t.JobEvent(job_id, 1, NOW - 20, t.Snapshot(job))
        yield t.JobEvent(job_id, 2, NOW - 10, t.Progress(5, 20, preview=sample_png(3)))
        await self._forever()


async def test_the_running_jobs_preview_shows_beside_the_queue() -> None:
    jobs = list(sample_jobs())
    jobs[0] = dataclasses.replace(jobs[0], spec=dataclasses.replace(jobs[0].spec, previews=True))
    app = app_with(PreviewingClient(jobs))
    async with app.run_test(size=(120, 36)) as pilot:
        board = app.screen
        assert isinstance(board, DashboardScreen)
        panel = board.query_one("#live-preview", OutputPreview)
        await until(pilot, lambda: panel.display and panel.showing, what="the live preview")
        assert panel.data == sample_png(3) and panel.border_title == f"Live {jobs[0].id[:8]} · 5/20"


async def test_no_preview_panel_without_previews() -> None:
    app = app_with(FixedClient())
    async with app.run_test(size=(120, 36)) as pilot:
        board = app.screen
        assert isinstance(board, DashboardScreen)
        running = sample_jobs()[0].id
        await until(pilot, lambda: running in board.queue.rows and board.queue.rows[running].step == 7, what="progress")
        await pilot.pause(0.3)
        assert not board.query_one("#live-preview", OutputPreview).display


async def test_latest_images_leave_out_jobs_without_images() -> None:
    jobs = {job.id: job for job in sample_jobs()}
    jobs[BENCH] = dataclasses.replace(jobs[BENCH], created_at=NOW, finished_at=NOW)  # the newest finished job
    app = app_with(FixedClient(list(jobs.values())))
    async with app.run_test(size=(120, 36)) as pilot:
        board = app.screen
        assert isinstance(board, DashboardScreen)
        latest = board.query_one(LatestOutputs)
        await until(pilot, lambda: len(latest.jobs) == 4, what="the latest images")
        assert BENCH not in [job.id for job in latest.jobs] and all(job.outputs for job in latest.jobs)

"""The dashboard driven with a pilot against a real daemon running the tiny model."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual.widgets import Input

from imagine import types as t
from imagine.client import Client

from tests.e2e.daemon_process import DaemonProcess
from tui.dashboard.app import DashboardApp, create_app
from tui.dashboard.link import LinkState
from tui.dashboard.screens.confirm import ConfirmScreen
from tui.dashboard.screens.dashboard import DashboardScreen
from tui.dashboard.screens.submit import SubmitScreen
from tui.dashboard.widgets.output_preview import OutputPreview
from tui.dashboard.widgets.queue_table import QueueTable

from .helpers import history_row, open_history, type_text, until

SMALL = {"width": 64, "height": 64, "steps": 2}
# textual-image reads pixels with an API Pillow has deprecated; not ours to change
pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata is deprecated:DeprecationWarning")


@pytest.fixture
async def client(live_daemon: DaemonProcess) -> AsyncIterator[Client]:
    async with live_daemon.client() as c:
        yield c


def dashboard(app: DashboardApp) -> DashboardScreen:
    screen = app.screen_stack[1]  # above the default screen
    assert isinstance(screen, DashboardScreen)
    return screen


async def finished(client: Client, prompt: str) -> t.Job:
    job = (await client.submit(t.JobSpec(t.Txt2Img(prompt, **SMALL)))).job  # type: ignore[arg-type]
    async for _ in client.watch(job.id):
        pass
    return await client.get(job.id)


async def test_submit_from_the_form_and_watch_the_job_finish(client: Client) -> None:
    app = create_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.link.state is LinkState.CONNECTED, what="the link")
        await pilot.press("s")
        form = app.screen
        assert isinstance(form, SubmitScreen)
        await type_text(pilot, "a lighthouse from the form")
        for field, value in (("size", "64x64"), ("steps", "2"), ("seed", "7")):
            form.query_one(f"#{field}", Input).focus()
            await type_text(pilot, value)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the form to close")
        board = dashboard(app)
        await until(pilot, lambda: board.queue.rows, what="the job in the queue")
        (job_id,) = board.queue.rows
        await until(pilot, lambda: board.queue.rows[job_id].state is t.JobState.SUCCEEDED, what="the job to finish")
        table = board.query_one(QueueTable)
        await until(pilot, lambda: str(table.get_cell(job_id, "state")) == "succeeded", what="the row to say so")
        assert "done" in str(table.get_cell(job_id, "progress"))
        job = await client.get(job_id)
        assert job.spec.task.prompt == "a lighthouse from the form" and job.spec.task.seed == 7
        assert job.state is t.JobState.SUCCEEDED and len(job.outputs) == 1


async def test_cancel_a_running_job_from_the_queue(client: Client) -> None:
    spec = t.JobSpec(t.Txt2Img("a slow cathedral", width=256, height=256, steps=150))
    job = (await client.submit(spec)).job
    app = create_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        board = dashboard(app)
        await until(pilot, lambda: job.id in board.query_one(QueueTable).rows, what="the job's row")
        await until(pilot, lambda: board.queue.rows[job.id].step > 0, what="progress")
        table = board.query_one(QueueTable)
        table.move_cursor(row=table.get_row_index(job.id))
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: board.queue.rows[job.id].state is t.JobState.CANCELLED, timeout=15, what="cancel")
        await until(pilot, lambda: str(table.get_cell(job.id, "state")) == "cancelled", what="the row to say so")
    assert (await client.get(job.id)).state is t.JobState.CANCELLED


async def test_history_search_finds_a_job_by_prompt_words(client: Client) -> None:
    wanted = await finished(client, "an orange submarine under ice")
    other = await finished(client, "a green submarine in a harbour")
    app = create_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        screen, table = await open_history(pilot)
        await until(pilot, lambda: other.id in table.jobs, what="the first page")
        await pilot.press("slash")
        await type_text(pilot, "orange ice")
        await pilot.press("enter")
        await until(pilot, lambda: list(table.jobs) == [wanted.id], what="only the orange submarine")
        assert table.has_focus


async def test_the_preview_shows_a_jobs_image(client: Client) -> None:
    job = await finished(client, "a preview of a teapot")
    app = create_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        screen, _ = await history_row(pilot, job.id)
        preview = screen.query_one(OutputPreview)
        await until(pilot, lambda: preview.showing, what="the image")
        assert preview.data == await client.read_output(job.outputs[0].id)
        assert preview.data.startswith(b"\x89PNG")


async def test_variations_and_upscale_from_the_history(client: Client) -> None:
    job = await finished(client, "a lantern to vary")
    app = create_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_row(pilot, job.id)
        await pilot.press("v")
        await pilot.press("u")
        source = job.outputs[0].id

        async def derived() -> list[t.Job]:
            page = await client.list_jobs(text="lantern")
            return [j for j in page.jobs if j.id != job.id]

        made: list[t.Job] = []
        for _ in range(100):
            made = await derived()
            if len(made) == 2:
                break
            await pilot.pause(0.1)
        labels = {key: j for j in made for key in ("variation_of", "upscale_of") if key in j.spec.labels}
        assert set(labels) == {"variation_of", "upscale_of"}
        assert all(j.spec.kind == "img2img" and j.spec.labels[k] == source for k, j in labels.items())
        assert labels["variation_of"].spec.task.count == 4  # type: ignore[union-attr]
        assert labels["upscale_of"].spec.task.width == 2 * job.outputs[0].width  # type: ignore[union-attr]

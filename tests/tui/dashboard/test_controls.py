"""The keys that steer the daemon, against the fixed client: what they send, and what they show."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from imagine import errors
from imagine import types as t

from tui.dashboard.screens.confirm import ConfirmScreen
from tui.dashboard.screens.dashboard import DashboardScreen
from tui.dashboard.screens.help import HelpScreen
from tui.dashboard.widgets.history_table import HistoryTable
from tui.dashboard.widgets.output_preview import OutputPreview
from tui.dashboard.widgets.queue_table import QueueTable

from .fixed_client import FixedClient
from .helpers import app_with, history_row, notices, until

pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata is deprecated:DeprecationWarning")
QUEUED = "02c0ffee0002"


async def on_row(pilot: Pilot[Any], job_id: str) -> DashboardScreen:
    board = pilot.app.screen
    assert isinstance(board, DashboardScreen)
    table = board.query_one(QueueTable)
    await until(pilot, lambda: job_id in table.rows, what="the row")
    table.move_cursor(row=table.get_row_index(job_id))
    return board


async def test_priority_keys_update_the_job() -> None:
    client = FixedClient()
    app = app_with(client)
    async with app.run_test(size=(100, 30)) as pilot:
        board = await on_row(pilot, QUEUED)
        await pilot.press("minus")
        await until(pilot, lambda: client.jobs[QUEUED].spec.priority is t.Priority.NORMAL, what="lower")
        await pilot.press("plus")
        await until(pilot, lambda: client.jobs[QUEUED].spec.priority is t.Priority.HIGH, what="raise")
        await pilot.press("plus")
        await until(pilot, lambda: any("stays high" in n for n in notices(app)), what="the top")
        await until(pilot, lambda: str(board.query_one(QueueTable).get_cell(QUEUED, "priority")) == "high")


async def test_cancel_asks_first_and_no_leaves_the_job_alone() -> None:
    client = FixedClient()
    app = app_with(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_row(pilot, QUEUED)
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, DashboardScreen) and client.jobs[QUEUED].state is t.JobState.QUEUED
        await pilot.press("c", "y")
        await until(pilot, lambda: client.jobs[QUEUED].state is t.JobState.CANCELLED, what="cancelled")


async def test_a_job_the_daemon_forgot_is_an_error_notice_not_a_crash() -> None:
    client = FixedClient()
    app = app_with(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_row(pilot, QUEUED)
        del client.jobs[QUEUED]
        await pilot.press("c", "y")
        await until(pilot, lambda: any("no job" in n for n in notices(app)), what="the notice")
        assert app.is_running


async def test_pause_unload_theme_and_help() -> None:
    client = FixedClient()
    app = app_with(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.status is not None, what="status")
        await pilot.press("p")
        await until(pilot, lambda: app.status is not None and app.status.queue.paused, what="paused")
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: any("unloaded sd-1.5" in n for n in notices(app)), what="unloaded")
        theme = app.theme
        await pilot.press("t")
        assert app.theme != theme
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_history_rerun_delete_copy_and_a_missing_image() -> None:
    client = FixedClient()
    done = "08c0ffee0008"

    async def no_image(output_id: str) -> bytes:
        raise errors.NotFound(f"no output {output_id}")

    app = app_with(client)
    async with app.run_test(size=(100, 30)) as pilot:
        screen, table = await history_row(pilot, done)
        await pilot.press("r")
        await until(pilot, lambda: client.submitted, what="the re-run")
        assert client.submitted[0].request_id == "" and client.submitted[0].task == client.jobs[done].spec.task
        await pilot.press("y")
        await until(pilot, lambda: any(client.jobs[done].outputs[0].path in n for n in notices(app)), what="copy")
        client.read_output = no_image  # type: ignore[method-assign]
        table.move_cursor(row=table.get_row_index("07c0ffee0007"))
        preview = screen.query_one(OutputPreview)
        await until(pilot, lambda: "not available" in preview.placeholder, what="the missing image")
        await pilot.press("d", "y")
        await until(pilot, lambda: "07c0ffee0007" not in table.jobs, what="the delete")
        assert "07c0ffee0007" not in client.jobs
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_history_pages_forward_and_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.dashboard.screens import history

    monkeypatch.setattr(history, "PAGE_SIZE", 4)
    app = app_with(FixedClient())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h")
        table = app.screen.query_one(HistoryTable)
        await until(pilot, lambda: len(table.jobs) == 4, what="page 1")
        first = list(table.jobs)
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: table.jobs and list(table.jobs) != first, what="page 2")
        assert table.border_subtitle == "page 2 ]"
        await pilot.press("right_square_bracket", "right_square_bracket")
        await until(pilot, lambda: any("no more pages" in n for n in notices(app)), what="the end")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await until(pilot, lambda: list(table.jobs) == first, what="page 1 again")

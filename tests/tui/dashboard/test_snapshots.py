"""Snapshots of the main screens at 80x24 and 160x48, from fixed data (FixedClient) and a fixed clock."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tui.dashboard.app import DashboardApp, create_app
from tui.dashboard.screens.dashboard import DashboardScreen
from tui.dashboard.screens.history import HistoryScreen
from tui.dashboard.widgets.device_panel import DevicePanel
from tui.dashboard.widgets.history_table import HistoryTable
from tui.dashboard.widgets.latest_outputs import LatestOutputs
from tui.dashboard.widgets.output_preview import OutputPreview
from tui.dashboard.widgets.queue_table import QueueTable

from .fixed_client import NOW, UTILISATION, FixedClient
from .helpers import until

SIZES = [(80, 24), (160, 48)]
# textual-image reads pixels with an API Pillow has deprecated; not ours to change
pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata is deprecated:DeprecationWarning")


def fixed_app() -> DashboardApp:
    return create_app(FixedClient(), clock=lambda: NOW)


async def dashboard_ready(pilot: Pilot[Any]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    await until(pilot, lambda: len(screen.query_one(DevicePanel).samples) == len(UTILISATION), what="status")
    await until(pilot, lambda: screen.query_one(LatestOutputs).jobs, what="latest images")
    running = "01c0ffee0001"
    await until(pilot, lambda: screen.queue.rows.get(running) and screen.queue.rows[running].step == 7, what="progress")
    await until(pilot, lambda: len(screen.query_one(QueueTable).rows) == 5, what="queue rows")
    await pilot.pause()


async def history_ready(pilot: Pilot[Any]) -> None:
    await dashboard_ready(pilot)
    await pilot.press("h")
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    await until(pilot, lambda: screen.query_one(HistoryTable).jobs, what="history page")
    await pilot.press("down")  # the newest job with an image
    await until(pilot, lambda: screen.query_one(OutputPreview).showing, what="preview")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(fixed_app(), terminal_size=size, run_before=dashboard_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_history(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(fixed_app(), terminal_size=size, run_before=history_ready)


def test_history_of_a_benchmark(snap_compare: Any) -> None:
    async def select_benchmark(pilot: Pilot[Any]) -> None:
        await history_ready(pilot)
        table = pilot.app.screen.query_one(HistoryTable)
        table.move_cursor(row=table.get_row_index("12c0ffee0012"))
        await until(pilot, lambda: not pilot.app.screen.query_one(OutputPreview).showing, what="no image")
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=(160, 48), run_before=select_benchmark)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_submit_form(snap_compare: Any, size: tuple[int, int]) -> None:
    async def open_form(pilot: Pilot[Any]) -> None:
        await dashboard_ready(pilot)
        board = pilot.app.screen
        assert isinstance(board, DashboardScreen)
        await until(pilot, lambda: board.models is not None, what="models")
        await pilot.press("s")
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=size, run_before=open_form)


def test_help(snap_compare: Any) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await dashboard_ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=open_help)


def test_cancel_confirmation_light_theme(snap_compare: Any) -> None:
    async def ask(pilot: Pilot[Any]) -> None:
        await dashboard_ready(pilot)
        await pilot.press("t", "c")
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=ask)

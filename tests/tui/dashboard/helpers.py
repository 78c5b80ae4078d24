"""Waiting on a running app, and typing into it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from tui.dashboard.app import DashboardApp, create_app
from tui.dashboard.screens.history import HistoryScreen
from tui.dashboard.widgets.history_table import HistoryTable

from .fixed_client import NOW, FixedClient

KEY_NAMES = {" ": "space", ",": "comma", ".": "full_stop", "-": "minus"}


async def until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    """Let the app run until `condition()` is true; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what or condition}")
        await pilot.pause(0.05)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*(KEY_NAMES.get(ch, ch) for ch in text))


async def open_history(pilot: Pilot[Any]) -> tuple[HistoryScreen, HistoryTable]:
    """Press h and return the history screen and its table."""
    await pilot.press("h")
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen, screen.query_one(HistoryTable)


async def history_row(pilot: Pilot[Any], job_id: str) -> tuple[HistoryScreen, HistoryTable]:
    """Open the history, wait for the job's row and put the cursor on it."""
    screen, table = await open_history(pilot)
    await until(pilot, lambda: job_id in table.jobs, what="the job in the history")
    table.move_cursor(row=table.get_row_index(job_id))
    return screen, table


def app_with(client: FixedClient) -> DashboardApp:
    """The dashboard over `client` with the snapshot's fixed clock."""
    return create_app(client, clock=lambda: NOW)


def notices(app: DashboardApp) -> list[str]:
    return [n.message for n in app._notifications]

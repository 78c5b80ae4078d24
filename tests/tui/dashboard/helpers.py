"""Waiting on a running app, and typing into it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from tui.dashboard.screens.history import HistoryScreen
from tui.dashboard.widgets.history_table import HistoryTable

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

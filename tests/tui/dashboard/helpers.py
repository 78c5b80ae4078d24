"""Waiting on a running app, and typing into it."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

KEY_NAMES = {" ": "space", ",": "comma", ".": "full_stop", "-": "minus"}


async def until(pilot: Pilot[object], condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    """Let the app run until `condition()` is true; fail after `timeout` seconds."""
    loop_time = pilot.app._loop_time if hasattr(pilot.app, "_loop_time") else None  # noqa: F841
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what or condition}")
        await pilot.pause(0.05)


async def type_text(pilot: Pilot[object], text: str) -> None:
    await pilot.press(*(KEY_NAMES.get(ch, ch) for ch in text))

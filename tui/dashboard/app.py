"""DashboardApp: the `imagine tui` application, and `create_app(client)` that builds it.

The app owns the link to the daemon: it follows WatchStatus and sets `link`
and `status`, which the screens watch. When the stream breaks it says why and
reconnects with a doubling backoff.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from imagine import errors
from imagine import types as t

from tui.dashboard.client import DashboardClient
from tui.dashboard.link import Backoff, Link, LinkState
from tui.dashboard.screens.dashboard import DashboardScreen
from tui.dashboard.screens.help import HelpScreen
from tui.dashboard.screens.history import HistoryScreen
from tui.dashboard.screens.submit import SubmitScreen

DARK, LIGHT = "textual-dark", "textual-light"
STATUS_INTERVAL_MS = 1000  # at most this long between status updates (the sparkline's pace)


class DashboardApp(App[None]):
    TITLE = "imagine"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="this list of keys"),
        Binding("t", "toggle_theme", "Theme", show=False, tooltip="switch between the dark and the light theme"),
        Binding("q", "quit", "Quit", tooltip="leave (jobs keep running on the daemon)"),
    ]

    link: reactive[Link] = reactive(Link)
    status: reactive[t.Status | None] = reactive(None)

    def __init__(
        self,
        client: DashboardClient,
        *,
        clock: Callable[[], float] = time.time,
        theme: str = DARK,
        status_interval_ms: int = STATUS_INTERVAL_MS,
    ) -> None:
        super().__init__()
        self.client = client
        self.clock = clock
        self.status_interval_ms = status_interval_ms
        self.theme = theme

    async def on_mount(self) -> None:
        self.install_screen(HistoryScreen(self.client, self.clock), "history")
        await self.push_screen(DashboardScreen(self.client, self.clock))
        self.follow_status()

    @work(exclusive=True, group="status", exit_on_error=False)
    async def follow_status(self) -> None:
        backoff = Backoff()
        while True:
            try:
                async for status in self.client.watch_status(self.status_interval_ms):
                    if self.link.state is not LinkState.CONNECTED:
                        self.link = Link(LinkState.CONNECTED)
                        backoff.reset()
                    self.status = status
                reason = "the daemon closed the status stream (shutting down?)"
            except errors.ImagineError as exc:
                reason = str(exc) or type(exc).__name__
            await self._wait_to_retry(reason, backoff)

    async def _wait_to_retry(self, reason: str, backoff: Backoff) -> None:
        delay = backoff.next_delay()
        while delay > 0:
            self.link = Link(LinkState.LOST, reason, retry_in=delay, attempts=backoff.failures)
            step = min(1.0, delay)
            await asyncio.sleep(step)
            delay -= step
        self.link = Link(LinkState.LOST, reason, retry_in=0.0, attempts=backoff.failures)

    def action_help(self) -> None:
        sections = [
            ("Everywhere", self.BINDINGS),
            ("Dashboard", DashboardScreen.BINDINGS),
            ("History", HistoryScreen.BINDINGS),
            ("New job form", SubmitScreen.BINDINGS),
        ]
        self.push_screen(HelpScreen(sections))

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK


def create_app(client: DashboardClient, **kwargs: object) -> DashboardApp:
    """The dashboard over `client` (an `imagine.client.Client`, or any object with its methods)."""
    return DashboardApp(client, **kwargs)  # type: ignore[arg-type]

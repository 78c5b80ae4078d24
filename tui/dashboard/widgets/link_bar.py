"""LinkBar: one line saying whether the daemon is reachable, and what its queue is doing."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from imagine import types as t

from tui import render
from tui.dashboard.link import Link, LinkState


class LinkBar(Widget):
    DEFAULT_CSS = """
    LinkBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    LinkBar.-lost { background: $error; color: $text; }
    """

    link: reactive[Link] = reactive(Link)
    status: reactive[t.Status | None] = reactive(None)

    def __init__(self, target: str, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.target = target
        self.clock = clock

    def watch_link(self, link: Link) -> None:
        self.set_class(link.state is LinkState.LOST, "-lost")

    def render(self) -> Text:
        left, right = self._left(), self._right()
        gap = max(1, self.content_size.width - left.cell_len - right.cell_len)
        if left.cell_len + right.cell_len + 1 > self.content_size.width:
            return left
        return Text.assemble(left, " " * gap, right)

    def _left(self) -> Text:
        link = self.link
        if link.state is LinkState.LOST:
            retry = f"retrying in {render.format_duration(link.retry_in)}" if link.retry_in else "retrying now"
            text = Text(f"✕ no link to the daemon, {retry}", style="bold")
            return text.append(f" · {link.reason}", style="not bold")
        if link.state is LinkState.CONNECTING or self.status is None:
            return Text(f"… connecting to {self.target}")
        status = self.status
        text = Text("● ", style="green")
        text.append(f"imagined {status.version}", style="bold")
        if status.started_at:
            text.append(f" · up {render.format_duration(self.clock() - status.started_at)}")
        return text

    def _right(self) -> Text:
        if self.link.state is not LinkState.CONNECTED or self.status is None:
            return Text("")
        queue = self.status.queue
        text = Text(f"{queue.queued} queued · {queue.running} running")
        if queue.paused:
            text.append(" · ")
            text.append("PAUSED", style="bold reverse")
        return text

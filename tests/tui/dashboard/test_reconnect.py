"""The link drops when the daemon dies; the dashboard says so and reconnects by itself when it is back."""

from __future__ import annotations

from pathlib import Path

from imagine.client import Client

from tests.e2e.daemon_process import DaemonProcess
from tui.dashboard.app import create_app
from tui.dashboard.link import LinkState
from tui.dashboard.widgets.link_bar import LinkBar

from .helpers import until


async def test_daemon_restart_is_shown_and_survived(tmp_path: Path, live_daemon: DaemonProcess) -> None:
    daemon = DaemonProcess(tmp_path / "data", live_daemon.models_dir)  # the tiny model is built already
    await daemon.start()
    try:
        async with Client(daemon.target) as client:
            app = create_app(client)
            async with app.run_test(size=(80, 24)) as pilot:
                await until(pilot, lambda: app.link.state is LinkState.CONNECTED, what="the first connection")
                daemon.kill9()
                await until(pilot, lambda: app.link.state is LinkState.LOST, what="the link to drop")
                bar = app.screen.query_one(LinkBar)
                await until(pilot, lambda: "no link to the daemon" in str(bar.render()), what="the bar to say so")
                await daemon.start()
                await until(pilot, lambda: app.link.state is LinkState.CONNECTED, timeout=30, what="reconnecting")
                await until(pilot, lambda: "imagined" in str(bar.render()), what="the bar to say so")
    finally:
        daemon.stop()

"""DevicePanel: the device's name, memory as a bar, utilisation with a sparkline, temperature."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from imagine import types as t

from tui import render
from tui.commands.system import device_label
from tui.dashboard.cells import bar

SAMPLES = 120  # one a status update (about every second): the last two minutes
SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(samples: Sequence[float], width: int) -> str:
    """The last `width` samples (0..100) as block characters on a fixed 0..100 scale."""
    recent = list(samples)[-width:] if width > 0 else []
    top = len(SPARKS) - 1
    return "".join(SPARKS[round(max(0.0, min(100.0, s)) / 100 * top)] for s in recent)


def device_text(device: t.Device | None, busy: bool, samples: Sequence[float], width: int) -> Text:
    if device is None:
        return Text("no device reported yet", style="dim")
    label = device_label(device)
    text = Text(label, style="bold", no_wrap=True, overflow="ellipsis")
    if device.name and device.name.lower() != device.kind:
        text.append(" " + " ".join(device.name.split()))
    text.append("\nmem  ")
    if device.memory_total:
        memory = render.format_memory(device.memory_used, device.memory_total)
        text.append(bar(device.memory_used / device.memory_total, max(4, width - 6 - len(memory))), style="cyan")
        text.append(" " + memory)
    else:
        text.append("not reported", style="dim")
    text.append("\nload ")
    if device.utilisation is not None:
        text.append(f"{device.utilisation:3.0f}% ")
        text.append(sparkline(samples, max(0, width - 10)), style="cyan")
    else:
        text.append("not reported on this device", style="dim")
    text.append("\n")
    if device.temperature_c is not None:
        text.append(f"temp {device.temperature_c:.0f}°C  ")
    text.append("worker busy" if busy else "worker idle", style="" if busy else "dim")
    return text


class DevicePanel(Static):
    DEFAULT_CSS = """
    DevicePanel { height: 6; border: round $primary; border-title-color: $text; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    status: reactive[t.Status | None] = reactive(None)

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.samples: deque[float] = deque(maxlen=SAMPLES)
        self.border_title = "Device"

    def watch_status(self, status: t.Status | None) -> None:
        device = status.devices[0] if status and status.devices else None
        if device is not None and device.utilisation is not None:
            self.samples.append(device.utilisation)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        status = self.status
        device = status.devices[0] if status and status.devices else None
        busy = bool(status and status.queue.running)
        self.update(device_text(device, busy, self.samples, max(20, self.content_size.width)))

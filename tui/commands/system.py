"""`imagine status` and `imagine queue pause|resume`: what the daemon is doing, and on what."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from imagine import types as t

from tui import options, render
from tui.session import print_json, with_client

if TYPE_CHECKING:
    from imagine.client import Client


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "status",
        help="the daemon's version, uptime, devices, queue, workers and loaded models",
        description="What the daemon is doing: version, uptime, devices, queue, workers and loaded models.",
        epilog="examples:\n  imagine status\n  imagine --socket /tmp/im.sock status --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print the status as one JSON object")
    p.set_defaults(func=cmd_status)

    queue = subparsers.add_parser(
        "queue",
        help="pause or resume the queue",
        description="Pause or resume starting queued jobs. Submitting still works while paused.",
        epilog="examples:\n  imagine queue pause\n  imagine queue resume",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    queue.set_defaults(func=lambda args: options.missing_command(queue))
    sub = queue.add_subparsers(title="commands", metavar="COMMAND")
    p = sub.add_parser(
        "pause",
        help="stop starting queued jobs (the running one finishes)",
        description="Stop starting queued jobs; the running job finishes and new jobs can still be submitted.",
        epilog="example:\n  imagine queue pause",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=cmd_pause)
    p = sub.add_parser(
        "resume",
        help="start queued jobs again",
        description="Start queued jobs again after `imagine queue pause`.",
        epilog="example:\n  imagine queue resume",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=cmd_resume)


# -- status ------------------------------------------------------------------------


def device_label(device: t.Device) -> str:
    """The device kind as people say it: CPU (no pretending it is a GPU), CUDA 0, MPS, ..."""
    if device.kind == "cpu":
        return "CPU"
    if device.kind == "cuda":
        return f"CUDA {device.index}"
    return device.kind.upper() or "?"


def queue_line(queue: t.QueueStats) -> str:
    text = f"queue: {queue.queued} queued, {queue.running} running"
    if queue.paused:
        text += "; paused, start it with `imagine queue resume`"
    return text


def status_lines(status: t.Status, *, now: float, width: int) -> list[str]:
    """The `imagine status` report."""
    lines = [f"imagined {status.version}, up {render.format_duration(now - status.started_at)}"]
    lines.append(queue_line(status.queue))

    lines.append("")
    if status.devices:
        rows = []
        for d in status.devices:
            extra = []
            if d.utilisation is not None:
                extra.append(f"{d.utilisation:.0f}% busy")
            if d.temperature_c is not None:
                extra.append(f"{d.temperature_c:.0f}°C")
            memory = render.format_memory(d.memory_used, d.memory_total) if d.memory_total else "-"
            if d.kind == "cpu" and d.memory_total:
                memory += " RAM"
            rows.append([device_label(d), memory, "  ".join(extra) or "-", d.name or "-"])
        lines += render.render_table(("DEVICE", "MEMORY", "LOAD", "NAME"), rows, width=width)
    else:
        lines.append("no devices reported")

    lines.append("")
    if status.workers:
        rows = [[str(w.pid), w.state, w.job_id or "-", str(w.restarts)] for w in status.workers]
        lines += render.render_table(("WORKER PID", "STATE", "JOB", "RESTARTS"), rows, width=width, flex=2)
    else:
        lines.append("no workers")

    lines.append("")
    if status.loaded_models:
        rows = [[m.name, m.device, render.format_bytes(m.memory_bytes)] for m in status.loaded_models]
        lines += render.render_table(("LOADED MODEL", "DEVICE", "MEMORY"), rows, width=width, flex=0)
    else:
        lines.append("no models loaded")
    return lines


def status_json(status: t.Status, *, now: float) -> dict[str, Any]:
    data: dict[str, Any] = t.to_jsonable(status)
    data["uptime_seconds"] = round(max(0.0, now - status.started_at), 3) if status.started_at else None
    return data


def cmd_status(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        status = await client.status()
        now = time.time()
        if args.json:
            print_json(status_json(status, now=now))
        else:
            print("\n".join(status_lines(status, now=now, width=render.terminal_width())))
        return 0

    return with_client(args, body)


# -- queue -------------------------------------------------------------------------


def cmd_pause(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        queue = (await client.pause_queue()).queue
        running = " (the running job finishes)" if queue.running else ""
        print(
            f"queue paused: {queue.queued} queued{running}; "
            "new jobs wait until `imagine queue resume`"
        )
        return 0

    return with_client(args, body)


def cmd_resume(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        queue = (await client.resume_queue()).queue
        print(f"queue resumed: {queue.queued} queued, {queue.running} running")
        return 0

    return with_client(args, body)

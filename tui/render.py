"""Text rendering for the command line: durations, sizes, times, tables, the progress bar.

Pure functions of their arguments (the current time and the width are passed
in), so they are easy to test and shared by every command.
"""

from __future__ import annotations

import datetime as _dt
import shutil
import textwrap
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from imagine import types as t

ELLIPSIS = "…"
GIB = 1024**3


def terminal_width(fallback: int = 100) -> int:
    """Columns of the terminal (or $COLUMNS); `fallback` when there is none."""
    return max(20, shutil.get_terminal_size((fallback, 24)).columns)


# -- numbers -------------------------------------------------------------------


def format_duration(seconds: float) -> str:
    """A short human duration: 0.04s, 0.4s, 3.2s, 42s, 5m 03s, 2h 05m, 3d 4h."""
    seconds = max(0.0, seconds)
    if seconds < 0.1:
        return f"{seconds:.2f}s"
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    total = int(round(seconds))
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def format_ms(milliseconds: float) -> str:
    return format_duration(milliseconds / 1000.0)


def format_bytes(size: int | float) -> str:
    """Binary units: 512 B, 12.3 KiB, 4.0 MiB, 1.5 GiB."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_memory(used: int, total: int) -> str:
    """Used/total memory in GiB, e.g. "3.2/15.5 GiB"."""
    return f"{used / GIB:.1f}/{total / GIB:.1f} GiB"


# -- times -------------------------------------------------------------------


def format_relative(timestamp: float | None, now: float) -> str:
    """How long ago `timestamp` (epoch seconds) was: "just now", "42s ago", "3m ago", "5h ago", "2d ago".

    Older than 30 days, or in the future by more than a minute, gives the date.
    """
    if not timestamp:
        return "-"
    delta = now - timestamp
    if delta < -60 or delta >= 30 * 86400:
        return _dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d")
    if delta < 5:
        return "just now"
    if delta < 60:
        return f"{int(delta)}s ago"
    if delta < 3600:
        return f"{int(delta // 60)}m ago"
    if delta < 86400:
        return f"{int(delta // 3600)}h ago"
    return f"{int(delta // 86400)}d ago"


def format_timestamp(timestamp: float | None, now: float) -> str:
    """Local date and time plus the relative time: "2024-05-01 12:03:04 (3m ago)"."""
    if not timestamp:
        return "-"
    absolute = _dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")
    return f"{absolute} ({format_relative(timestamp, now)})"


# -- text ----------------------------------------------------------------------


def truncate(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis when it is longer."""
    text = " ".join(text.split())
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width == 1:
        return ELLIPSIS
    return text[: width - 1].rstrip() + ELLIPSIS


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int,
    flex: int | None = None,
    overflow: Literal["truncate", "wrap"] = "truncate",
    gap: int = 2,
    right: Collection[int] = (),
) -> list[str]:
    """Columns separated by `gap` spaces, as lines without trailing blanks; left-aligned but for `right`.

    Column `flex` (default: the last) takes the width that is left and is
    truncated with an ellipsis, or wrapped onto continuation lines, so no line
    is wider than `width` (unless the fixed columns alone already are).
    """
    ncols = len(headers)
    if flex is None:
        flex = ncols - 1
    cells = [[" ".join(str(c).split()) if i == flex else str(c) for i, c in enumerate(r)] for r in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    fixed = sum(w for i, w in enumerate(widths) if i != flex) + gap * (ncols - 1)
    widths[flex] = max(min(widths[flex], width - fixed), min(widths[flex], 8))

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(widths[i]) if i in right else v.ljust(widths[i]) if i < ncols - 1 else v
            for i, v in enumerate(values)
        ]
        return (" " * gap).join(parts).rstrip()

    out = [line([truncate(h, widths[i]) if i == flex else h for i, h in enumerate(headers)])]
    for row in cells:
        text = row[flex]
        if overflow == "wrap":
            pieces = textwrap.wrap(text, widths[flex]) or [""]
            out.append(line([pieces[0] if i == flex else c for i, c in enumerate(row)]))
            for piece in pieces[1:]:
                out.append(line([piece if i == flex else "" for i in range(ncols)]))
        else:
            out.append(line([truncate(text, widths[flex]) if i == flex else c for i, c in enumerate(row)]))
    return out


def render_fields(fields: Sequence[tuple[str, str]], *, indent: int = 0) -> list[str]:
    """`label  value` lines with the values aligned; multi-line values continue aligned."""
    if not fields:
        return []
    label_width = max(len(label) for label, _ in fields)
    pad = " " * indent
    out: list[str] = []
    for label, value in fields:
        first, *rest = (value or "-").splitlines() or ["-"]
        out.append(f"{pad}{label.ljust(label_width)}  {first}".rstrip())
        out.extend(f"{pad}{' ' * label_width}  {more}".rstrip() for more in rest)
    return out


# -- progress ------------------------------------------------------------------


def progress_bar(
    step: int, total: int, *, sec_per_step: float | None = None, width: int = 10, unit: str = "steps"
) -> str:
    """`[#####-----] 5/10 steps  0.4s/step`; the rate is left out until it is known; `unit` names what is counted."""
    total = max(total, 0)
    step = min(max(step, 0), total) if total else max(step, 0)
    filled = (width * step // total) if total else 0
    bar = "#" * filled + "-" * (width - filled)
    text = f"[{bar}] {step}/{total} {unit}"
    if sec_per_step is not None:
        text += f"  {format_duration(sec_per_step)}/{unit.rstrip('s') or 'step'}"
    return text


def queued_line(position: int, eta_seconds: float | None) -> str:
    """`queued: position 2, about 3s` (no estimate until the daemon has one)."""
    text = f"queued: position {position}" if position else "queued"
    if eta_seconds is not None:
        text += f", about {format_duration(eta_seconds)}"
    return text


def keep_alive_text(model: t.LoadedModel, now: float) -> str:
    """How long a loaded model stays while unused: a duration, "forever", or "-" when unknown."""
    if model.keep_alive_until < 0:
        return "forever"
    if model.keep_alive_until == 0:
        return "-"
    return format_duration(max(0.0, model.keep_alive_until - now))

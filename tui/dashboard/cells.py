"""Short texts and table cells of the dashboard: progress bars, ETAs, states, priorities (pure)."""

from __future__ import annotations

from rich.text import Text

from imagine import types as t

from tui import render
from tui.progress import JobProgress

STATE_STYLES = {
    t.JobState.QUEUED: "yellow",
    t.JobState.RUNNING: "bold cyan",
    t.JobState.SUCCEEDED: "green",
    t.JobState.FAILED: "bold red",
    t.JobState.CANCELLED: "magenta",
}
PRIORITY_STYLES = {t.Priority.HIGH: "bold", t.Priority.NORMAL: "", t.Priority.LOW: "dim"}
BAR_FULL, BAR_EMPTY = "█", "░"


def bar(fraction: float, width: int) -> str:
    """A bar of `width` cells, `fraction` (0..1) of them full."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return BAR_FULL * filled + BAR_EMPTY * (width - filled)


def state_cell(state: t.JobState) -> Text:
    return Text(state.value, style=STATE_STYLES.get(state, ""))


def priority_cell(priority: t.Priority) -> Text:
    return Text(priority.value, style=PRIORITY_STYLES.get(priority, ""))


def progress_cell(progress: JobProgress, width: int = 5, *, steps: bool = False) -> Text:
    """`█████░░░ 40%` (or `10/20` with `steps`) while running, the queue position while queued."""
    if progress.state is t.JobState.QUEUED:
        where = f"#{progress.position}" if progress.position else ""
        return Text(f"waiting {where}".rstrip(), style="dim")
    if progress.state is t.JobState.SUCCEEDED:
        return Text(bar(1.0, width) + " done", style="green")
    if progress.state.terminal:
        return Text(bar(progress.step / progress.total if progress.total else 0, width), style="dim")
    if not progress.total:
        return Text("starting", style="cyan")
    fraction = progress.step / progress.total
    text = Text(bar(fraction, width), style="cyan")
    text.append(f" {progress.step}/{progress.total}" if steps else f" {fraction:.0%}")
    return text


def eta_seconds(progress: JobProgress) -> float | None:
    """Seconds until the job ends as far as is known: steps left at the measured rate, or the daemon's estimate."""
    if progress.state is t.JobState.RUNNING:
        if progress.sec_per_step is None or not progress.total:
            return None
        return max(0, progress.total - progress.step) * progress.sec_per_step
    if progress.state is t.JobState.QUEUED:
        return progress.eta_seconds
    return None


def eta_cell(progress: JobProgress) -> str:
    seconds = eta_seconds(progress)
    return render.format_duration(seconds) if seconds is not None else "-"



def short_id(job_id: str) -> str:
    return job_id[:8]

"""A job as a chat message shows it: the state from its events, and the line of text for it."""

from __future__ import annotations

from dataclasses import dataclass, field

from imagine import types as t

BAR_WIDTH = 12


@dataclass
class JobView:
    """What the events of one job have said so far; `apply` them in order."""

    job_id: str
    state: t.JobState = t.JobState.QUEUED
    position: int = 0
    eta_seconds: float | None = None
    step: int = 0
    total: int = 0
    sec_per_step: float | None = None
    preview: bytes = b""
    outputs: dict[int, t.Output] = field(default_factory=dict)
    error: str = ""
    last_seq: int = 0
    daemon_down: bool = False
    _first_step: tuple[float, int] | None = None

    @property
    def finished(self) -> bool:
        return self.state.terminal

    def apply(self, event: t.JobEvent) -> None:
        self.last_seq = max(self.last_seq, event.seq)
        self.daemon_down = False
        kind = event.kind
        if isinstance(kind, t.Snapshot):
            self.state, self.position, self.error = kind.job.state, kind.job.queue_position, kind.job.error
            self.eta_seconds = kind.job.eta_seconds
            self.outputs.update({o.index: o for o in kind.job.outputs})
        elif isinstance(kind, t.Queued):
            self.state, self.position, self.eta_seconds = t.JobState.QUEUED, kind.position, kind.eta_seconds
        elif isinstance(kind, t.Started):
            self.state, self.step, self.sec_per_step, self._first_step = t.JobState.RUNNING, 0, None, None
        elif isinstance(kind, t.Progress):
            self._progress(kind, event.time)
        elif isinstance(kind, t.Output):
            self.outputs[kind.index] = kind
        elif isinstance(kind, t.Finished):
            self.state, self.error = kind.state, kind.error

    def _progress(self, kind: t.Progress, at: float) -> None:
        self.state = t.JobState.RUNNING
        if self._first_step is None or kind.step < self.step:  # a new image (or attempt) starts over
            self._first_step, self.sec_per_step = (at, kind.step), None
        elif kind.step > self._first_step[1]:
            since, from_step = self._first_step
            self.sec_per_step = max(0.0, at - since) / (kind.step - from_step)
        self.step, self.total = kind.step, kind.total
        if kind.preview:
            self.preview = kind.preview

    def seconds_left(self) -> float | None:
        if self.state is t.JobState.QUEUED:
            return self.eta_seconds
        if self.sec_per_step is None or not self.total:
            return None
        return self.sec_per_step * max(0, self.total - self.step)


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def step_bar(step: int, total: int, width: int = BAR_WIDTH) -> str:
    """`▰▰▰▰▱▱▱▱ 4/8`"""
    filled = width * min(step, total) // total if total > 0 else 0
    return "▰" * filled + "▱" * (width - filled) + f" {step}/{total}"


def status_line(view: JobView) -> str:
    """The progress line of a message: queue position, step bar, time left; or how it ended."""
    if view.daemon_down:
        return "⚠️ The image daemon is down right now; this message will finish when it is back."
    left = view.seconds_left()
    about = f" · about {format_seconds(left)} left" if left is not None else ""
    if view.state is t.JobState.QUEUED:
        where = f"#{view.position} in the queue" if view.position else "in the queue"
        return f"⏳ Waiting: {where}{about}"
    if view.state is t.JobState.RUNNING:
        if not view.total:
            return "🎨 Starting…"
        return f"🎨 {step_bar(view.step, view.total)} steps{about}"
    if view.state is t.JobState.SUCCEEDED:
        return "✅ Done"
    if view.state is t.JobState.CANCELLED:
        return "🚫 Cancelled"
    return f"❌ Failed: {view.error or 'no reason given'}"

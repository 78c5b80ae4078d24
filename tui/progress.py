"""What is known about a job, updated event by event (pure): shared by the command line and the dashboard."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from imagine import types as t


@dataclass
class JobProgress:
    """A job as its events describe it; `apply` them in order."""

    job_id: str
    job: t.Job | None = None
    state: t.JobState = t.JobState.QUEUED
    position: int = 0
    eta_seconds: float | None = None
    worker: str = ""
    load_ms: float = 0.0
    step: int = 0
    total: int = 0
    stage: str = ""  # what a step counts: "" denoising steps, "detect" images, "epoch", ... (Progress.stage)
    metrics: dict[str, float] = field(default_factory=dict)  # the latest Progress.metrics (training)
    preview: bytes = b""  # the latest preview image
    sec_per_step: float | None = None
    outputs: dict[int, t.Output] = field(default_factory=dict)
    error: str = ""
    timings: t.Timings | None = None
    report: t.Report | None = None
    finished: bool = False
    last_seq: int = 0
    _rate_from: tuple[float, int] | None = None

    def apply(self, event: t.JobEvent) -> None:
        self.last_seq = max(self.last_seq, event.seq)
        kind = event.kind
        if isinstance(kind, t.Snapshot):
            job = kind.job
            self.job = job
            self.state = job.state
            self.position = job.queue_position
            self.outputs.update({o.index: o for o in job.outputs})
            self.error = job.error
            if job.state.terminal:
                self.timings = job.timings
                self.report = job.report
                self.finished = True
        elif isinstance(kind, t.Queued):
            self.state = t.JobState.QUEUED
            self.position = kind.position
            self.eta_seconds = kind.eta_seconds
        elif isinstance(kind, t.Started):
            self.state = t.JobState.RUNNING
            self.worker = kind.worker
            self.load_ms = kind.load_ms
            self.step = 0
            self.sec_per_step = None
            self._rate_from = None  # measured from the first step: setting up is not a step
        elif isinstance(kind, t.Progress):
            self._progress(kind, event.time)
        elif isinstance(kind, t.Output):
            self.outputs[kind.index] = kind
        elif isinstance(kind, t.Finished):
            self.state = kind.state
            self.error = kind.error
            self.timings = kind.timings
            self.report = kind.report
            self.finished = True

    def _progress(self, kind: t.Progress, time: float) -> None:
        self.state = t.JobState.RUNNING
        if kind.step < self.step or kind.stage != self.stage or (self._rate_from is None and time):
            # first step we see, or a new image, stage or attempt started over
            self._rate_from = (time, kind.step) if time else None
            self.sec_per_step = None
        self.step, self.total, self.stage = kind.step, kind.total, kind.stage
        if kind.metrics:
            self.metrics = dict(kind.metrics)
        if kind.preview:
            self.preview = kind.preview
        if self._rate_from is not None and time and kind.step > self._rate_from[1]:
            since, from_step = self._rate_from
            self.sec_per_step = max(0.0, time - since) / (kind.step - from_step)

    def result(self) -> t.Job:
        """The job as it ended: the snapshot with the final state, error, timings, outputs and report."""
        base = self.job or t.Job(id=self.job_id, spec=t.JobSpec(t.Txt2Img("")), owner="", state=self.state)
        return dataclasses.replace(
            base,
            state=self.state,
            error=self.error,
            timings=self.timings or base.timings,
            outputs=tuple(self.outputs[i] for i in sorted(self.outputs)),
            report=self.report or base.report,
        )


def job_seed(job: t.Job) -> int | None:
    """The job's base seed: the recorded one, else the first image's; None for jobs without seeds."""
    seed = getattr(job.spec.task, "seed", None)
    if seed is not None:
        return seed  # type: ignore[no-any-return]
    if not job.outputs or job.spec.kind not in t.GENERATION_KINDS | {"variations", "upscale"}:
        return None
    return min(job.outputs, key=lambda o: o.index).seed

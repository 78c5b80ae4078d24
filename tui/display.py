"""ProgressDisplay: a job's progress on stderr, redrawn in place on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

from imagine import types as t

from tui import render
from tui.preview import THUMBNAIL_WIDTH, PreviewFile, terminal_color_system, thumbnail_lines
from tui.progress import JobProgress
from tui.vision_text import stage_line

STAGE_UNITS = {"": "steps", "detect": "images"}  # other stages name a phase: "export", "measure pytorch b1", ...
IMAGELESS_KINDS = ("export", "benchmark", "train")
PER_STEP_STAGES = ("epoch", "tune")  # a line each: an epoch takes long and its metrics are worth keeping


class ProgressDisplay:
    """Draws a job's progress on a text stream (stderr).

    On a terminal the queue position and the progress bar are one line redrawn
    with `\\r`; otherwise it writes a plain line when the queue position changes,
    one when the job starts and one when all steps are done, never one per step.
    Epochs of a training job get a line each, with their metrics, everywhere.

    Previews go to `preview_file` when given; on a terminal with colours they
    are also drawn as a small thumbnail above the progress bar, redrawn in place.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool,
        quiet: bool = False,
        preview_file: PreviewFile | None = None,
        thumbnails: str | None = None,
    ) -> None:
        """`thumbnails` is the terminal's colour system when previews are drawn on it, else None."""
        self.stream = stream
        self.tty = tty
        self.quiet = quiet
        self.preview_file = preview_file
        self.thumbnails = thumbnails if tty and not quiet else None
        self._live = False
        self._keep = False
        self._last_queued: str | None = None
        self._done_steps = False
        self._last_phase = ""
        self._ended = False
        self._thumbnail_rows = 0  # rows of the thumbnail right above the live line

    @classmethod
    def for_stderr(
        cls, *, quiet_unless_tty: bool = False, preview_file: PreviewFile | None = None, previews: bool = False
    ) -> ProgressDisplay:
        tty = sys.stderr.isatty()
        colors = terminal_color_system(sys.stderr) if previews and tty else None
        return cls(
            sys.stderr, tty=tty, quiet=quiet_unless_tty and not tty, preview_file=preview_file, thumbnails=colors
        )

    def note(self, text: str) -> None:
        """A whole line, below any line being redrawn."""
        if self.quiet:
            return
        self.clear()
        self.stream.write(text + "\n")
        self.stream.flush()
        self._thumbnail_rows = 0  # the thumbnail stays where it is, above this line

    def live(self, text: str, *, keep: bool = False) -> None:
        """Replace the line being redrawn (a plain line when not on a terminal).

        When the next whole line comes, a `keep` line stays on screen (the
        progress bar); any other (queue position, "running") is wiped.
        """
        if self.quiet:
            return
        if not self.tty:
            self.note(text)
            return
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self._live, self._keep = True, keep

    def clear(self) -> None:
        """End the line being redrawn: keep it on screen, or wipe it."""
        if self._live:
            self.stream.write("\n" if self._keep else "\r\x1b[K")
            self.stream.flush()
            self._live = False
            if self._keep:
                self._thumbnail_rows = 0

    def update(self, event: t.JobEvent, progress: JobProgress) -> None:
        kind = event.kind
        if isinstance(kind, t.Snapshot):
            if progress.state is t.JobState.QUEUED:
                self._queued(progress)
            elif progress.state is t.JobState.RUNNING and self.tty:
                self.live("running")
        elif isinstance(kind, t.Queued):
            self._queued(progress)
        elif isinstance(kind, t.Started):
            self._last_queued = None
            self._done_steps = False
            where = f" on worker {kind.worker}" if kind.worker else ""
            load = f" (model loaded in {render.format_ms(kind.load_ms)})" if kind.load_ms else ""
            again = f", attempt {kind.attempt}" if kind.attempt > 1 else ""
            self.note(f"started{where}{load}{again}")
        elif isinstance(kind, t.Progress):
            self._progress(kind, progress)
        if progress.finished:
            self._end(progress)

    def _progress(self, kind: t.Progress, progress: JobProgress) -> None:
        if kind.preview:
            if self.preview_file is not None:
                self.preview_file.write(kind.preview)
            if self.thumbnails:
                self._thumbnail(kind.preview)
        if kind.stage in PER_STEP_STAGES:
            self.note(stage_line(kind.stage, kind.step, kind.total, kind.metrics))
            return
        if kind.stage not in STAGE_UNITS:
            self._phase(kind)
            return
        unit = STAGE_UNITS[kind.stage]
        bar = render.progress_bar(progress.step, progress.total, sec_per_step=progress.sec_per_step, unit=unit)
        if self.tty:
            self.live(bar, keep=True)
        elif progress.total and progress.step >= progress.total and not self._done_steps:
            self._done_steps = True
            self.note(bar)

    def _phase(self, kind: t.Progress) -> None:
        """A named phase of an export or a benchmark: the bar and its name, a line per phase off a terminal."""
        line = f"{render.progress_bar(kind.step, kind.total, unit='phases')}  {kind.stage}"
        if self.tty:
            self.live(line, keep=True)
        elif kind.stage != self._last_phase:
            self.note(line)
        self._last_phase = kind.stage

    def _thumbnail(self, png: bytes) -> None:
        """Draw the preview above the live line, over the previous one when it is still right there."""
        assert self.thumbnails is not None
        lines = thumbnail_lines(png, width=THUMBNAIL_WIDTH, color_system=self.thumbnails)
        if not lines:
            return
        text = "\r\x1b[K" if self._live else ""
        if self._thumbnail_rows:
            text += f"\x1b[{self._thumbnail_rows}F"  # up to the first row of the previous thumbnail
        text += "".join(line + "\x1b[K\n" for line in lines)
        self.stream.write(text)
        self.stream.flush()
        self._live = False
        self._thumbnail_rows = len(lines)

    def _queued(self, progress: JobProgress) -> None:
        line = render.queued_line(progress.position, progress.eta_seconds)
        if self.tty:
            self.live(line)
        elif line != self._last_queued:
            self.note(line)
        self._last_queued = line

    def _end(self, progress: JobProgress) -> None:
        if self._ended:
            return
        self._ended = True
        self.clear()
        if progress.state is t.JobState.SUCCEEDED:
            timings = progress.timings
            took = f" in {render.format_ms(timings.total_ms)}" if timings and timings.total_ms else ""
            count = len(progress.outputs)
            makes_images = progress.job is None or progress.job.spec.kind not in IMAGELESS_KINDS
            images = f", {count} image{'s' if count != 1 else ''}" if count != 1 and makes_images else ""
            self.note(f"succeeded{took}{images}")

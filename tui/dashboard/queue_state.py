"""What the queue table shows: the active jobs from List pages, kept live by Watch events (pure).

The dashboard replaces the active jobs whenever the daemon says the queue
changed, applies every Watch event as it comes, and asks for the rows that
changed (`take_dirty`) a few times a second, so a burst of progress events is
one redraw. Jobs it never listed (an event for a job deleted a moment ago) are
ignored, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from imagine import types as t

from tui.progress import JobProgress

RECENT_FINISHED = 5  # finished jobs kept below the active ones


class QueueState:
    def __init__(self) -> None:
        self.rows: dict[str, JobProgress] = {}
        self._finished: list[str] = []  # newest first
        self._dirty: set[str] = set()
        self._pending: set[str] = set()  # no longer listed, not known to have ended
        self._order_changed = True

    def replace_active(self, jobs: Iterable[t.Job]) -> None:
        """The queued and running jobs as List returned them just now."""
        listed = {job.id: job for job in jobs}
        for job_id, job in listed.items():
            row = self.rows.get(job_id)
            if row is None:
                row = self.rows[job_id] = JobProgress(job_id)
                self._order_changed = True
            if row.finished:
                continue
            self._pending.discard(job_id)
            if row.state is not job.state or row.position != job.queue_position:
                self._order_changed = True
            row.job = job
            row.state = job.state
            row.position = job.queue_position
            if job.eta_seconds is not None or job.state is not t.JobState.QUEUED:
                row.eta_seconds = job.eta_seconds
            self._dirty.add(job_id)
        for job_id, row in list(self.rows.items()):
            if job_id not in listed and not row.finished:
                self._pending.add(job_id)  # its Watch stream says how it ended

    def apply(self, event: t.JobEvent) -> None:
        row = self.rows.get(event.job_id)
        if row is None:
            return
        before = (row.state, row.position)
        row.apply(event)
        if isinstance(event.kind, t.Snapshot):
            row.eta_seconds = event.kind.job.eta_seconds if row.eta_seconds is None else row.eta_seconds
        if (row.state, row.position) != before:
            self._order_changed = True
        if row.finished and event.job_id not in self._finished:
            self._finish(event.job_id)
        self._dirty.add(event.job_id)

    def update_job(self, job: t.Job) -> None:
        """A job a call just returned (Submit, Update, Cancel): shown at once, before any event."""
        row = self.rows.get(job.id)
        if row is None:
            row = self.rows[job.id] = JobProgress(job.id)
            self._order_changed = True
        if row.finished:
            return
        row.apply(t.JobEvent(job.id, 0, 0.0, t.Snapshot(job)))
        if row.finished:
            self._finish(job.id)
        self._order_changed = True
        self._dirty.add(job.id)

    def watch_ended(self, job_id: str) -> None:
        """The Watch stream of a job stopped; a job that did not finish and is no longer listed goes."""
        row = self.rows.get(job_id)
        if row is not None and not row.finished and job_id in self._pending:
            self.forget(job_id)

    def forget(self, job_id: str) -> None:
        if self.rows.pop(job_id, None) is not None:
            self._order_changed = True
        self._pending.discard(job_id)
        if job_id in self._finished:
            self._finished.remove(job_id)

    def _finish(self, job_id: str) -> None:
        self._pending.discard(job_id)
        self._finished.insert(0, job_id)
        for old in self._finished[RECENT_FINISHED:]:
            self.rows.pop(old, None)
        del self._finished[RECENT_FINISHED:]
        self._order_changed = True

    def ordered(self) -> list[JobProgress]:
        """Running jobs, then queued ones by position, then the recently finished, newest first."""
        active = [r for r in self.rows.values() if not r.finished]
        active.sort(key=_active_key)
        return active + [self.rows[i] for i in self._finished if i in self.rows]

    def active_ids(self) -> list[str]:
        return [r.job_id for r in self.ordered() if not r.finished]

    def take_dirty(self) -> tuple[bool, set[str]]:
        """(whether the rows or their order changed, the ids of rows whose cells changed) since last asked."""
        changed, dirty = self._order_changed, self._dirty
        self._order_changed, self._dirty = False, set()
        return changed, dirty

    def job(self, job_id: str) -> t.Job | None:
        row = self.rows.get(job_id)
        return row.result() if row is not None and row.job is not None else None


def _active_key(row: JobProgress) -> tuple[int, int, float]:
    running = row.state is t.JobState.RUNNING
    created = row.job.created_at if row.job else 0.0
    return (0 if running else 1, row.position or 1_000_000, created)


def next_priority(priority: t.Priority, step: int) -> t.Priority | None:
    """One class up (`step` 1) or down (-1); None past either end."""
    order: Sequence[t.Priority] = (t.Priority.LOW, t.Priority.NORMAL, t.Priority.HIGH)
    index = order.index(priority) + step
    return order[index] if 0 <= index < len(order) else None

"""Builders for the `imagine` command-line tests: jobs, outputs and events as the client returns them."""

from __future__ import annotations

from imagine import types as t

NOW = 1_700_000_000.0


def make_output(index: int = 0, *, job_id: str = "job1", seed: int = 42) -> t.Output:
    return t.Output(
        id=f"out{index}",
        job_id=job_id,
        index=index,
        seed=seed + index,
        width=64,
        height=64,
        path=f"/data/outputs/{job_id}-{index}.png",
        sha256=f"{index:064x}",
        size_bytes=12_345,
    )


def make_job(
    job_id: str = "job1",
    *,
    state: t.JobState = t.JobState.SUCCEEDED,
    prompt: str = "a lighthouse",
    seed: int | None = 42,
    count: int = 1,
    outputs: int = 0,
    error: str = "",
    created_at: float = NOW - 180,
) -> t.Job:
    spec = t.JobSpec(
        task=t.Txt2Img(prompt=prompt, width=64, height=64, steps=2, guidance=7.5, seed=seed, count=count, scheduler="euler"),
        model="tiny-sd",
        request_id="req-1",
    )
    return t.Job(
        id=job_id,
        spec=spec,
        owner="alice",
        state=state,
        attempts=1 if state is not t.JobState.QUEUED else 0,
        created_at=created_at,
        started_at=created_at + 1 if state is not t.JobState.QUEUED else None,
        finished_at=created_at + 3 if state.terminal else None,
        timings=t.Timings(1000, 500, 1200, 30, 2730) if state.terminal else t.Timings(),
        error=error,
        outputs=tuple(make_output(i, job_id=job_id, seed=seed or 7) for i in range(outputs)),
        queue_position=2 if state is t.JobState.QUEUED else 0,
    )


def event(kind: t.EventKind, seq: int = 1, time: float = NOW, job_id: str = "job1") -> t.JobEvent:
    return t.JobEvent(job_id=job_id, seq=seq, time=time, kind=kind)


def run_events(job_id: str = "job1", *, steps: int = 4, outputs: int = 1, final: t.JobState = t.JobState.SUCCEEDED) -> list[t.JobEvent]:
    """A whole job's life as Watch streams it: snapshot, queued, started, steps, outputs, finished."""
    seq = iter(range(1, 1000))
    queued = make_job(job_id, state=t.JobState.QUEUED)
    events = [
        event(t.Snapshot(queued), next(seq), NOW, job_id),
        event(t.Queued(1, 3.0), next(seq), NOW + 0.5, job_id),
        event(t.Started("w1", 1500.0, 1), next(seq), NOW + 1, job_id),
    ]
    events += [event(t.Progress(i, steps), next(seq), NOW + 1 + 0.5 * i, job_id) for i in range(1, steps + 1)]
    events += [event(make_output(i, job_id=job_id), next(seq), NOW + 4, job_id) for i in range(outputs)]
    error = "out of memory" if final is t.JobState.FAILED else ""
    events.append(event(t.Finished(final, error, t.Timings(500, 1500, 2000, 30, 4030)), next(seq), NOW + 5, job_id))
    return events


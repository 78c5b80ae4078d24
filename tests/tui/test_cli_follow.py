"""Following a job: the event reducer, the progress display, the final report and its JSON."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imagine import types as t
from tests.tui.builders import NOW, event, make_job, make_output, run_events
from tui.display import ProgressDisplay
from tui.follow import follow, follow_and_report
from tui.progress import JobProgress
from tui.results import OutputTarget, summary
from tui.session import CommandFailed, Detached


def replay(events: list[t.JobEvent], *, tty: bool, quiet: bool = False) -> tuple[JobProgress, str]:
    stream = io.StringIO()
    display = ProgressDisplay(stream, tty=tty, quiet=quiet)
    progress = JobProgress(events[0].job_id)
    for ev in events:
        progress.apply(ev)
        display.update(ev, progress)
    return progress, stream.getvalue()


def test_progress_follows_the_events() -> None:
    progress = JobProgress("job1")
    events = run_events(steps=4, outputs=2)
    progress.apply(events[0])
    assert (progress.state, progress.position, progress.finished) == (t.JobState.QUEUED, 2, False)
    progress.apply(events[1])
    assert (progress.position, progress.eta_seconds) == (1, 3.0)
    progress.apply(events[2])
    assert (progress.state, progress.worker, progress.load_ms) == (t.JobState.RUNNING, "w1", 1500.0)
    for ev in events[3:7]:
        progress.apply(ev)
    assert (progress.step, progress.total) == (4, 4)
    assert progress.sec_per_step == pytest.approx(0.5)
    for ev in events[7:]:
        progress.apply(ev)
    assert progress.finished and progress.state is t.JobState.SUCCEEDED
    job = progress.result()
    assert [o.index for o in job.outputs] == [0, 1]
    assert job.timings.total_ms == 4030 and job.spec.task.prompt == "a lighthouse"


def test_progress_of_a_job_that_already_ended() -> None:
    done = make_job(outputs=1)
    progress = JobProgress("job1")
    progress.apply(event(t.Snapshot(done)))
    assert progress.finished and progress.result() == done


def test_rate_restarts_with_a_new_image() -> None:
    progress = JobProgress("job1")
    for i, step in enumerate([1, 2, 3, 1, 2]):
        progress.apply(event(t.Progress(step, 3), i + 1, NOW + i))
    assert progress.step == 2 and progress.sec_per_step == pytest.approx(1.0)


def test_display_on_a_terminal_redraws_one_line() -> None:
    _, text = replay(run_events(steps=4), tty=True)
    assert "\rqueued: position 2\x1b[K" in text
    assert "\rqueued: position 1, about 3.0s\x1b[K" in text
    assert "\r\x1b[Kstarted on worker w1 (model loaded in 1.5s)\n" in text  # the queue line is wiped
    assert "\r[##--------] 1/4 steps\x1b[K" in text  # no rate before the second step
    assert "\r[#####-----] 2/4 steps  0.5s/step\x1b[K" in text
    assert "\r[##########] 4/4 steps  0.5s/step\x1b[K\n" in text
    assert text.endswith("succeeded in 4.0s\n")


def test_display_elsewhere_writes_a_few_plain_lines() -> None:
    _, text = replay(run_events(steps=30), tty=False)
    assert "\r" not in text and "\x1b" not in text
    assert text.splitlines() == [
        "queued: position 2",
        "queued: position 1, about 3.0s",
        "started on worker w1 (model loaded in 1.5s)",
        "[##########] 30/30 steps  0.5s/step",
        "succeeded in 4.0s",
    ]


def test_display_of_a_failure_leaves_the_sentence_to_the_caller() -> None:
    _, text = replay(run_events(final=t.JobState.FAILED), tty=False)
    assert "succeeded" not in text and "out of memory" not in text


def test_quiet_display_writes_nothing() -> None:
    assert replay(run_events(), tty=False, quiet=True)[1] == ""


def test_summary_json_shape() -> None:
    job = make_job(outputs=2)
    data = summary(job)
    assert list(data) == ["job_id", "state", "seed", "outputs", "timings", "error"]
    assert data["job_id"] == "job1" and data["state"] == "succeeded" and data["seed"] == 42
    assert data["outputs"][1] == {
        "id": "out1", "path": "/data/outputs/job1-1.png", "seed": 43, "width": 64, "height": 64, "sha256": f"{1:064x}",
    }  # fmt: skip
    assert data["timings"] == {"queue_ms": 1000, "load_ms": 500, "run_ms": 1200, "encode_ms": 30, "total_ms": 2730}
    assert data["error"] == ""
    assert summary(job, ["a.png", "b.png"])["outputs"][0]["path"] == "a.png"
    json.dumps(data)


class FakeClient:
    """Stands in for `imagine.client.Client` where these tests need events on demand."""

    def __init__(self, events: list[t.JobEvent], *, hang: bool = False) -> None:
        self.events = events
        self.hang = hang
        self.saved: list[tuple[str, Path]] = []

    async def watch(self, job_id: str, after_seq: int = 0) -> AsyncIterator[t.JobEvent]:
        for ev in self.events:
            yield ev
        if self.hang:
            await asyncio.Event().wait()

    async def get(self, job_id: str) -> t.Job:
        raise AssertionError("not needed when the stream ends with the job")

    async def save_output(self, output_id: str, path: Path) -> Path:
        path.write_bytes(b"png")
        self.saved.append((output_id, path))
        return path


def args(**kw: object) -> argparse.Namespace:
    return argparse.Namespace(**({"json": False, "output": None} | kw))


async def test_follow_and_report_prints_paths(capsys: pytest.CaptureFixture[str]) -> None:
    display = ProgressDisplay(io.StringIO(), tty=False)
    status = await follow_and_report(FakeClient(run_events(outputs=2)), "job1", args(), display, None)  # type: ignore[arg-type]
    assert status == 0
    assert capsys.readouterr().out == "/data/outputs/job1-0.png\n/data/outputs/job1-1.png\n"


async def test_follow_and_report_downloads_and_prints_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    client = FakeClient(run_events(outputs=2))
    target = OutputTarget.parse(str(tmp_path), count=2)
    display = ProgressDisplay(io.StringIO(), tty=False)
    assert await follow_and_report(client, "job1", args(json=True), display, target) == 0  # type: ignore[arg-type]
    data = json.loads(capsys.readouterr().out)
    assert [o["path"] for o in data["outputs"]] == [str(tmp_path / "out0.png"), str(tmp_path / "out1.png")]
    assert (tmp_path / "out1.png").read_bytes() == b"png"


async def test_follow_and_report_fails_for_failed_and_cancelled_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    display = ProgressDisplay(io.StringIO(), tty=False)
    with pytest.raises(CommandFailed, match="^job job1 failed: out of memory$"):
        await follow_and_report(FakeClient(run_events(final=t.JobState.FAILED, outputs=0)), "job1", args(json=True), display, None)  # type: ignore[arg-type]
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "failed" and data["error"] == "out of memory" and data["outputs"] == []
    with pytest.raises(CommandFailed, match="^job job1 was cancelled$"):
        await follow_and_report(FakeClient(run_events(final=t.JobState.CANCELLED, outputs=0)), "job1", args(), display, None)  # type: ignore[arg-type]


async def test_ctrl_c_while_following_detaches() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream, tty=True)
    client = FakeClient(run_events()[:4], hang=True)
    task = asyncio.create_task(follow(client, "job1", display))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(Detached) as info:
        await task
    assert stream.getvalue().endswith("\n")  # the progress line is ended, not overwritten
    message = str(info.value)
    assert "job1 keeps running" in message
    assert "imagine jobs watch job1" in message and "imagine jobs cancel job1" in message


def test_output_target_for_one_file(tmp_path: Path) -> None:
    target = OutputTarget.parse(str(tmp_path / "x.png"), count=None)
    assert target is not None and target.destinations((make_output(),)) == [tmp_path / "x.png"]

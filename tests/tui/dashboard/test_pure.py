"""The dashboard's pure parts: queue state, cells, the form, the backoff, the device text."""

from __future__ import annotations

import pytest

from imagine import types as t

from tui.dashboard import cells
from tui.dashboard.form import FormError, FormValues, spec_from_form
from tui.dashboard.link import Backoff
from tui.dashboard.queue_state import QueueState, next_priority
from tui.dashboard.screens.history import rerun_spec
from tui.dashboard.widgets.device_panel import device_text, sparkline
from tui.progress import JobProgress

from .fixed_client import sample_jobs, sample_status


def event(job_id: str, seq: int, kind: t.EventKind, time: float = 0.0) -> t.JobEvent:
    return t.JobEvent(job_id, seq, time, kind)


def test_queue_state_orders_running_then_queued_then_finished() -> None:
    jobs = [j for j in sample_jobs() if not j.state.terminal]
    state = QueueState()
    state.replace_active(reversed(jobs))
    assert [r.job_id for r in state.ordered()] == [j.id for j in jobs]
    running = jobs[0].id
    state.apply(event(running, 5, t.Finished(t.JobState.SUCCEEDED)))
    assert state.ordered()[-1].job_id == running and state.active_ids()[0] == jobs[1].id


def test_queue_state_coalesces_changes_until_taken() -> None:
    job = sample_jobs()[0]
    state = QueueState()
    state.replace_active([job])
    assert state.take_dirty() == (True, {job.id})
    for step in range(1, 10):
        state.apply(event(job.id, step, t.Progress(step, 20), time=float(step)))
    assert state.take_dirty() == (False, {job.id})
    assert state.take_dirty() == (False, set())
    assert state.rows[job.id].step == 9 and state.rows[job.id].sec_per_step == pytest.approx(1.0)


def test_events_for_jobs_never_listed_are_ignored() -> None:
    state = QueueState()
    state.apply(event("nobody-knows", 1, t.Progress(1, 2)))
    state.apply(event("nobody-knows", 2, t.Output("o", "nobody-knows", 0, 1, 8, 8, "/x.png", "", 1)))
    state.watch_ended("nobody-knows")
    assert state.ordered() == [] and state.take_dirty() == (True, set())


def test_a_job_that_vanished_without_ending_goes_when_its_watch_stops() -> None:
    job = sample_jobs()[1]
    state = QueueState()
    state.replace_active([job])
    state.replace_active([])
    assert state.active_ids() == [job.id]  # its Watch stream may still say how it ended
    state.watch_ended(job.id)
    assert state.active_ids() == []


def test_cells() -> None:
    running = JobProgress("j", state=t.JobState.RUNNING, step=5, total=20, sec_per_step=0.5)
    assert cells.progress_cell(running).plain == "█░░░░ 25%"
    assert cells.progress_cell(running, steps=True).plain == "█░░░░ 5/20"
    assert cells.eta_cell(running) == "7.5s"
    assert cells.progress_cell(JobProgress("j", position=2)).plain == "waiting #2"
    assert cells.eta_cell(JobProgress("j")) == "-"
    assert next_priority(t.Priority.NORMAL, 1) is t.Priority.HIGH
    assert next_priority(t.Priority.HIGH, 1) is None and next_priority(t.Priority.LOW, -1) is None


def test_form_values_become_a_spec_or_name_the_wrong_field() -> None:
    spec = spec_from_form(FormValues("  a fox ", size="64x64", steps="2", seed="7", count="2", sampler="euler",
                                     priority="high", model="tiny-sd"))
    assert spec.task == t.Txt2Img("a fox", width=64, height=64, steps=2, seed=7, count=2, scheduler="euler")
    assert spec.priority is t.Priority.HIGH and spec.model == "tiny-sd" and spec.request_id
    assert spec_from_form(FormValues("x")).task == t.Txt2Img("x")
    for values, field in ((FormValues(" "), "prompt"), (FormValues("x", size="63x64"), "size"),
                          (FormValues("x", steps="0"), "steps"), (FormValues("x", seed="-1"), "seed")):
        with pytest.raises(FormError, match=f"^{field}:"):
            spec_from_form(values)


def test_rerun_keeps_the_recorded_seed_and_clears_the_request_id() -> None:
    job = next(j for j in sample_jobs() if j.outputs)
    spec = rerun_spec(job)
    assert spec.request_id == "" and spec.task.seed == job.spec.task.seed and spec.task.prompt == job.spec.task.prompt


def test_backoff_doubles_up_to_its_limit_and_resets() -> None:
    backoff = Backoff(0.5, 4.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_the_device_panel_says_cpu_when_there_is_no_gpu() -> None:
    cpu = t.Device("Intel Xeon", "cpu", 0, 16 * 1024**3, 4 * 1024**3)
    text = device_text(cpu, busy=True, samples=[], width=40).plain
    assert text.startswith("CPU Intel Xeon") and "4.0/16.0 GiB" in text
    assert "not reported" in text and "worker busy" in text and "°C" not in text
    gpu = sample_status().devices[0]
    assert "CUDA 0" in device_text(gpu, busy=False, samples=[0, 50, 100], width=40).plain
    assert sparkline([0, 50, 100], 10) == "▁▅█" and sparkline([0, 20, 70, 80, 100], 3) == "▆▇█"

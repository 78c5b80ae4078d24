"""Queue order and cancellation through a real daemon."""

from __future__ import annotations

import asyncio

import pytest

from imagine import errors
from imagine import types as t
from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.jobs_helpers import events_until_end, spec, wait_for_progress

pytestmark = pytest.mark.asyncio(loop_scope="module")

LONG = {"steps": 150, "width": 256, "height": 256}  # about 4 s here: long enough to act mid-run  # long enough to be caught mid-run


async def start_order(daemon: DaemonProcess, job_ids: list[str]) -> list[str]:
    async with daemon.client() as client:
        for job_id in job_ids:
            await events_until_end(client, job_id)
        jobs = [await client.get(job_id) for job_id in job_ids]
    assert all(j.state == t.JobState.SUCCEEDED for j in jobs)
    return [j.id for j in sorted(jobs, key=lambda j: j.started_at or 0)]


async def test_higher_priority_runs_first(daemon: DaemonProcess) -> None:
    async with daemon.client("prio") as client:
        await client.pause_queue()
        try:
            low = (await client.submit(spec("low", priority=t.Priority.LOW))).job.id
            normal = (await client.submit(spec("normal"))).job.id
            high = (await client.submit(spec("high", priority=t.Priority.HIGH))).job.id
        finally:
            await client.resume_queue()
    assert await start_order(daemon, [low, normal, high]) == [high, normal, low]


async def test_owners_take_turns(daemon: DaemonProcess) -> None:
    async with daemon.client("alice") as alice, daemon.client("bob") as bob:
        await alice.pause_queue()
        try:
            a = [(await alice.submit(spec(f"alice {i}"))).job.id for i in range(3)]
            b = [(await bob.submit(spec(f"bob {i}"))).job.id for i in range(2)]
        finally:
            await alice.resume_queue()
    assert await start_order(daemon, a + b) == [a[0], b[0], a[1], b[1], a[2]]


async def test_raising_priority_of_a_queued_job_moves_it_ahead(daemon: DaemonProcess) -> None:
    async with daemon.client("mover") as client:
        await client.pause_queue()
        try:
            first = (await client.submit(spec("first"))).job.id
            second = (await client.submit(spec("second"))).job.id
            moved = await client.set_priority(second, t.Priority.HIGH)
            assert moved.queue_position == 1 and moved.spec.priority == t.Priority.HIGH
        finally:
            await client.resume_queue()
    assert await start_order(daemon, [first, second]) == [second, first]


async def test_cancel_running_job_stops_between_steps(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        job_id = (await client.submit(spec(**LONG))).job.id
        await wait_for_progress(client, job_id, 2)
        await client.cancel(job_id)
        events = await events_until_end(client, job_id)
        job = await client.get(job_id)
    assert job.state == t.JobState.CANCELLED
    assert isinstance(events[-1].kind, t.Finished) and events[-1].kind.state == t.JobState.CANCELLED
    assert job.outputs == ()
    with pytest.raises(errors.FailedPrecondition):
        async with daemon.client() as client:
            await client.set_priority(job_id, t.Priority.HIGH)


async def test_cancel_queued_job_never_runs_it(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        await client.pause_queue()
        try:
            job_id = (await client.submit(spec())).job.id
            cancelled = await client.cancel(job_id)
        finally:
            await client.resume_queue()
        assert cancelled.state == t.JobState.CANCELLED and cancelled.attempts == 0
        await asyncio.sleep(0.5)
        assert (await client.get(job_id)).started_at is None


async def test_timeout_fails_a_job_that_runs_too_long(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        job_id = (await client.submit(spec(timeout_seconds=1, **LONG))).job.id
        await events_until_end(client, job_id)
        job = await client.get(job_id)
    assert job.state == t.JobState.FAILED and "timeout" in job.error


async def test_delete_removes_a_finished_job_and_its_files(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        job_id = (await client.submit(spec())).job.id
        await events_until_end(client, job_id)
        job = await client.get(job_id)
        await client.delete(job_id)
        with pytest.raises(errors.NotFound):
            await client.get(job_id)
    import os

    assert not os.path.exists(job.outputs[0].path)

"""kill -9 of the daemon or of its worker loses no accepted job."""

from __future__ import annotations

import os
import signal

import pytest

from imagine import types as t
from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.jobs_helpers import events_until_end, spec, wait_for_progress, wait_until

LONG = {"steps": 150, "width": 256, "height": 256}  # about 4 s here: long enough to act mid-run


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def worker_pid(daemon: DaemonProcess) -> int:
    async with daemon.client() as client:
        status = await client.status()
    return status.workers[0].pid


async def test_kill9_of_the_daemon_loses_no_job(fresh_daemon: DaemonProcess) -> None:
    await fresh_daemon.start()
    async with fresh_daemon.client() as client:
        running = (await client.submit(spec("running", **LONG))).job.id
        queued = [(await client.submit(spec(f"queued {i}"))).job.id for i in range(3)]
        await wait_for_progress(client, running, 2)
    old_worker = await worker_pid(fresh_daemon)
    fresh_daemon.kill9()
    await wait_until(_async(lambda: not alive(old_worker)), timeout=10)  # the worker follows its daemon

    await fresh_daemon.start()
    async with fresh_daemon.client() as client:
        for job_id in [running, *queued]:
            await events_until_end(client, job_id)
        jobs = [await client.get(job_id) for job_id in [running, *queued]]
    assert [j.state for j in jobs] == [t.JobState.SUCCEEDED] * 4
    assert jobs[0].attempts == 2
    assert all(len(j.outputs) == 1 and os.path.exists(j.outputs[0].path) for j in jobs)


async def test_kill9_of_the_worker_retries_the_job_on_a_new_worker(fresh_daemon: DaemonProcess) -> None:
    await fresh_daemon.start()
    async with fresh_daemon.client() as client:
        job_id = (await client.submit(spec("survivor", **LONG))).job.id
        await wait_for_progress(client, job_id, 2)
        first_worker = await worker_pid(fresh_daemon)
        os.kill(first_worker, signal.SIGKILL)
        events = await events_until_end(client, job_id)
        job = await client.get(job_id)
        status = await client.status()
    assert job.state == t.JobState.SUCCEEDED and job.attempts == 2
    assert any(isinstance(e.kind, t.Started) and e.kind.attempt == 2 for e in events)
    assert status.workers[0].pid != first_worker and status.workers[0].restarts == 1
    assert fresh_daemon.proc is not None and fresh_daemon.proc.poll() is None


async def test_a_job_that_kills_the_worker_twice_fails_with_the_reason(fresh_daemon: DaemonProcess) -> None:
    await fresh_daemon.start()
    async with fresh_daemon.client() as client:
        job_id = (await client.submit(spec("doomed", **LONG))).job.id
        for attempt in (1, 2):
            await wait_until(_started_attempt(client, job_id, attempt))
            await wait_for_progress(client, job_id, 1)
            os.kill(await worker_pid(fresh_daemon), signal.SIGKILL)
        await events_until_end(client, job_id)
        job = await client.get(job_id)
        follow_up = (await client.submit(spec("after the storm"))).job.id
        await events_until_end(client, follow_up)
        assert (await client.get(follow_up)).state == t.JobState.SUCCEEDED
    assert job.state == t.JobState.FAILED
    assert "died 2 times" in job.error and "SIGKILL" in job.error


def _async(predicate):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return bool(predicate())

    return check


def _started_attempt(client, job_id: str, attempt: int):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        job = await client.get(job_id)
        return job.state == t.JobState.RUNNING and job.attempts == attempt

    return check

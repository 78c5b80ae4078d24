"""Dynamic batching through a real daemon: compatible queued jobs run as one pipeline call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from imagine import types as t
from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.jobs_helpers import pixels, run_to_end, spec

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def batching_daemon(tmp_path_factory: pytest.TempPathFactory, shared_models_dir: Path) -> AsyncIterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path_factory.mktemp("data"), shared_models_dir, env={"IMAGINED_MAX_BATCH_SIZE": "3"})
    await proc.start()
    yield proc
    proc.stop()


async def test_compatible_jobs_run_together_and_give_the_images_they_give_alone(batching_daemon: DaemonProcess) -> None:
    owners = ["ann", "ben", "cat", "dan"]
    specs = [spec(f"a lighthouse number {i}", seed=100 + i, steps=3) for i in range(4)]
    odd_one = spec("a boat", seed=5, steps=3, width=48)  # another size: never in their batch
    async with batching_daemon.client() as control:
        await control.pause_queue()
        try:
            ids = []
            for owner, job_spec in zip(owners, specs):
                async with batching_daemon.client(owner) as client:
                    ids.append((await client.submit(job_spec)).job.id)
            odd = (await control.submit(odd_one)).job.id
            streams = {job_id: control.watch(job_id) for job_id in [*ids, odd]}
            for stream in streams.values():
                assert isinstance((await anext(stream)).kind, t.Snapshot)  # watching before anything runs
        finally:
            await control.resume_queue()
        batch_sizes = {}
        for job_id, stream in streams.items():
            events = [event async for event in stream]
            started = [e.kind for e in events if isinstance(e.kind, t.Started)]
            batch_sizes[job_id] = started[-1].batch_size if started else None
            assert isinstance(events[-1].kind, t.Finished) and events[-1].kind.state == t.JobState.SUCCEEDED
        batched = [await control.get(job_id) for job_id in ids]
        alone = [await run_to_end(control, job_spec) for job_spec in specs[:3]]  # nothing queued: each runs alone
        batched_pixels = [pixels(await control.read_output(j.outputs[0].id)).astype(int) for j in batched[:3]]
        alone_pixels = [pixels(await control.read_output(j.outputs[0].id)).astype(int) for j in alone]
    assert sorted(batch_sizes[i] for i in ids) == [1, 3, 3, 3]  # at most 3 together; the fourth after them
    assert batch_sizes[odd] == 1
    assert all(len(j.outputs) == 1 and j.outputs[0].seed == s.task.seed for j, s in zip(batched, specs))
    for together, by_itself in zip(batched_pixels, alone_pixels):
        assert np.array_equal(together, by_itself)  # batch-invariant kernels: see models/kernels.py

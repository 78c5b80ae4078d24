"""Small helpers for end-to-end tests: build specs, run jobs to the end, read PNGs."""

from __future__ import annotations

import asyncio
import io

import numpy as np
from PIL import Image

from imagine import types as t
from imagine.client import Client


def spec(prompt: str = "a lighthouse at dusk", **task: object) -> t.JobSpec:
    priority = task.pop("priority", t.Priority.NORMAL)
    request_id = str(task.pop("request_id", ""))
    timeout = int(task.pop("timeout_seconds", 0))  # type: ignore[call-overload]
    defaults: dict[str, object] = {"width": 64, "height": 64, "steps": 2}
    return t.JobSpec(
        t.Txt2Img(prompt, **(defaults | task)),  # type: ignore[arg-type]
        priority=priority,  # type: ignore[arg-type]
        request_id=request_id,
        timeout_seconds=timeout,
    )


async def events_until_end(client: Client, job_id: str, after_seq: int = 0, timeout: float = 120) -> list[t.JobEvent]:
    async def collect() -> list[t.JobEvent]:
        return [event async for event in client.watch(job_id, after_seq)]

    return await asyncio.wait_for(collect(), timeout)


async def run_to_end(client: Client, job_spec: t.JobSpec, timeout: float = 120) -> t.Job:
    submitted = await client.submit(job_spec)
    await events_until_end(client, submitted.job.id, timeout=timeout)
    return await client.get(submitted.job.id)


async def wait_for_progress(client: Client, job_id: str, min_step: int, timeout: float = 120) -> None:
    async def wait() -> None:
        async for event in client.watch(job_id):
            if isinstance(event.kind, t.Progress) and event.kind.step >= min_step:
                return
            if isinstance(event.kind, t.Finished):
                raise AssertionError(f"job {job_id} ended before step {min_step}: {event.kind}")

    await asyncio.wait_for(wait(), timeout)


async def wait_until(predicate_coro, timeout: float = 120, interval: float = 0.2) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate_coro():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

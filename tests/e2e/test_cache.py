"""The worker's model cache through a real daemon: reuse, a budget that fits one model, keep-alive.

The second model is tiny-sd's own folder named by its path, which the cache treats as a
different source from the built-in name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imagine import types as t
from imagine.client import Client
from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.jobs_helpers import run_to_end, spec, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")

TINY_BYTES: dict[str, int] = {}  # tiny-sd's memory_bytes, as the first test measured it


def model_spec(model: str, seed: int = 1) -> t.JobSpec:
    job_spec = spec(f"a lighthouse for {Path(model).name}", seed=seed)
    return t.JobSpec(job_spec.task, model=model)


async def loaded(client: Client) -> dict[str, int]:
    return {m.name: m.memory_bytes for m in (await client.status()).loaded_models}


async def succeeded(client: Client, model: str, seed: int = 1) -> t.Job:
    job = await run_to_end(client, model_spec(model, seed))
    assert job.state == t.JobState.SUCCEEDED, job.error
    return job


async def test_second_job_on_a_loaded_model_loads_nothing(daemon: DaemonProcess) -> None:
    async with daemon.client("cache-reuse") as client:
        await succeeded(client, "tiny-sd")  # loaded now, whatever earlier tests did
        again = await succeeded(client, "tiny-sd", seed=2)
        assert again.timings.load_ms == 0.0
        sizes = await loaded(client)
        assert sizes.get("tiny-sd", 0) > 0
        TINY_BYTES["tiny-sd"] = sizes["tiny-sd"]


async def test_budget_for_one_model_evicts_and_reloads_in_lru_order(
    daemon: DaemonProcess, tmp_path: Path, shared_models_dir: Path
) -> None:
    if "tiny-sd" not in TINY_BYTES:  # run alone: measure it first
        await test_second_job_on_a_loaded_model_loads_nothing(daemon)
    budget = int(TINY_BYTES["tiny-sd"] * 1.5)
    small = DaemonProcess(tmp_path / "data", shared_models_dir, env={"IMAGINED_MEMORY_BUDGET_BYTES": str(budget)})
    other = str(shared_models_dir / "tiny-sd")  # the same files, another source
    try:
        await small.start()
        async with small.client("cache-lru") as client:
            for model in ["tiny-sd", other, "tiny-sd", other]:
                job = await succeeded(client, model)
                assert job.timings.load_ms > 0.0, f"{model} should have been evicted and loaded again"
                assert set(await loaded(client)) == {model}
            job = await succeeded(client, other, seed=3)  # the one that is loaded stays loaded
            assert job.timings.load_ms == 0.0
        assert "more than the whole memory budget" not in small.log.read_text()
    finally:
        small.stop()


async def test_keep_alive_unloads_an_idle_model(tmp_path: Path, shared_models_dir: Path) -> None:
    short = DaemonProcess(tmp_path / "data", shared_models_dir, env={"IMAGINED_KEEP_ALIVE_SECONDS": "1"})
    try:
        await short.start()
        async with short.client("cache-keep-alive") as client:
            await succeeded(client, "tiny-sd")
            # the keep-alive of 1 s starts when the job ends, checked every second: gone within ~2 s
            assert "tiny-sd" in await loaded(client) or "idle for its keep-alive" in short.log.read_text()

            async def unloaded() -> bool:
                return "tiny-sd" not in await loaded(client)

            await wait_until(unloaded, timeout=15, interval=0.2)
            job = await succeeded(client, "tiny-sd", seed=5)
            assert job.timings.load_ms > 0.0  # it had to be loaded again
        assert "idle for its keep-alive of 1 s" in short.log.read_text()
    finally:
        short.stop()

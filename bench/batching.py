"""Dynamic batching on vs off, measured side by side through real daemons.

    python bench/batching.py [--jobs 8] [--rounds 3] [--batch 4] [--steps 8] [--size 64]

Two daemons share one model store: one batches up to --batch compatible jobs into
one pipeline call, the other runs every job alone (max_batch_size=1). Each round
queues the same --jobs compatible tiny-sd jobs (same size, steps, sampler and
guidance; own prompts and seeds, from different owners) on one daemon while its
queue is paused, resumes it and times until the last job finished; the daemons
take turns, round after round. Prints jobs per second for each and, as the last
line, ratio=<batched/alone>.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from harness import finish, running_daemon  # bench/ is on the path when run as a script

from imagine import types as t
from imagine.client import Client


def job_specs(jobs: int, steps: int, size: int, round_: int) -> list[t.JobSpec]:
    return [
        t.JobSpec(
            t.Txt2Img(f"a lighthouse at dusk, study {i}", width=size, height=size, steps=steps, seed=1000 * round_ + i,
                      scheduler="euler", guidance=7.0)
        )
        for i in range(jobs)
    ]


async def one_round(target: str, specs: list[t.JobSpec]) -> float:
    """Seconds from resuming a queue holding `specs` until the last of them finished."""
    async with Client(target) as control:
        await control.pause_queue()
        ids = []
        for i, spec in enumerate(specs):
            async with Client(target, on_behalf_of=f"bench-user-{i}") as client:
                ids.append((await client.submit(spec)).job.id)
        start = time.perf_counter()
        await control.resume_queue()
        for job_id in ids:
            await finish(control, job_id)
        return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=8, help="jobs per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4, help="max_batch_size of the batching daemon")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="imbatch", dir="/tmp"))
    models_dir = work / "models"
    batched_env = {"IMAGINED_MAX_BATCH_SIZE": str(args.batch)}
    with running_daemon(work, "batched", models_dir, batched_env) as batched, running_daemon(
        work, "alone", models_dir, {"IMAGINED_MAX_BATCH_SIZE": "1"}
    ) as alone:
        for target in (batched, alone):
            async with Client(target) as client:
                await client.wait_ready(timeout=300)
            await one_round(target, job_specs(2, args.steps, args.size, 99))  # build and load tiny-sd: warm
        times: dict[str, list[float]] = {"batched": [], "alone": []}
        for round_ in range(args.rounds):
            specs = job_specs(args.jobs, args.steps, args.size, round_)
            times["batched"].append(await one_round(batched, specs))
            times["alone"].append(await one_round(alone, specs))
    rate = {name: args.jobs / statistics.median(seconds) for name, seconds in times.items()}
    print(f"tiny-sd {args.size}x{args.size}, {args.steps} steps, {args.jobs} jobs x {args.rounds} rounds, median:")
    print(f"  batched (up to {args.batch})  {rate['batched']:7.2f} jobs/s")
    print(f"  one job at a time   {rate['alone']:7.2f} jobs/s")
    print(f"ratio={rate['batched'] / rate['alone']:.3f}")


if __name__ == "__main__":
    asyncio.run(main())

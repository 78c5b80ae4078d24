"""What the daemon costs over calling diffusers directly, measured side by side.

    python bench/overhead.py [--runs 20] [--steps 4] [--size 64]

Runs the same tiny-sd job (same prompt, seed, size, steps, sampler) alternately
(a) in this process straight through the diffusers pipeline, saving the PNG, and
(b) through a real daemon on a temporary socket, from Generate (submit and
watch in one call) until the job's
last output is written (the Finished event). Both are warm: the model is loaded
before timing starts. Prints the medians and, as the last line, ratio=<b/a>.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from imagine import types as t  # noqa: E402
from harness import running_daemon  # noqa: E402  (bench/ is on the path when run as a script)
from imagine.client import Client  # noqa: E402
from models.kernels import batch_invariant_kernels  # noqa: E402
from models.loading import load_pipeline  # noqa: E402
from models.sources import resolve_model  # noqa: E402

PROMPT = "a lighthouse at dusk"


def direct_runner(models_dir: Path, out_dir: Path, steps: int, size: int):  # type: ignore[no-untyped-def]
    pipe = load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))
    from models.samplers import make_scheduler

    pipe.scheduler = make_scheduler("euler", pipe.scheduler.config)

    def run(i: int) -> float:
        start = time.perf_counter()
        with batch_invariant_kernels():  # the kernels the worker uses, so both sides compute the same way
            image = pipe(
                PROMPT,
                num_inference_steps=steps,
                width=size,
                height=size,
                guidance_scale=7.0,
                generator=torch.Generator("cpu").manual_seed(1234),
            ).images[0]
        image.save(out_dir / f"direct-{i}.png")
        return time.perf_counter() - start

    return run


async def daemon_run(client: Client, steps: int, size: int) -> float:
    spec = t.JobSpec(t.Txt2Img(PROMPT, width=size, height=size, steps=steps, seed=1234, scheduler="euler", guidance=7.0))
    start = time.perf_counter()
    async for event in client.generate(spec):
        if isinstance(event.kind, t.Finished):
            if event.kind.state != t.JobState.SUCCEEDED:
                raise SystemExit(f"daemon job failed: {event.kind.error}")
            break
    return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="imb", dir="/tmp"))
    models_dir = work / "models"
    with running_daemon(work, "data", models_dir) as target:
        async with Client(target) as client:
            await client.wait_ready(timeout=300)
            await daemon_run(client, args.steps, args.size)  # builds tiny-sd and loads it in the worker
            run_direct = direct_runner(models_dir, work, args.steps, args.size)
            run_direct(-1)
            direct, served = [], []
            for i in range(args.runs):
                direct.append(run_direct(i))
                served.append(await daemon_run(client, args.steps, args.size))
    d, s = statistics.median(direct), statistics.median(served)
    print(f"tiny-sd {args.size}x{args.size}, {args.steps} steps, {args.runs} runs each, medians:")
    print(f"  direct diffusers  {d * 1000:8.1f} ms")
    print(f"  through daemon    {s * 1000:8.1f} ms  (+{(s - d) * 1000:.1f} ms)")
    print(f"ratio={s / d:.3f}")


if __name__ == "__main__":
    asyncio.run(main())

"""Dynamic batching measured directly on the pipeline: N compatible tiny-sd jobs one after another vs as one call.

    python bench/batching_direct.py [--jobs 8] [--size 64] [--steps 8] [--exact true|false]

Each job has its own prompt and seed. (a) generate() per job, (b) generate_batch() over all jobs;
both warm (the model is loaded and each path ran once before timing). Also checks that every image
is the same bit for bit either way and prints the largest pixel difference. --exact false uses
oneDNN's convolutions (faster, but batched images may differ from single runs in the last bits).
Last line: ratio=<batched images/s over sequential images/s>.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from models.builtin import ensure_builtin  # noqa: E402
from models.generate import generate, generate_batch  # noqa: E402
from models.kernels import use_batch_invariant_kernels  # noqa: E402
from models.loading import load_pipeline  # noqa: E402
from models.params import GenerateParams  # noqa: E402
from models.sources import resolve_model  # noqa: E402

PROMPTS = ["a lighthouse at dusk", "a red barn in snow", "portrait of a cat", "a city at night"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--exact", choices=["true", "false"], default="true")
    args = parser.parse_args()
    use_batch_invariant_kernels(args.exact == "true")

    with tempfile.TemporaryDirectory() as tmp:
        models_dir = Path(tmp)
        ensure_builtin("tiny-sd", models_dir)
        pipe = load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))
        base = GenerateParams("", "", args.size, args.size, args.steps, 7.0, 0, 1, "euler_a")
        jobs = [replace(base, prompt=PROMPTS[i % len(PROMPTS)], seed=1000 + i) for i in range(args.jobs)]

        def sequential() -> list[np.ndarray]:
            return [np.asarray(generate(pipe, job, lambda d, t: None, lambda: False)[0]) for job in jobs]

        def batched() -> list[np.ndarray]:
            results = generate_batch(pipe, jobs, lambda j, d, t: None, lambda j: False)
            return [np.asarray(images[0]) for images in results]

        sequential(), batched()  # warm-up
        started = time.perf_counter()
        one_by_one = sequential()
        sequential_s = time.perf_counter() - started
        started = time.perf_counter()
        together = batched()
        batched_s = time.perf_counter() - started

    worst = max(int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in zip(one_by_one, together, strict=True))
    print(f"{args.jobs} jobs of {args.size}x{args.size}, {args.steps} steps, euler_a, exact kernels: {args.exact}")
    print(f"sequential: {sequential_s:.2f} s = {args.jobs / sequential_s:.2f} images/s")
    print(f"batched:    {batched_s:.2f} s = {args.jobs / batched_s:.2f} images/s")
    print(f"largest pixel difference batched vs sequential: {worst}")
    print(f"ratio={sequential_s / batched_s:.2f}")


if __name__ == "__main__":
    main()

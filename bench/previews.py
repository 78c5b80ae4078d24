"""What one live preview costs: the latent-to-RGB projection and PNG encoding, per preview.

    python bench/previews.py [--repeats 200]

Times preview_png on the latents of a 512x512 SD image (4x64x64) and a 1024x1024 SDXL image
(4x128x128), and, side by side, one tiny-sd denoising step at 512x512 for scale. Prints the
median milliseconds of each; last line: ratio=<preview ms at 512 over one tiny-sd step ms>.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from models.builtin import ensure_builtin  # noqa: E402
from models.generate import generate  # noqa: E402
from models.loading import load_pipeline  # noqa: E402
from models.params import GenerateParams  # noqa: E402
from models.previews import latent_projection, preview_png  # noqa: E402
from models.sources import resolve_model  # noqa: E402


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        models_dir = Path(tmp)
        ensure_builtin("tiny-sd", models_dir)
        pipe = load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))
        projection = latent_projection(pipe)
        sd_latents, sdxl_latents = torch.randn(4, 64, 64), torch.randn(4, 128, 128)
        sd_ms = median_ms(lambda: preview_png(sd_latents, *projection), args.repeats)
        sdxl_ms = median_ms(lambda: preview_png(sdxl_latents, *projection), args.repeats)
        job = GenerateParams("a lighthouse at dusk", "", 512, 512, 4, 7.0, 1, 1, "euler")
        four_steps = median_ms(lambda: generate(pipe, job, lambda d, t: None, lambda: False), 3)
    step_ms = four_steps / 4  # includes a share of text encoding and the VAE decode: an upper bound
    print(f"preview of a 512x512 image (64x64 latents -> 64x64 PNG):   {sd_ms:.2f} ms")
    print(f"preview of a 1024x1024 image (128x128 latents -> 128x128 PNG): {sdxl_ms:.2f} ms")
    print(f"one tiny-sd step at 512x512 (4-step job / 4):              {step_ms:.1f} ms")
    print(f"ratio={sd_ms / step_ms:.5f}")


if __name__ == "__main__":
    main()

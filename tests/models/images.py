"""Running tiny pipelines cheaply in tests and comparing what they make."""

from typing import Any

import numpy as np
import torch


def render(
    pipe: Any, prompt: str = "a lighthouse at dusk", seed: int = 7, size: int | None = 64, **kwargs: Any
) -> np.ndarray:
    """One image as an int array: 2 steps, a fixed seed, size x size (None: the pipeline takes no size)."""
    kwargs.setdefault("num_inference_steps", 2)
    if size is not None:
        kwargs.update(width=size, height=size)
    with torch.inference_mode():
        image = pipe(prompt=prompt, generator=torch.Generator().manual_seed(seed), output_type="pil", **kwargs).images[
            0
        ]
    return np.asarray(image).astype(np.int32)


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())

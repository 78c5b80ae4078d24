"""Which ONNX Runtime execution providers a session gets, best first; no onnxruntime import needed to decide."""

from collections.abc import Sequence
from pathlib import Path

PREFERRED_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
GPU_PROVIDERS = frozenset(PREFERRED_PROVIDERS[:2])


def choose_providers(available: Sequence[str], device: str = "auto") -> list[str]:
    """TensorRT, then CUDA, then CPU, keeping those `available` has; device "cpu" keeps the CPU only.

    The CPU provider always ends the list (ONNX Runtime always has it) so nodes a GPU provider cannot run fall back.
    """
    allow_gpu = device.strip().lower() != "cpu"
    chosen = [p for p in PREFERRED_PROVIDERS if p in available and (allow_gpu or p not in GPU_PROVIDERS)]
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


def gpu_index(device: str) -> int:
    """The GPU number in "cuda:N" (0 for "auto" or "cuda")."""
    _, _, number = device.partition(":")
    return int(number) if number.isdigit() else 0


def provider_options(provider: str, device: str, cache_dir: Path) -> dict[str, str | int | bool]:
    """Options for one provider: the GPU to use, and for TensorRT an engine cache beside the model, since
    building a TensorRT engine takes minutes and would otherwise happen every time the model loads."""
    if provider == "CPUExecutionProvider":
        return {}
    options: dict[str, str | int | bool] = {"device_id": gpu_index(device)}
    if provider == "TensorrtExecutionProvider":
        options.update(trt_engine_cache_enable=True, trt_engine_cache_path=str(cache_dir), trt_timing_cache_enable=True)
    return options

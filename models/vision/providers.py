"""Which ONNX Runtime execution providers a session gets, best first; no onnxruntime import needed to decide."""

from collections.abc import Sequence

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

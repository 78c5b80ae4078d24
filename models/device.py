"""Choosing the torch device to run on and describing it."""

import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from models.errors import DeviceUnavailable, InvalidParameter

_CUDA_PATTERN = re.compile(r"cuda(?::(\d+))?")


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    kind: str
    index: int
    memory_total: int
    memory_used: int
    utilisation: float | None
    temperature_c: float | None


def _mps_available() -> bool:
    return bool(torch.backends.mps.is_available())


def select_device(preference: str = "auto") -> torch.device:
    """Turn "auto", "cpu", "mps", "cuda" or "cuda:N" into a device that exists here."""
    choice = preference.strip().lower()
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", 0)
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "mps":
        if not _mps_available():
            raise DeviceUnavailable(
                "device 'mps' was requested but Apple MPS is not available on this machine; use --device cpu or auto"
            )
        return torch.device("mps")
    match = _CUDA_PATTERN.fullmatch(choice)
    if match is None:
        raise InvalidParameter(
            "device", f"unknown device '{preference}'; use auto, cpu, mps, cuda or cuda:N (N = GPU index)"
        )
    index = int(match.group(1) or 0)
    if not torch.cuda.is_available():
        raise DeviceUnavailable(
            f"device '{preference}' was requested but CUDA is not available on this machine "
            "(no NVIDIA GPU, driver or CUDA-enabled torch); use --device cpu or auto"
        )
    count = torch.cuda.device_count()
    if index >= count:
        raise DeviceUnavailable(
            f"device '{preference}' was requested but this machine has {count} CUDA device(s), "
            f"numbered 0 to {count - 1}; pick one of those"
        )
    return torch.device("cuda", index)


def preferred_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == "cuda" else torch.float32


def describe_device(device: torch.device) -> DeviceInfo:
    if device.type == "cuda":
        return _describe_cuda(device)
    if device.type == "mps":
        return _describe_mps()
    return _describe_cpu()


def _describe_cuda(device: torch.device) -> DeviceInfo:
    index = device.index if device.index is not None else torch.cuda.current_device()
    free, total = torch.cuda.mem_get_info(index)
    utilisation: float | None
    temperature: float | None
    try:  # these two need pynvml, which is optional
        utilisation = float(torch.cuda.utilization(index))
    except Exception:
        utilisation = None
    try:
        temperature = float(torch.cuda.temperature(index))
    except Exception:
        temperature = None
    return DeviceInfo(
        name=torch.cuda.get_device_name(index),
        kind="cuda",
        index=index,
        memory_total=total,
        memory_used=total - free,
        utilisation=utilisation,
        temperature_c=temperature,
    )


def _describe_mps() -> DeviceInfo:
    return DeviceInfo(
        name="Apple MPS",
        kind="mps",
        index=0,
        memory_total=int(torch.mps.recommended_max_memory()),
        memory_used=int(torch.mps.current_allocated_memory()),
        utilisation=None,
        temperature_c=None,
    )


def _describe_cpu() -> DeviceInfo:
    total, used = _cpu_memory()
    return DeviceInfo(
        name=_cpu_name(),
        kind="cpu",
        index=0,
        memory_total=total,
        memory_used=used,
        utilisation=_cpu_utilisation(),
        temperature_c=None,
    )


def _read_proc(name: str) -> str:
    try:
        return Path("/proc", name).read_text()
    except OSError:
        return ""


def _cpu_name() -> str:
    for line in _read_proc("cpuinfo").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "CPU"


def _cpu_memory() -> tuple[int, int]:
    """(total, used) bytes; used is what is not available to new programs."""
    fields: dict[str, int] = {}
    for line in _read_proc("meminfo").splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            fields[key.strip()] = int(parts[0]) * 1024  # the values are in kB
    if "MemTotal" in fields and "MemAvailable" in fields:
        return fields["MemTotal"], fields["MemTotal"] - fields["MemAvailable"]
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), 0
    except (ValueError, OSError, AttributeError):
        return 0, 0


def _cpu_utilisation() -> float | None:
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return None
    return min(100.0, load / (os.cpu_count() or 1) * 100.0)

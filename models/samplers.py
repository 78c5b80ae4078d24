"""Sampler names users pick from, and the diffusers schedulers behind them.

Names, labels and checks need no torch; the scheduler classes (SAMPLERS, make_scheduler)
import diffusers on first use, so the daemon can validate jobs without loading it.
"""

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from models.errors import InvalidParameter

if TYPE_CHECKING:
    from diffusers.schedulers.scheduling_utils import SchedulerMixin

    SAMPLERS: dict[str, tuple[type[SchedulerMixin], dict[str, Any]]]

_NO_KARRAS: dict[str, Any] = {"use_karras_sigmas": False}
_DPMPP_2M: dict[str, Any] = {"algorithm_type": "dpmsolver++", "solver_order": 2}

# name -> (diffusers scheduler class name, extra config, AUTOMATIC1111's display name).
# Karras sigmas are switched off explicitly where a model's own scheduler config might turn them on,
# so that "euler" means the same thing for every model.
_SPECS: dict[str, tuple[str, dict[str, Any], str]] = {
    "euler": ("EulerDiscreteScheduler", _NO_KARRAS, "Euler"),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}, "Euler a"),
    "heun": ("HeunDiscreteScheduler", _NO_KARRAS, "Heun"),
    "dpm2": ("KDPM2DiscreteScheduler", _NO_KARRAS, "DPM2"),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {**_DPMPP_2M, "use_karras_sigmas": False}, "DPM++ 2M"),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {**_DPMPP_2M, "use_karras_sigmas": True}, "DPM++ 2M Karras"),
    "dpmpp_sde": ("DPMSolverSDEScheduler", _NO_KARRAS, "DPM++ SDE"),
    "ddim": ("DDIMScheduler", {}, "DDIM"),
    "unipc": ("UniPCMultistepScheduler", {}, "UniPC"),
    "lcm": ("LCMScheduler", {}, "LCM"),
    "pndm": ("PNDMScheduler", {}, "PNDM"),
}


@functools.cache
def _samplers() -> "dict[str, tuple[type[SchedulerMixin], dict[str, Any]]]":
    import diffusers

    return {name: (getattr(diffusers, cls), extra) for name, (cls, extra, _) in _SPECS.items()}


def __getattr__(name: str) -> Any:
    if name == "SAMPLERS":  # name -> (scheduler class, extra config kwargs), built on first access
        return _samplers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sampler_names() -> list[str]:
    return list(_SPECS)


def check_sampler(name: str) -> None:
    if name not in _SPECS:
        raise InvalidParameter("scheduler", f"unknown scheduler '{name}'; choose one of: {', '.join(_SPECS)}")


def sampler_label(name: str) -> str:
    """The AUTOMATIC1111 display name of a sampler, e.g. "Euler a" for euler_a."""
    check_sampler(name)
    return _SPECS[name][2]


def make_scheduler(
    name: str, base_config: Mapping[str, Any], noise_seeds: Sequence[int] | None = None
) -> "SchedulerMixin":
    """A fresh scheduler of the named kind that keeps the model's training settings from base_config.

    noise_seeds (one per image of the batch) seed the Brownian tree of dpmpp_sde, which otherwise draws
    its seed from torch's global generator; as a list, each image gets its own tree, so an image's noise
    is the same whether it runs alone or in a batch. Other samplers take their noise from the pipeline's
    generators and ignore it.
    """
    check_sampler(name)
    cls, extra = _samplers()[name]
    if name == "dpmpp_sde" and noise_seeds is not None:
        extra = {**extra, "noise_sampler_seed": list(noise_seeds)}
    scheduler: SchedulerMixin = cls.from_config(base_config, **extra)
    return scheduler

"""Everything that conditions a job beyond its prompt, applied around one pipeline call: VAE, LoRAs, ControlNets.

How generate() uses it, for every image of a job (or once per job around all of them):

    with conditioned(pipe, params, models_dir) as (pipeline, extra):
        if not extra:                       # no ControlNet: pipeline is the base pipe
            pipeline = derive_for_mode(pipeline, params.mode)  # img2img / inpaint via from_pipe, INSIDE the block
        use_sampler(pipeline, params.scheduler)
        pipeline(prompt=..., image=init, mask_image=mask, strength=..., **extra, ...)

- Derive the img2img/inpaint pipeline inside the block, from the pipeline it yields: the VAE
  override is swapped into the base pipe, and from_pipe shares the base pipe's modules as they are
  at that moment. (LoRA adapters live in the shared UNet and text encoders, so they are seen by any
  pipeline derived from the base pipe.)
- With ControlNets the yielded pipeline already is the ControlNet pipeline for params.mode
  (StableDiffusion[XL]ControlNet[Img2Img|Inpaint]Pipeline); do not derive another. `extra` then holds
  the control images and controlnet_conditioning_scale: for txt2img under `image`, for img2img and
  inpaint under `control_image` (`image` stays the init image).
- Everything is undone when the block ends (also on errors and cancellation): the model's own VAE
  is back and every LoRA is switched off, so the next plain job gives the plain result bit for bit.
- Errors: ModelError (a LoRA/VAE/ControlNet that cannot be loaded or does not fit the model) and
  InvalidParameter(field="loras"|"controlnets"|"vae"), each with a sentence to act on.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from models.controlnet import controlled
from models.lora import applied_loras
from models.params import GenerateParams
from models.vae import vae_override


@contextmanager
def conditioned(pipe: Any, params: GenerateParams, models_dir: Path) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Yield (pipeline to call, extra call kwargs) with params' VAE, LoRAs and ControlNets applied to pipe."""
    with vae_override(pipe, params.vae), applied_loras(pipe, params.loras):
        if not params.controlnets:
            yield pipe, {}
            return
        with controlled(
            pipe, params.controlnets, params.mode, params.width, params.height, models_dir
        ) as pipeline_and_kwargs:
            yield pipeline_and_kwargs

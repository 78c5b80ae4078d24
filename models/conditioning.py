"""Everything that conditions a job beyond its prompt, applied around its pipeline calls: VAE, LoRAs, ControlNets.

How the worker uses it with the generation core (models.generate):

    with cache.use(source) as (base, _load_ms), conditioned(base, params, models_dir) as (pipe, extra):
        images = generate(pipe, params, on_step, should_cancel, on_preview, extra_kwargs=extra)

- Without ControlNets, `pipe` is the base pipe itself and `extra` is {}: generate() derives the
  img2img / inpaint pipeline from it as it does for any job (pipeline_for passes a swapped VAE on).
- With ControlNets, `pipe` is already the ControlNet pipeline for params.mode
  (StableDiffusion[XL]ControlNet[Img2Img|Inpaint]Pipeline, made with from_pipe: every weight shared,
  the model's own scheduler), and `extra` holds the control maps at params.width x params.height
  plus controlnet_conditioning_scale; the maps go under `image` for txt2img and under
  `control_image` for img2img / inpaint, where `image` is the init image. generate() gives a pass
  in another mode or at another size (hires fix's img2img pass) controlnet.control_kwargs_for(extra,
  "img2img", width, height) instead of extra.
- LoRA adapters live in the UNet and text encoders that every derived pipeline shares, so they act
  in every pass. Batch only jobs with the same VAE, LoRAs (and weights) and ControlNets together.
- Everything is undone when the block ends, on errors and cancellation too: the model's own VAE is
  back and every LoRA is switched off, so the next plain job gives the plain result bit for bit.
- Errors: ModelError (a LoRA, VAE or ControlNet that is missing, unreadable or made for another model
  family) and InvalidParameter(field="loras" | "controlnets"), each with a sentence to act on.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from models import controlnet, vae
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


def forget_loaded_addons() -> int:
    """Drop the kept VAEs and ControlNets (not in use by a running job) to free device memory; returns how many.

    They sit outside the pipeline cache's budget, so call this where that cache frees memory (out of
    memory, unload all). LoRA adapters live inside their pipeline and go with it.
    """
    return vae.forget_loaded() + controlnet.forget_loaded()

"""Swapping a pipeline's VAE for one job: a VAE folder or a single-file VAE, loaded once and kept a while.

A single-file VAE (as shared on model sites, in the original layout) is read with the config of
the VAE it replaces, so nothing is fetched from the hub: an override must have the same
architecture as the model's own VAE anyway.
"""

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from diffusers import AutoencoderKL

from models.errors import ModelError
from models.lru import LoadedLRU

_cache: LoadedLRU[AutoencoderKL] = LoadedLRU(capacity=3)
VAE_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".bin")


def _config_json(vae: AutoencoderKL) -> str:
    return json.dumps(dict(vae.config), sort_keys=True, default=str)


def _read(path: Path, like: AutoencoderKL) -> AutoencoderKL:
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"VAE folder {path} has no config.json; point at a diffusers VAE folder or a VAE file")
        return AutoencoderKL.from_pretrained(path)
    if path.suffix.lower() not in VAE_SUFFIXES:
        raise ModelError(f"VAE file {path} is not a .safetensors or .ckpt file")
    with tempfile.TemporaryDirectory(prefix="vae-config-") as config:
        like.save_config(config)
        return AutoencoderKL.from_single_file(str(path), config=config)


def forget_loaded() -> int:
    """Drop every kept VAE; returns how many there were."""
    return _cache.clear()


def load_vae(path: Path, like: AutoencoderKL) -> AutoencoderKL:
    """The VAE at path on like's device and dtype; the last few loaded are kept.

    like is the VAE it will stand in for: a single file is read with its config.
    """
    path = path.expanduser().resolve()  # a model-store name links to the file it stands for
    if not path.exists():
        raise ModelError(f"VAE {path} does not exist; check the vae path or the model's VAE setting")
    key = (str(path), path.stat().st_mtime_ns, str(like.device), str(like.dtype), _config_json(like))
    return _cache.get_or_load(key, lambda: _load(path, like))


def _load(path: Path, like: AutoencoderKL) -> AutoencoderKL:
    try:
        vae = _read(path, like)
    except ModelError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelError(f"could not load VAE {path}: {exc}; check that it is a Stable Diffusion VAE") from exc
    _check_compatible(path, vae, like)
    return vae.to(device=like.device, dtype=like.dtype).eval()


def _check_compatible(path: Path, vae: AutoencoderKL, like: AutoencoderKL) -> None:
    for field in ("latent_channels", "block_out_channels"):
        ours, theirs = like.config.get(field), vae.config.get(field)
        if field == "block_out_channels":
            ours, theirs = len(ours or ()), len(theirs or ())  # the number of blocks sets the scale factor
        if ours != theirs:
            raise ModelError(
                f"VAE {path} does not fit this model: its {field} is {theirs} where the model's VAE has {ours}; "
                "use a VAE made for this model's family"
            )


@contextmanager
def vae_override(pipe: Any, vae_path: str) -> Iterator[Any]:
    """Run the block with pipe.vae replaced by the VAE at vae_path ("" = keep the model's own); restored after."""
    if not vae_path:
        yield pipe
        return
    own = pipe.vae
    pipe.vae = load_vae(Path(vae_path), own)
    try:
        yield pipe
    finally:
        pipe.vae = own

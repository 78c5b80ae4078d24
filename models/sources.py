"""Working out where a model the user named comes from, without loading anything."""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from models.builtin import BUILTIN_MODELS
from models.errors import ModelNotFound, ModelNotInstalled

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")
# org/name as the Hugging Face hub spells repo ids, optionally followed by @revision.
_HUB_REF = re.compile(r"(?P<repo>[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})(?:@(?P<revision>[\w./-]+))?")


@dataclass(frozen=True)
class ModelSource:
    name: str
    kind: str  # "builtin" | "folder" | "hub" | "single_file"
    location: str  # folder path, hub repo id or file path
    revision: str | None = None  # hub sources only; None means the default branch
    # single files only: a local diffusers folder of the same architecture whose configs (and tokenizers)
    # describe the checkpoint; "" = from_single_file finds them in the Hugging Face cache or on the hub
    config: str = ""


def _unknown(ref: str) -> ModelNotFound:
    return ModelNotFound(
        f"unknown model '{ref}': use a built-in name ({', '.join(BUILTIN_MODELS)}), a diffusers folder, "
        "a .safetensors file or a hub repo id such as org/name"
    )


def _local_source(ref: str, path: Path) -> ModelSource | None:
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ModelNotFound(
                f"folder '{path}' for model '{ref}' is not a diffusers model: a diffusers folder needs "
                "model_index.json; save it with save_pretrained or point at a .safetensors file instead"
            )
        return ModelSource(name=ref, kind="folder", location=str(path.resolve()))
    if path.is_file():
        if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
            raise ModelNotFound(
                f"file '{path}' for model '{ref}' is not a checkpoint: single-file models must end in "
                f"{' or '.join(SINGLE_FILE_SUFFIXES)}"
            )
        return ModelSource(name=ref, kind="single_file", location=str(path.resolve()))
    return None


def resolve_model(ref: str, models_dir: Path) -> ModelSource:
    """Classify what the user typed: a built-in name, a folder or file (as given or under models_dir), or a hub id."""
    if ref in BUILTIN_MODELS:
        return ModelSource(name=ref, kind="builtin", location=str(models_dir / ref))
    if not ref.strip():
        raise _unknown(ref)
    path = Path(ref).expanduser()
    for candidate in (path, models_dir / path):
        source = _local_source(ref, candidate)
        if source is not None:
            return source
    if path.suffix.lower() in SINGLE_FILE_SUFFIXES:
        raise ModelNotFound(f"model file '{ref}' does not exist; check the path")
    match = _HUB_REF.fullmatch(ref)
    if match is not None:
        return ModelSource(name=ref, kind="hub", location=match["repo"], revision=match["revision"])
    raise _unknown(ref)


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE is set, read now rather than when huggingface_hub was imported."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def check_hub_available(source: ModelSource) -> None:
    """Fail early, with advice, when a hub model cannot be loaded because it is not cached and we are offline."""
    if source.kind != "hub" or not hub_offline():
        return
    from huggingface_hub import try_to_load_from_cache  # imported here to keep resolving cheap

    cached = try_to_load_from_cache(source.location, "model_index.json", revision=source.revision)
    if not isinstance(cached, str):
        raise ModelNotInstalled(
            f"model '{source.name}' is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: "
            f"download it on a connected machine (huggingface-cli download {source.location}) and copy the cache "
            "here, or unset HF_HUB_OFFLINE so it can be downloaded"
        )

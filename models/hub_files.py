"""Which files of a hub repo a diffusers pipeline needs: configs, and one weights file per component."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

_WEIGHTS = re.compile(r"(?P<stem>[^./]+?)(?:\.(?P<variant>\w+))?(?:-\d{5}-of-\d{5})?\.(?P<ext>safetensors|bin)")
_SHARD_INDEX = re.compile(r"(?P<stem>[^./]+)\.(?P<ext>safetensors|bin)\.index(?:\.(?P<variant>\w+))?\.json")
_WEIGHT_PREFERENCE = (("fp16", "safetensors"), (None, "safetensors"), (None, "bin"), ("fp16", "bin"))
_CONFIG_SUFFIXES = (".json", ".txt", ".model")  # configs, tokenizer vocabularies and merges, sentencepiece models


def _components(index: Mapping[str, object]) -> list[str]:
    """The component folders model_index.json names, leaving out components set to null."""
    return sorted(
        key
        for key, value in index.items()
        if not key.startswith("_") and isinstance(value, list) and len(value) == 2 and value[0] and value[1]
    )


def _local_weights_name(name: str) -> str:
    """fp16 weights under their plain name, so a plain from_pretrained of the folder finds them.

    A safetensors file records each tensor's dtype, so the name carries no information the loader
    needs; shard files keep their names because the (renamed) index lists them.
    """
    single = _WEIGHTS.fullmatch(name)
    if single and single["variant"] and "-of-" not in name:
        return f"{single['stem']}.{single['ext']}"
    index = _SHARD_INDEX.fullmatch(name)
    if index and index["variant"]:
        return f"{index['stem']}.{index['ext']}.index.json"
    return name


def _pick_component(folder: str, names: list[str]) -> list[str]:
    """The configs of one component folder and one set of weights, best format first."""
    picked = [n for n in names if n.endswith(_CONFIG_SUFFIXES) and not _SHARD_INDEX.fullmatch(n)]
    for variant, ext in _WEIGHT_PREFERENCE:
        weights = [n for n in names if (m := _WEIGHTS.fullmatch(n)) and m["variant"] == variant and m["ext"] == ext]
        if weights:
            sharded = any("-of-" in n for n in weights)
            if not sharded:
                weights = weights[:1] if len(weights) == 1 else _prefer_standard(weights)
            indexes = [
                n for n in names if (m := _SHARD_INDEX.fullmatch(n)) and m["variant"] == variant and m["ext"] == ext
            ]
            return picked + weights + (indexes if sharded else [])
    return picked


def _prefer_standard(weights: list[str]) -> list[str]:
    for standard in ("diffusion_pytorch_model", "model", "pytorch_model"):
        chosen = [n for n in weights if n.split(".")[0] == standard]
        if chosen:
            return chosen[:1]
    return sorted(weights)[:1]


def select_pipeline_files(paths: Iterable[str], index: Mapping[str, object]) -> list[tuple[str, str]]:
    """(path in the repo, path on disk) for the files a diffusers pipeline needs out of a repo's listing.

    model_index.json, every component folder's configs and tokenizer files, and one set of weights
    per component (fp16 safetensors, else safetensors, else .bin; never two formats). Files outside
    the component folders (READMEs, images, single-file checkpoints) and ONNX/Flax/TF exports are left out.
    """
    by_folder: dict[str, list[str]] = {}
    for path in paths:
        parts = PurePosixPath(path).parts
        if len(parts) == 2:  # files directly inside a component folder; deeper ones are exports (onnx/, flax/...)
            by_folder.setdefault(parts[0], []).append(parts[1])
    chosen = [("model_index.json", "model_index.json")]
    for folder in _components(index):
        for name in sorted(_pick_component(folder, by_folder.get(folder, []))):
            chosen.append((f"{folder}/{name}", f"{folder}/{_local_weights_name(name)}"))
    return chosen



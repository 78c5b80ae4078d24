"""Telling what a local model file or folder is, from its configs and headers, without loading weights.

Reads JSON configs, safetensors headers (8 bytes of little-endian header length, then JSON) and
the member list and pickle opcodes of PyTorch zip archives; nothing is unpickled and torch is
never imported, so this is cheap enough to run on every file in a models folder.
"""

from __future__ import annotations

import json
import pickletools
import re
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from models.errors import ModelNotFound, UnknownModelLayout

EXPECTED_LAYOUTS = (
    "a diffusers pipeline folder (model_index.json), a component folder (config.json), "
    "a vision model folder (vision.json), or a .safetensors/.ckpt/.pt/.onnx file"
)
_MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors headers are JSON; real ones are well under this
_MAX_PICKLE_BYTES = 64 * 1024 * 1024
_SD_FAMILY = {
    "StableDiffusionPipeline",
    "StableDiffusionImg2ImgPipeline",
    "StableDiffusionInpaintPipeline",
    "LatentConsistencyModelPipeline",
}
_VAE_CLASSES = {"AutoencoderKL", "AutoencoderTiny", "ConsistencyDecoderVAE"}
_VAE_PREFIXES = {"encoder", "decoder", "quant_conv", "post_quant_conv"}
# kohya (lora_unet_, lora_te1_), peft (lora_A/B), diffusers' older naming (lora.down, lora_linear_layer.down)
_LORA_PREFIXES = ("lora_unet_", "lora_te")
_LORA_MARKERS = (".lora_A.", ".lora_B.", ".lora_down.", ".lora_up.", ".lora.down.", ".lora.up.", ".lora_linear_layer.")
UNET_INPUT_TENSOR = "model.diffusion_model.input_blocks.0.0.weight"  # its input channels: 4, or 9 to inpaint
INPAINT_CHANNELS = 9
_INPAINT_NOTE = "inpainting model (the UNet takes 9 channels: latents, mask and masked image)"
_FEW_STEP_WORDS = ("turbo", "lcm", "lightning")
_STEPS_IN_NAME = re.compile(r"(?<![0-9])([1-8])[-_ ]?steps?(?![a-z])")
_YOLO_TASKS = {
    b"DetectionModel": "detect",
    b"SegmentationModel": "segment",
    b"PoseModel": "pose",
    b"ClassificationModel": "classify",
    b"OBBModel": "obb",
    b"WorldModel": "detect (open vocabulary)",
}


@dataclass(frozen=True)
class Probe:
    kind: str  # sd15 | sd2 | sdxl | turbo | controlnet | vae | lora | embedding | yolo | onnx | pipeline
    format: str  # diffusers-folder | diffusers-component | single-file | weights-folder | pytorch-zip | onnx
    files: tuple[str, ...]  # relative to the folder probed, or the file's name
    size_bytes: int
    notes: tuple[str, ...] = ()
    family: str = ""  # pipelines: sd15 | sd2 | sdxl, also for a turbo model
    few_step: str = ""  # turbo | lcm | lightning: distilled to run in a few steps without guidance; "" = not
    guidance_embedded: bool = False  # the UNet takes the guidance scale as an input (LCM distillations)
    steps_hint: int = 0  # steps the name asks for, as in "sdxl-lightning-4step"; 0 = none
    inpainting: bool = False  # the UNet takes 9 channels (latents, mask, masked image): made for inpainting


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnknownModelLayout(f"cannot read {path}: {exc}; expected a JSON object") from exc
    if not isinstance(data, dict):
        raise UnknownModelLayout(f"{path} is not a JSON object")
    return data


def _folder_files(folder: Path) -> tuple[tuple[str, ...], int]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return tuple(p.relative_to(folder).as_posix() for p in files), sum(p.stat().st_size for p in files)


def _found(names: Iterable[str], limit: int = 6) -> str:
    names = sorted(names)
    if not names:
        return "nothing"
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _sd_family(folder: Path, class_name: str) -> tuple[str, list[str]]:
    if "XL" in class_name:
        return "sdxl", []
    if class_name not in _SD_FAMILY:
        return "pipeline", [f"{class_name} is not a Stable Diffusion 1.x/2.x/XL pipeline"]
    unet_config = folder / "unet" / "config.json"
    if unet_config.is_file():
        dim = _read_json(unet_config).get("cross_attention_dim")
        if dim == 1024:
            return "sd2", ["unet cross_attention_dim 1024: Stable Diffusion 2.x"]
        if dim == 2048:
            return "sdxl", ["unet cross_attention_dim 2048: Stable Diffusion XL"]
    return "sd15", []


def few_step_flavour(names: Iterable[str]) -> str:
    """turbo | lcm | lightning when one of these names (file, folder or repo names) says so, else ""."""
    text = " ".join(names).lower()
    return next((word for word in _FEW_STEP_WORDS if word in text), "")


def steps_in_name(name: str) -> int:
    """The step count a distilled model's name asks for ("…-4step", "2steps"), or 0."""
    match = _STEPS_IN_NAME.search(name.lower())
    return int(match.group(1)) if match else 0


def _pipeline_names(folder: Path, index: dict[str, object]) -> list[str]:
    names = [folder.resolve().name, str(index.get("_name_or_path", ""))]
    unet_config = folder / "unet" / "config.json"
    if unet_config.is_file():
        names.append(str(_read_json(unet_config).get("_name_or_path", "")))
    return names


def _probe_pipeline(folder: Path) -> Probe:
    index = _read_json(folder / "model_index.json")
    class_name = str(index.get("_class_name", ""))
    files, size = _folder_files(folder)
    family, notes = _sd_family(folder, class_name)
    notes.insert(0, f"pipeline {class_name or 'without _class_name'}")
    scheduler = index.get("scheduler")
    scheduler_class = scheduler[1] if isinstance(scheduler, list) and len(scheduler) == 2 else None
    names = _pipeline_names(folder, index)
    flavour, reason = few_step_flavour(names), "its name"
    if scheduler_class == "LCMScheduler" or class_name == "LatentConsistencyModelPipeline":
        flavour, reason = "lcm", f"{scheduler_class if scheduler_class == 'LCMScheduler' else class_name}"
    unet_config = folder / "unet" / "config.json"
    unet = _read_json(unet_config) if unet_config.is_file() else {}
    embedded = bool(unet.get("time_cond_proj_dim"))
    inpainting = unet.get("in_channels") == INPAINT_CHANNELS or "Inpaint" in class_name
    if inpainting:
        notes.append(_INPAINT_NOTE)
    kind = family
    if flavour:
        notes.append(f"few-step {flavour} model ({reason}); base family {family}")
        kind = "turbo"
    missing = [
        key for key, value in index.items()
        if not key.startswith("_") and isinstance(value, list) and value[0] and not (folder / key).is_dir()
    ]  # fmt: skip
    if missing:
        notes.append(f"missing component folders: {', '.join(sorted(missing))}")
    return Probe(
        kind=kind, format="diffusers-folder", files=files, size_bytes=size, notes=tuple(notes),
        family=family if family != "pipeline" else "", few_step=flavour, guidance_embedded=embedded,
        steps_hint=steps_in_name(" ".join(names)), inpainting=inpainting,
    )  # fmt: skip


def _probe_component(folder: Path) -> Probe:
    config = _read_json(folder / "config.json")
    class_name = str(config.get("_class_name", ""))
    files, size = _folder_files(folder)
    if class_name == "ControlNetModel":
        kind = "controlnet"
    elif class_name in _VAE_CLASSES:
        kind = "vae"
    else:
        found = f"config.json with _class_name {class_name}" if class_name else "config.json without _class_name"
        raise UnknownModelLayout(
            f"folder {folder} has {found}; a component folder on its own is understood only for "
            f"ControlNetModel and AutoencoderKL; expected {EXPECTED_LAYOUTS}"
        )
    return Probe(kind=kind, format="diffusers-component", files=files, size_bytes=size, notes=(class_name,))


def safetensors_header(path: Path) -> dict[str, object]:
    """The JSON header of a .safetensors file: tensor name -> dtype/shape/offsets, plus __metadata__."""
    try:
        with path.open("rb") as f:
            raw = f.read(8)
            if len(raw) < 8:
                raise UnknownModelLayout(f"{path} is too short to be a safetensors file")
            (length,) = struct.unpack("<Q", raw)
            if length > _MAX_HEADER_BYTES or length + 8 > path.stat().st_size:
                raise UnknownModelLayout(f"{path} is not a safetensors file: its header length {length} is impossible")
            header = json.loads(f.read(length))
    except OSError as exc:
        raise UnknownModelLayout(f"cannot read {path}: {exc}") from exc
    except ValueError as exc:
        raise UnknownModelLayout(f"{path} is not a safetensors file: its header is not JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise UnknownModelLayout(f"{path} is not a safetensors file: its header is not a JSON object")
    return header


def classify_tensor_names(names: Iterable[str]) -> tuple[str, str] | None:
    """(kind, reason) for a single-file model from its tensor names, or None when they say nothing known."""
    names = [n for n in names if n != "__metadata__"]
    if any(n.startswith(_LORA_PREFIXES) or any(m in n for m in _LORA_MARKERS) for n in names):
        return "lora", "LoRA tensor names (lora_unet_/lora_te or .lora_A./.lora_down./.lora_linear_layer.)"
    if any(n.startswith("control_model.") or "controlnet_" in n for n in names):
        return "controlnet", "ControlNet tensor names (control_model. or controlnet_)"
    if any(n.startswith("model.diffusion_model.") for n in names):
        if any(n.startswith("conditioner.embedders") for n in names):
            return "sdxl", "UNet plus conditioner.embedders: a Stable Diffusion XL checkpoint"
        if any(n.startswith("cond_stage_model.model.") for n in names):
            return "sd2", "UNet plus an OpenCLIP cond_stage_model: a Stable Diffusion 2.x checkpoint"
        if any(n.startswith("cond_stage_model.") for n in names):
            return "sd15", "UNet plus cond_stage_model: a Stable Diffusion 1.x checkpoint"
        return None
    prefixes = {n.split(".", 1)[0] for n in names}
    if prefixes and (
        prefixes <= _VAE_PREFIXES and prefixes & {"encoder", "decoder"} or prefixes == {"first_stage_model"}
    ):
        return "vae", "only VAE encoder/decoder tensors"
    if prefixes and prefixes <= {"emb_params", "string_to_param", "string_to_token", "name", "step",
                                 "sd_checkpoint", "sd_checkpoint_name", "clip_l", "clip_g"}:  # fmt: skip
        return "embedding", "a textual-inversion embedding"
    return None


def _sample(names: list[str], limit: int = 4) -> str:
    return ", ".join(sorted(names)[:limit]) or "no tensors"


def _probe_safetensors(path: Path) -> Probe:
    header = safetensors_header(path)
    names = [n for n in header if n != "__metadata__"]
    found = classify_tensor_names(names)
    if found is None:
        raise UnknownModelLayout(
            f"{path} holds {len(names)} tensors ({_sample(names)}) that match no layout known here: "
            "expected a Stable Diffusion 1.x/2.x/XL checkpoint, a VAE, a LoRA or a ControlNet"
        )
    kind, reason = found
    notes = [reason, f"{len(names)} tensors"]
    metadata = header.get("__metadata__")
    described = [path.name]
    if isinstance(metadata, dict):
        for key in ("modelspec.architecture", "modelspec.title"):
            if isinstance(metadata.get(key), str):
                notes.append(f"{key} {metadata[key]}")
                described.append(metadata[key])
    entry = header.get(UNET_INPUT_TENSOR)
    shape = entry.get("shape") if isinstance(entry, dict) else None
    inpainting = isinstance(shape, list) and len(shape) > 1 and shape[1] == INPAINT_CHANNELS
    return _checkpoint(path, kind, "single-file", notes, described, inpainting)


def _checkpoint(
    path: Path, kind: str, format: str, notes: list[str], described: list[str], inpainting: bool = False
) -> Probe:
    """A single-file probe; a Stable Diffusion checkpoint whose name says turbo/lcm/lightning is a few-step one."""
    family, flavour = (kind, few_step_flavour(described)) if kind in ("sd15", "sd2", "sdxl") else ("", "")
    if flavour:
        notes.append(f"few-step {flavour} model (its name); base family {family}")
    if inpainting:
        notes.append(_INPAINT_NOTE)
    return Probe(
        kind="turbo" if flavour else kind, format=format, files=(path.name,), size_bytes=path.stat().st_size,
        notes=tuple(notes), family=family, few_step=flavour, inpainting=inpainting,
        steps_hint=steps_in_name(" ".join(described)) if flavour else 0,
    )  # fmt: skip


def _pickle_of(path: Path) -> bytes | None:
    """The data.pkl of a PyTorch zip archive (torch.save's format since 1.6), or None if it is not one."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if i.filename == "data.pkl" or i.filename.endswith("/data.pkl")]
            if not members or members[0].file_size > _MAX_PICKLE_BYTES:
                return None
            return archive.read(members[0])
    except (OSError, zipfile.BadZipFile):
        return None


def _pickle_strings(data: bytes) -> list[str]:
    """Every string constant in a pickle, read opcode by opcode; nothing is executed."""
    strings = []
    try:
        for _opcode, arg, _pos in pickletools.genops(data):
            if isinstance(arg, str):
                strings.append(arg)
    except ValueError:  # truncated or unusual pickle: use what was read
        pass
    return strings


def _probe_torch(path: Path) -> Probe:
    size = path.stat().st_size
    data = _pickle_of(path)
    if data is None:
        raise UnknownModelLayout(
            f"{path} is not a PyTorch zip archive (no data.pkl inside); legacy pickles are not inspected; "
            f"expected {EXPECTED_LAYOUTS}"
        )
    if b"ultralytics" in data:
        tasks = [task for marker, task in _YOLO_TASKS.items() if marker in data]
        notes = ("ultralytics checkpoint", f"task: {tasks[0]}") if tasks else ("ultralytics checkpoint",)
        return Probe(kind="yolo", format="pytorch-zip", files=(path.name,), size_bytes=size, notes=notes)
    found = classify_tensor_names(_pickle_strings(data))
    if found is None:
        raise UnknownModelLayout(
            f"{path} is a PyTorch archive but neither an ultralytics YOLO checkpoint nor a Stable Diffusion "
            f"checkpoint, VAE, LoRA or ControlNet; expected {EXPECTED_LAYOUTS}"
        )
    kind, reason = found
    return _checkpoint(path, kind, "pytorch-zip", [reason, "pickled: load only trusted files"], [path.name])


def _probe_onnx(path: Path) -> Probe:
    size = path.stat().st_size
    with path.open("rb") as f:
        first = f.read(1)
    if first != b"\x08":  # an ONNX ModelProto starts with field 1, ir_version, a varint
        raise UnknownModelLayout(f"{path} does not start like an ONNX model (ir_version); it may be damaged")
    return Probe(kind="onnx", format="onnx", files=(path.name,), size_bytes=size, notes=())


def weights_file_of(folder: Path) -> Path | None:
    """The one .safetensors file of a folder such as a LoRA repo (pytorch_lora_weights.safetensors), or None."""
    files = sorted(p for p in folder.glob("*.safetensors") if not p.name.startswith("."))
    preferred = [p for p in files if p.name == "pytorch_lora_weights.safetensors"]
    return (preferred or files)[0] if len(preferred or files) == 1 else None


def _probe_weights_folder(folder: Path) -> Probe | None:
    """A folder holding one weights file and no configs (a LoRA or embedding repo): what that file is."""
    weights = weights_file_of(folder)
    if weights is None:
        return None
    try:
        found = _probe_safetensors(weights)
    except UnknownModelLayout:
        return None
    files, size = _folder_files(folder)
    notes = (f"{weights.name}: {found.notes[0]}", *found.notes[1:])
    return replace(found, format="weights-folder", files=files, size_bytes=size, notes=notes)


def _probe_vision_folder(path: Path) -> Probe:
    """A YOLO model folder as built in, exported or trained here: model.pt or model.onnx beside vision.json."""
    info = _read_json(path / "vision.json")
    engine, task = info.get("engine"), info.get("task")
    if engine not in ("pytorch", "onnxruntime"):
        raise UnknownModelLayout(f"{path / 'vision.json'} names engine {engine!r}; expected pytorch or onnxruntime")
    files = tuple(sorted(str(f.relative_to(path)) for f in path.rglob("*") if f.is_file()))
    size = sum((path / f).stat().st_size for f in files)
    notes = (f"task {task}", f"precision {info.get('precision', 'fp32')}")
    kind = "onnx" if engine == "onnxruntime" else "yolo"
    return Probe(kind=kind, format="vision-folder", files=files, size_bytes=size, notes=notes)


def probe(path: Path) -> Probe:
    """What the model at path is; UnknownModelLayout (a ModelNotFound) saying what was found if it is none we know."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelNotFound(f"{path} does not exist; check the path")
    if path.is_dir():
        if (path / "model_index.json").is_file():
            return _probe_pipeline(path)
        if (path / "config.json").is_file():
            return _probe_component(path)
        if (path / "vision.json").is_file():
            return _probe_vision_folder(path)
        weights = _probe_weights_folder(path)
        if weights is not None:
            return weights
        names = [p.name + ("/" if p.is_dir() else "") for p in path.iterdir() if not p.name.startswith(".")]
        raise UnknownModelLayout(
            f"folder {path} has no model_index.json or config.json (it holds {_found(names)}); "
            f"expected {EXPECTED_LAYOUTS}"
        )
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return _probe_safetensors(path)
    if suffix in (".pt", ".pth", ".ckpt"):
        return _probe_torch(path)
    if suffix == ".onnx":
        return _probe_onnx(path)
    raise UnknownModelLayout(f"{path} is a {suffix or 'suffix-less'} file, not a model; expected {EXPECTED_LAYOUTS}")


__all__ = ["EXPECTED_LAYOUTS", "Probe", "classify_tensor_names", "probe", "safetensors_header"]

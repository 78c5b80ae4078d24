"""Which vision models exist and where their files are, without importing torch or ultralytics.

A vision model folder holds one weights file (model.pt or model.onnx) and `vision.json`
describing it; the built-in tiny models and every export are such folders. A bare
ultralytics .pt or .onnx file works too, described when it is loaded.
"""

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from models.builtin import build_once
from models.errors import InvalidParameter, ModelNotFound

TASKS = ("detect", "segment", "pose", "classify")
ENGINES = ("pytorch", "onnxruntime")
PRECISIONS = ("fp32", "fp16", "int8")
INFO_FILE = "vision.json"
WEIGHT_FILES = {"pytorch": "model.pt", "onnxruntime": "model.onnx"}


@dataclass(frozen=True)
class VisionModelInfo:
    """What vision.json says about the model beside it."""

    task: str
    names: list[str]
    imgsz: int
    engine: str  # the engine its weights run on: "pytorch" (.pt) or "onnxruntime" (.onnx)
    precision: str = "fp32"
    source: str = ""  # what it was built, exported or trained from
    kpt_shape: list[int] | None = None  # pose models: [keypoints, 2 or 3]
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def weights_file(self) -> str:
        return WEIGHT_FILES[self.engine]


def write_info(folder: Path, info: VisionModelInfo) -> None:
    (folder / INFO_FILE).write_text(json.dumps(asdict(info), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_info(folder: Path) -> VisionModelInfo:
    path = folder / INFO_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        info = VisionModelInfo(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise ModelNotFound(f"{path} is not a readable vision model description ({exc}); export the model again") from exc
    if info.task not in TASKS or info.engine not in ENGINES:
        raise ModelNotFound(f"{path} names task '{info.task}' and engine '{info.engine}', which are not known here")
    return info


@dataclass(frozen=True)
class VisionDefaults:
    imgsz: int
    conf: float
    iou: float
    max_det: int


@dataclass(frozen=True)
class BuiltinVisionModel:
    name: str
    task: str
    description: str
    defaults: VisionDefaults


_TINY_DEFAULTS = VisionDefaults(imgsz=320, conf=0.25, iou=0.7, max_det=300)
_TINY_NOTE = "with seeded random weights: it finds nothing real. It exists for tests and demos and runs fast on a CPU."

BUILTIN_VISION_MODELS: dict[str, BuiltinVisionModel] = {
    model.name: model
    for model in (
        BuiltinVisionModel("tiny-yolo", "detect", f"A YOLO11n detector (80 COCO classes) {_TINY_NOTE}", _TINY_DEFAULTS),
        BuiltinVisionModel("tiny-yolo-seg", "segment", f"A YOLO11n segmenter (80 COCO classes) {_TINY_NOTE}", _TINY_DEFAULTS),
        BuiltinVisionModel("tiny-yolo-pose", "pose", f"A YOLO11n person pose model (17 keypoints) {_TINY_NOTE}", _TINY_DEFAULTS),
        BuiltinVisionModel("tiny-yolo-cls", "classify", f"A YOLO11n classifier (10 CIFAR classes) {_TINY_NOTE}", _TINY_DEFAULTS),
    )
}  # fmt: skip
DEFAULT_MODEL_FOR_TASK = {model.task: model.name for model in BUILTIN_VISION_MODELS.values()}
GENERIC_DEFAULTS = VisionDefaults(imgsz=640, conf=0.25, iou=0.7, max_det=300)


def _is_complete(folder: Path) -> bool:
    return (folder / INFO_FILE).is_file() and (folder / WEIGHT_FILES["pytorch"]).is_file()


def ensure_vision_builtin(name: str, models_dir: Path) -> Path:
    """The folder of built-in vision model `name` under models_dir, built there on first use (needs torch)."""
    model = BUILTIN_VISION_MODELS.get(name)
    if model is None:
        raise ModelNotFound(
            f"unknown built-in vision model '{name}'; the built-in ones are: {', '.join(BUILTIN_VISION_MODELS)}"
        )

    def build(folder: Path) -> None:
        from models.vision.tiny_yolo import (
            build_tiny_yolo,  # torch and ultralytics only when building
        )

        build_tiny_yolo(folder, model.task, model.defaults.imgsz, source=model.name)

    return build_once(name, models_dir, build, _is_complete)


@dataclass(frozen=True)
class VisionModelSource:
    name: str
    kind: str  # "builtin" | "folder" | "pt_file" | "onnx_file"
    path: Path  # the model folder, or the weights file itself
    info: VisionModelInfo | None  # None until a bare weights file is loaded, or a built-in is built

    @property
    def task(self) -> str | None:
        if self.kind == "builtin":
            return BUILTIN_VISION_MODELS[self.name].task
        return self.info.task if self.info is not None else None

    @property
    def defaults(self) -> VisionDefaults:
        builtin = BUILTIN_VISION_MODELS.get(self.name) if self.kind == "builtin" else None
        if builtin is not None:
            return builtin.defaults
        imgsz = self.info.imgsz if self.info is not None else GENERIC_DEFAULTS.imgsz
        return VisionDefaults(imgsz, GENERIC_DEFAULTS.conf, GENERIC_DEFAULTS.iou, GENERIC_DEFAULTS.max_det)


_WEIGHT_SUFFIXES = {".pt": "pt_file", ".onnx": "onnx_file"}


def _local_source(ref: str, path: Path) -> VisionModelSource | None:
    if path.is_dir():
        if not (path / INFO_FILE).is_file():
            raise ModelNotFound(
                f"folder '{path}' for model '{ref}' is not a vision model: it needs {INFO_FILE} beside its weights; "
                "make one with `imagine models export`, or point at the .pt or .onnx file itself"
            )
        info = read_info(path)
        if not (path / info.weights_file).is_file():
            raise ModelNotFound(f"vision model folder '{path}' has {INFO_FILE} but no {info.weights_file}")
        return VisionModelSource(name=ref, kind="folder", path=path.resolve(), info=info)
    if path.is_file():
        kind = _WEIGHT_SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise ModelNotFound(f"file '{path}' for model '{ref}' is not YOLO weights: use a .pt or .onnx file")
        return VisionModelSource(name=ref, kind=kind, path=path.resolve(), info=None)
    return None


def resolve_vision_model(ref: str, models_dir: Path) -> VisionModelSource:
    """A built-in name, a vision model folder, or a .pt/.onnx file (as given or under models_dir)."""
    if ref in BUILTIN_VISION_MODELS:
        folder = models_dir / ref
        return VisionModelSource(ref, "builtin", folder, read_info(folder) if _is_complete(folder) else None)
    if ref.strip():
        path = Path(ref).expanduser()
        for candidate in (path, models_dir / path):
            source = _local_source(ref, candidate)
            if source is not None:
                return source
    raise ModelNotFound(
        f"unknown vision model '{ref}': use a built-in name ({', '.join(BUILTIN_VISION_MODELS)}), "
        "a folder made by export, or a YOLO .pt / .onnx file"
    )


def materialise(source: VisionModelSource, models_dir: Path) -> VisionModelSource:
    """The same source with a built-in built, so that its path is a complete model folder."""
    if source.kind != "builtin" or source.info is not None:
        return source
    folder = ensure_vision_builtin(source.name, models_dir)
    return VisionModelSource(source.name, "builtin", folder, read_info(folder))



def weights_path(source: VisionModelSource) -> Path:
    """The weights file of a source; a built-in must be materialised first."""
    if source.kind in {"pt_file", "onnx_file"}:
        return source.path
    if source.info is None:
        raise ModelNotFound(f"built-in model '{source.name}' is not built yet; materialise it first")
    return source.path / source.info.weights_file


def pytorch_weights(source: VisionModelSource, field: str, purpose: str) -> Path:
    """The .pt file of a source, or InvalidParameter(field) when it is an ONNX model."""
    path = weights_path(source)
    if path.suffix.lower() != ".pt":
        raise InvalidParameter(field, f"'{source.name}' is an ONNX model; {purpose} needs PyTorch (.pt) YOLO weights")
    return path


@contextmanager
def new_model_folder(target: Path) -> Iterator[Path]:
    """A staging folder beside target, renamed to target when the block succeeds: target is complete or absent."""
    if target.exists():
        raise InvalidParameter("name", f"'{target}' already exists; choose another name for the new model")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    try:
        yield staging
        staging.chmod(0o755)  # mkdtemp makes it private; the installed model should not be
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # a no-op after a successful rename

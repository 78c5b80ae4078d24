"""A loaded vision model on one engine: ultralytics on PyTorch, or an ONNX export on ONNX Runtime.

Both take BGR uint8 images and give ultralytics Results, so everything after them is shared.
"""

import models.vision._ultralytics  # noqa: F401  (sets ultralytics' environment: must come first)

# isort: split
import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort
import torch
from PIL import Image
from ultralytics import YOLO
from ultralytics.data.augment import LetterBox, classify_transforms
from ultralytics.engine.results import Results
from ultralytics.utils import nms, ops

from models.device import select_device
from models.errors import ModelNotFound
from models.vision.providers import choose_providers, provider_options
from models.vision.registry import VisionModelSource, materialise, weights_path

TENSORRT_CACHE = "tensorrt-cache"  # beside the .onnx file


@dataclass(frozen=True)
class Thresholds:
    conf: float
    iou: float
    imgsz: int
    max_det: int
    classes: list[int] | None  # None keeps every class


class VisionModel(Protocol):
    name: str
    task: str
    names: list[str]
    imgsz: int  # the size it was made for
    engine: str  # "pytorch" | "onnxruntime"
    provider: str  # "cpu", "cuda:0", or the ONNX Runtime execution provider that runs it
    size_bytes: int  # weights on disk, a floor for the memory it takes

    def predict(self, images: Sequence[np.ndarray], thresholds: Thresholds) -> list[Results]: ...


def load_yolo(weights: Path) -> YOLO:
    try:
        return YOLO(str(weights))
    except Exception as exc:  # ultralytics raises many kinds for a file that is not its checkpoint
        raise ModelNotFound(f"'{weights}' is not a YOLO checkpoint ultralytics can load: {exc}") from exc


def class_names(yolo: YOLO) -> list[str]:
    return [yolo.names[i] for i in sorted(yolo.names)]


def checkpoint_imgsz(yolo: YOLO) -> int:
    """The image size the checkpoint was trained (or built) for."""
    imgsz = yolo.overrides.get("imgsz", 640)
    return int(imgsz if isinstance(imgsz, int) else max(imgsz))


class TorchVisionModel:
    engine = "pytorch"

    def __init__(self, name: str, weights: Path, device: str) -> None:
        self.name = name
        self.device = select_device(device)
        self.provider = str(self.device)
        self.yolo = load_yolo(weights)
        self.yolo.to(self.device)
        self.task = str(self.yolo.task)
        self.names = class_names(self.yolo)
        self.imgsz = checkpoint_imgsz(self.yolo)
        self.size_bytes = weights.stat().st_size

    def predict(self, images: Sequence[np.ndarray], thresholds: Thresholds) -> list[Results]:
        return self.yolo.predict(
            list(images),
            conf=thresholds.conf,
            iou=thresholds.iou,
            imgsz=thresholds.imgsz,
            max_det=thresholds.max_det,
            classes=thresholds.classes,
            batch=len(images),
            device=self.provider,
            half=self.device.type == "cuda",
            verbose=False,
        )


def model_input(
    images: Sequence[np.ndarray], task: str, imgsz: int, stride: int = 32, dynamic_size: bool = True, dtype: type = np.float32
) -> np.ndarray:
    """The tensor ultralytics' predictors make of BGR images: letterboxed (classify: resized and centre-cropped),
    RGB, 0..1, NCHW. Letterboxing pads only to a multiple of the stride when the model takes any size."""
    if task == "classify":
        transform = classify_transforms(imgsz)
        batch = torch.stack([transform(Image.fromarray(image[..., ::-1])) for image in images]).numpy()
    else:
        same_shapes = len({image.shape for image in images}) == 1
        letterbox = LetterBox((imgsz, imgsz), auto=same_shapes and dynamic_size, stride=stride)
        boxed = np.stack([letterbox(image=image) for image in images])
        batch = boxed[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return np.ascontiguousarray(batch, dtype=dtype)


def _metadata(session: ort.InferenceSession, path: Path) -> dict[str, object]:
    """The task, names and shapes ultralytics writes into every ONNX export."""
    raw = session.get_modelmeta().custom_metadata_map
    if "names" not in raw or "task" not in raw:
        raise ModelNotFound(f"'{path}' is not a YOLO ONNX export (it has no task and class names); export it with us")
    return {key: ast.literal_eval(raw[key]) if key in {"names", "imgsz", "kpt_shape", "stride"} else raw[key] for key in raw}


class OnnxVisionModel:
    engine = "onnxruntime"

    def __init__(self, name: str, path: Path, device: str) -> None:
        self.name = name
        providers = choose_providers(ort.get_available_providers(), device)
        cache = path.parent / TENSORRT_CACHE
        options = [provider_options(p, device, cache) for p in providers]
        self.session = ort.InferenceSession(str(path), providers=providers, provider_options=options)
        self.provider = self.session.get_providers()[0]
        meta = _metadata(self.session, path)
        names = meta["names"]
        self.names = [names[i] for i in sorted(names)]
        self.task = str(meta["task"])
        self.imgsz = int(max(meta.get("imgsz", [640])))
        self.stride = int(meta.get("stride", 32))
        self.kpt_shape = tuple(meta.get("kpt_shape", ())) or None
        self.end2end = meta.get("end2end") == "True"
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.dynamic_size = isinstance(model_input.shape[2], str)
        self.input_dtype = np.float16 if "float16" in model_input.type else np.float32
        self.size_bytes = path.stat().st_size

    def preprocess(self, images: Sequence[np.ndarray], imgsz: int) -> np.ndarray:
        return model_input(images, self.task, imgsz, self.stride, self.dynamic_size, self.input_dtype)

    def predict(self, images: Sequence[np.ndarray], thresholds: Thresholds) -> list[Results]:
        batch = self.preprocess(images, thresholds.imgsz)
        outputs = [torch.from_numpy(np.asarray(o, dtype=np.float32)) for o in self.session.run(None, {self.input_name: batch})]
        names = dict(enumerate(self.names))
        if self.task == "classify":
            return [Results(image, path=f"image{i}", names=names, probs=p) for i, (image, p) in enumerate(zip(images, outputs[0]))]
        detections = nms.non_max_suppression(
            outputs[0],
            thresholds.conf,
            thresholds.iou,
            thresholds.classes,
            max_det=thresholds.max_det,
            nc=0 if self.task == "detect" else len(self.names),
            end2end=self.end2end,
        )
        shape = batch.shape[2:]
        return [self._result(i, image, pred, shape, outputs) for i, (image, pred) in enumerate(zip(images, detections))]

    def _result(self, index: int, image: np.ndarray, pred: torch.Tensor, shape: tuple[int, int], outputs: list[torch.Tensor]) -> Results:
        """One image's Results, as ultralytics' Detection/Segmentation/PosePredictor.construct_result make it."""
        names = dict(enumerate(self.names))
        masks = None
        if self.task == "segment" and pred.shape[0]:
            masks = ops.process_mask(outputs[1][index], pred[:, 6:], pred[:, :4], shape, upsample=True)
            keep = masks.amax((-2, -1)) > 0
            pred, masks = pred[keep], masks[keep]
        keypoints = None
        if self.task == "pose":
            keypoints = ops.scale_coords(shape, pred[:, 6:].view(pred.shape[0], *self.kpt_shape), image.shape)
        pred[:, :4] = ops.scale_boxes(shape, pred[:, :4], image.shape)
        result = Results(image, path=f"image{index}", names=names, boxes=pred[:, :6], masks=masks)
        if keypoints is not None:
            result.update(keypoints=keypoints)
        return result


def load_vision_model(source: VisionModelSource, models_dir: Path, device: str = "auto") -> VisionModel:
    """Load what resolve_vision_model found, on the engine its weights are for (.pt: pytorch, .onnx: onnxruntime)."""
    weights = weights_path(materialise(source, models_dir))
    if weights.suffix.lower() == ".onnx":
        return OnnxVisionModel(source.name, weights, device)
    return TorchVisionModel(source.name, weights, device)

"""The tiny-yolo family: ultralytics' bundled YOLO11 configs at the 'n' scale with seeded random weights.

Saved as ordinary ultralytics checkpoints (YOLO("model.pt") loads them), byte-identical on every build:
the checkpoint holds no date, only the model, its class names and the image size it is meant for.
"""

import models.vision._ultralytics  # noqa: F401  (sets ultralytics' environment: must come first)

# isort: split
import io
import math
from pathlib import Path

import numpy as np
import torch
from ultralytics.nn.tasks import (
    ClassificationModel,
    DetectionModel,
    PoseModel,
    SegmentationModel,
    yaml_model_load,
)
from ultralytics.utils import ROOT, YAML

from models.vision.registry import WEIGHT_FILES, VisionModelInfo, write_info
from models.vision.synthetic import synthetic_image

_CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
SEED = 0
_CALIBRATION_IMAGES = 8


def _coco_names(dataset: str) -> list[str]:
    names = YAML.load(ROOT / "cfg" / "datasets" / dataset)["names"]
    return [names[index] for index in sorted(names)]


def _build_model(task: str) -> tuple[torch.nn.Module, list[str]]:
    torch.manual_seed(SEED)
    if task == "detect":
        names = _coco_names("coco.yaml")
        return DetectionModel(yaml_model_load("yolo11n.yaml"), nc=len(names), verbose=False), names
    if task == "segment":
        names = _coco_names("coco.yaml")
        return SegmentationModel(yaml_model_load("yolo11n-seg.yaml"), nc=len(names), verbose=False), names
    if task == "pose":
        names = _coco_names("coco-pose.yaml")
        config = yaml_model_load("yolo11n-pose.yaml")
        return PoseModel(config, nc=len(names), data_kpt_shape=(17, 3), verbose=False), names
    if task == "classify":
        return ClassificationModel(yaml_model_load("yolo11n-cls.yaml"), nc=len(_CIFAR10), verbose=False), _CIFAR10
    raise ValueError(f"no tiny model for task '{task}'")


# Seeded random weights make a YOLO model's features fade layer by layer (the BatchNorm statistics are the untrained
# 0 and 1), so its class scores are constant and tiny and it would never draw a box. So the BatchNorm statistics
# are measured on a seeded batch of synthetic pictures, and then, as LSUV initialisation does, the last class-score
# convolutions are rescaled to logits of unit spread, shifted so that this share of the batch's anchors passes conf 0.25:
_ANCHORS_OVER_DEFAULT_CONF = 0.002
_LOGIT_OF_DEFAULT_CONF = math.log(0.25 / 0.75)
# Mask coefficients start positive, so masks (coefficients times the non-negative prototypes) are not all empty.
_MASK_COEFFICIENT_BIAS = 0.5


def _calibration_batch(imgsz: int) -> torch.Tensor:
    """Seeded synthetic pictures (shapes on soft noise), RGB 0..1, as a model sees its inputs."""
    rng = np.random.default_rng(SEED)
    images = [synthetic_image(rng, imgsz)[0][..., ::-1] for _ in range(_CALIBRATION_IMAGES)]
    return torch.from_numpy(np.stack(images).transpose(0, 3, 1, 2).copy()).float() / 255.0


@torch.no_grad()
def _calibrate_batchnorm(model: torch.nn.Module, imgsz: int) -> None:
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = 1.0  # the running statistics become this batch's
    model.train()
    model(_calibration_batch(imgsz))
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    model.eval()


@torch.no_grad()
def _spread_scores(model: torch.nn.Module, task: str, imgsz: int) -> None:
    head = model.model[-1]
    convs = [branch[-1] for branch in head.cv3]
    outputs: dict[torch.nn.Module, torch.Tensor] = {}
    hooks = [conv.register_forward_hook(lambda module, _, out: outputs.__setitem__(module, out)) for conv in convs]
    model(_calibration_batch(imgsz))
    for hook in hooks:
        hook.remove()
    per_class = _ANCHORS_OVER_DEFAULT_CONF / len(model.names)
    for conv in convs:
        logits = (outputs[conv] - conv.bias.view(1, -1, 1, 1)).transpose(0, 1).flatten(1)  # one row per class
        std = logits.std(1)
        cutoff = torch.quantile(logits / std.view(-1, 1), 1.0 - per_class, dim=1)
        conv.weight.div_(std.view(-1, 1, 1, 1))
        conv.bias.copy_(_LOGIT_OF_DEFAULT_CONF - cutoff)
    if task == "segment":
        for branch in head.cv4:
            torch.nn.init.constant_(branch[-1].bias, _MASK_COEFFICIENT_BIAS)


def checkpoint_bytes(task: str, imgsz: int) -> tuple[bytes, list[str]]:
    """The checkpoint file's bytes and the class names, the same on every call."""
    model, names = _build_model(task)
    model.names = dict(enumerate(names))
    _calibrate_batchnorm(model, imgsz)
    if task != "classify":
        _spread_scores(model, task, imgsz)
    buffer = io.BytesIO()
    # "train_args" is where ultralytics looks for the task and the default image size of a checkpoint.
    torch.save({"model": model.half(), "train_args": {"task": task, "imgsz": imgsz}}, buffer)
    return buffer.getvalue(), names


def build_tiny_yolo(folder: Path, task: str, imgsz: int, source: str) -> None:
    data, names = checkpoint_bytes(task, imgsz)
    (folder / WEIGHT_FILES["pytorch"]).write_bytes(data)
    kpt_shape = [17, 3] if task == "pose" else None
    info = VisionModelInfo(task=task, names=names, imgsz=imgsz, engine="pytorch", source=source, kpt_shape=kpt_shape)
    write_info(folder, info)

"""Vision models, exports and a synthetic dataset, each made once per test session.

YOLO_CONFIG_DIR is set before anything imports ultralytics, so its settings file lands in a temporary folder.
"""

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="imagined-test-ultralytics-"))

import cv2
import numpy as np
import pytest
import yaml

from models.vision.engines import VisionModel, load_vision_model
from models.vision.export import export_onnx
from models.vision.params import ExportParams
from models.vision.registry import ensure_vision_builtin, resolve_vision_model
from models.vision.synthetic import make_synthetic_dataset

TASK_MODELS = {"detect": "tiny-yolo", "segment": "tiny-yolo-seg", "pose": "tiny-yolo-pose", "classify": "tiny-yolo-cls"}


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vision-models")


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shapes")
    make_synthetic_dataset(folder, train=12, val=6, size=128, seed=0)
    return folder


@pytest.fixture(scope="session")
def image_bytes(dataset: Path) -> list[bytes]:
    """Three PNGs of different sizes: two synthetic validation images and one cropped wider than tall."""
    files = sorted((dataset / "images" / "val").glob("*.png"))
    crop = cv2.imread(str(files[2]))[16:112, :]
    return [files[0].read_bytes(), files[1].read_bytes(), cv2.imencode(".png", crop)[1].tobytes()]


@pytest.fixture(scope="session")
def loaded(models_dir: Path) -> dict[str, VisionModel]:
    """One PyTorch model per task, loaded on the CPU."""
    return {task: load_vision_model(resolve_vision_model(name, models_dir), models_dir, "cpu") for task, name in TASK_MODELS.items()}


@pytest.fixture(scope="session")
def onnx_exports(models_dir: Path) -> dict[str, Path]:
    """An fp32 ONNX export of each tiny model."""
    folders = {}
    for task, name in TASK_MODELS.items():
        ensure_vision_builtin(name, models_dir)
        target = models_dir / f"{name}-onnx"
        folders[task] = export_onnx(resolve_vision_model(name, models_dir), models_dir, target, ExportParams(device="cpu")).folder
    return folders


@pytest.fixture(scope="session")
def int8_export(models_dir: Path, dataset: Path) -> Path:
    params = ExportParams(int8_calibration=dataset / "images" / "train", calibration_images=6, device="cpu")
    return export_onnx(resolve_vision_model("tiny-yolo", models_dir), models_dir, models_dir / "tiny-yolo-int8", params).folder


def decode_png(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "annotated image is not a decodable PNG"
    return image


def copy_dataset(dataset: Path, target: Path) -> Path:
    """A private copy to break, its data.yaml root made relative (".") so that it names the copy."""
    shutil.copytree(dataset, target)
    data = yaml.safe_load((target / "data.yaml").read_text())
    data["path"] = "."
    (target / "data.yaml").write_text(yaml.safe_dump(data))
    return target

import hashlib
import subprocess
import sys
import json
from pathlib import Path

import pytest
from ultralytics import YOLO

from models.errors import ModelNotFound
from models.vision.registry import (
    BUILTIN_VISION_MODELS,
    INFO_FILE,
    ensure_vision_builtin,
    read_info,
    resolve_vision_model,
)

from .conftest import TASK_MODELS


def test_every_task_has_a_tiny_builtin() -> None:
    assert {model.task for model in BUILTIN_VISION_MODELS.values()} == set(TASK_MODELS)
    assert BUILTIN_VISION_MODELS["tiny-yolo"].task == "detect"


def test_builtin_builds_are_byte_identical(tmp_path: Path) -> None:
    """Two fresh processes (as two workers would) build the same bytes; a test process's torch state may differ."""
    build = "import sys; from pathlib import Path; from models.vision.registry import ensure_vision_builtin; " \
        "ensure_vision_builtin('tiny-yolo', Path(sys.argv[1]))"
    for folder in ("a", "b"):
        subprocess.run([sys.executable, "-c", build, str(tmp_path / folder)], check=True, timeout=300)
    first, second = ((tmp_path / folder / "tiny-yolo" / "model.pt").read_bytes() for folder in ("a", "b"))
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()


@pytest.mark.parametrize(("task", "name"), TASK_MODELS.items())
def test_builtins_load_in_ultralytics_and_are_small(models_dir: Path, task: str, name: str) -> None:
    folder = ensure_vision_builtin(name, models_dir)
    info = read_info(folder)
    yolo = YOLO(str(folder / info.weights_file))
    assert yolo.task == task == info.task
    assert [yolo.names[i] for i in sorted(yolo.names)] == info.names
    assert sum(p.numel() for p in yolo.model.parameters()) < 3_500_000  # YOLO11n-sized, not s/m/l/x
    assert (folder / "model.pt").stat().st_size < 8_000_000


def test_building_twice_reuses_the_installed_model(models_dir: Path) -> None:
    first = ensure_vision_builtin("tiny-yolo", models_dir)
    mtime = (first / "model.pt").stat().st_mtime_ns
    assert ensure_vision_builtin("tiny-yolo", models_dir) == first
    assert (first / "model.pt").stat().st_mtime_ns == mtime


def test_resolver_knows_builtins_files_and_model_folders(models_dir: Path) -> None:
    folder = ensure_vision_builtin("tiny-yolo", models_dir)
    builtin = resolve_vision_model("tiny-yolo", models_dir)
    assert (builtin.kind, builtin.task, builtin.path) == ("builtin", "detect", folder)
    weights = resolve_vision_model(str(folder / "model.pt"), models_dir)
    assert (weights.kind, weights.path) == ("pt_file", folder / "model.pt")
    as_folder = resolve_vision_model(str(folder), models_dir)
    assert (as_folder.kind, as_folder.task) == ("folder", "detect")
    assert resolve_vision_model("tiny-yolo/model.pt", models_dir).kind == "pt_file"  # relative to models_dir


def test_resolver_refuses_what_is_not_a_vision_model(models_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="tiny-yolo"):
        resolve_vision_model("no-such-model", models_dir)
    with pytest.raises(ModelNotFound, match=INFO_FILE):
        resolve_vision_model(str(tmp_path), models_dir)
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ModelNotFound, match=r"\.pt or \.onnx"):
        resolve_vision_model(str(tmp_path / "weights.bin"), models_dir)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / INFO_FILE).write_text(json.dumps({"task": "detect"}))
    with pytest.raises(ModelNotFound, match="export the model again"):
        resolve_vision_model(str(broken), models_dir)

from pathlib import Path

import pytest
from ultralytics import YOLO

from models.errors import Cancelled, InvalidParameter
from models.vision.detect import detect
from models.vision.engines import load_vision_model
from models.vision.install import install_weights
from models.vision.params import DetectParams, TrainParams
from models.vision.registry import resolve_vision_model
from models.vision.synthetic import SHAPE_CLASSES
from models.vision.train import (
    RESUME_FILE,
    DatasetRejected,
    EpochReport,
    TrainResult,
    train,
    tune,
)

from .conftest import copy_dataset

SHAPE_NAMES = [name for name, _, _ in SHAPE_CLASSES]


def _params(dataset: Path, epochs: int = 2) -> TrainParams:
    return TrainParams(dataset=dataset, epochs=epochs, imgsz=64, batch=4, device="cpu", workers=0)


@pytest.fixture(scope="module")
def yielded_then_resumed(models_dir: Path, dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainResult, TrainResult, list[EpochReport]]:
    """Two epochs asked for; the first call yields after epoch 1, the second resumes and finishes."""
    run_dir = tmp_path_factory.mktemp("runs") / "job-1"
    reports: list[EpochReport] = []
    first = train(_params(dataset), models_dir, run_dir, progress=reports.append, should_yield=lambda: True)
    assert (run_dir / "weights" / RESUME_FILE).is_file()
    second = train(_params(dataset), models_dir, run_dir, progress=reports.append, should_yield=lambda: True)
    return first, second, reports


def test_yield_stops_after_an_epoch_with_a_checkpoint(yielded_then_resumed: tuple[TrainResult, TrainResult, list[EpochReport]]) -> None:
    first, _, _ = yielded_then_resumed
    assert (first.status, first.epochs_done, first.epochs) == ("yielded", 1, 2)
    assert first.last_weights is not None and first.best_weights is not None


def test_resume_goes_on_from_the_checkpoint_to_the_requested_epochs(yielded_then_resumed: tuple[TrainResult, TrainResult, list[EpochReport]]) -> None:
    first, second, reports = yielded_then_resumed
    assert (second.status, second.epochs_done, second.epochs) == ("finished", 2, 2)
    assert [r.epoch for r in reports] == [1, 2]  # epoch 1 was not trained again
    assert [r.epoch for r in second.history] == [2]
    assert second.run_dir == first.run_dir
    assert not (second.run_dir / "weights" / RESUME_FILE).exists()  # finished: nothing left to resume


def test_progress_reports_losses_and_metrics_per_epoch(yielded_then_resumed: tuple[TrainResult, TrainResult, list[EpochReport]]) -> None:
    _, second, reports = yielded_then_resumed
    for report in reports:
        assert {"train/box_loss", "train/cls_loss", "train/dfl_loss"} <= set(report.losses)
        assert all(value >= 0 for value in report.losses.values())
        assert {"precision", "recall", "mAP50", "mAP50-95"} <= set(report.metrics)
        assert all(0.0 <= report.metrics[k] <= 1.0 for k in ("precision", "recall", "mAP50", "mAP50-95"))
        assert report.checkpoint.name == "last.pt"
    assert second.metrics == reports[-1].metrics
    assert "results.png" in {p.name for p in second.plots}
    assert all(p.is_file() for p in second.plots)


def test_trained_weights_load_and_detect(yielded_then_resumed: tuple[TrainResult, TrainResult, list[EpochReport]], models_dir: Path, image_bytes: list[bytes]) -> None:
    _, second, _ = yielded_then_resumed
    assert second.best_weights is not None
    assert [YOLO(str(second.best_weights)).names[i] for i in range(3)] == SHAPE_NAMES
    model = load_vision_model(resolve_vision_model(str(second.best_weights), models_dir), models_dir, "cpu")
    assert model.names == SHAPE_NAMES
    result = detect(model, image_bytes, DetectParams(conf=0.001, max_det=20))
    assert len(result.images) == len(image_bytes)
    for image in result.images:
        assert image.annotated_png.startswith(b"\x89PNG")
        assert all(d.class_name in SHAPE_NAMES and 0 <= d.box[0] <= d.box[2] <= image.width for d in image.detections)


def test_trained_weights_install_as_a_model_folder(yielded_then_resumed: tuple[TrainResult, TrainResult, list[EpochReport]], models_dir: Path, tmp_path: Path) -> None:
    _, second, _ = yielded_then_resumed
    assert second.best_weights is not None
    info = install_weights(second.best_weights, models_dir / "shapes-detector", source="tiny-yolo on shapes")
    assert (info.task, info.names, info.imgsz, info.source) == ("detect", SHAPE_NAMES, 64, "tiny-yolo on shapes")
    source = resolve_vision_model("shapes-detector", models_dir)
    assert (source.kind, source.task) == ("folder", "detect")
    with pytest.raises(InvalidParameter, match="already exists"):
        install_weights(second.best_weights, models_dir / "shapes-detector", source="again")


def test_cancellation_stops_training(models_dir: Path, dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(Cancelled, match="epoch 1 of 2"):
        train(_params(dataset), models_dir, tmp_path / "job", should_cancel=lambda: True)


def test_a_run_stopped_without_warning_goes_on_from_its_last_epoch(models_dir: Path, dataset: Path, tmp_path: Path) -> None:
    """As when the worker or the daemon is killed: the next call on the run folder resumes, it does not start over."""
    run_dir = tmp_path / "killed"
    reports: list[EpochReport] = []
    stop_after_first = lambda: len(reports) >= 1  # noqa: E731  (stands in for a process that dies after epoch 1)
    with pytest.raises(Cancelled, match="after epoch 1 of 3"):
        train(_params(dataset, epochs=3), models_dir, run_dir, progress=reports.append, should_cancel=stop_after_first)
    assert (run_dir / "weights" / RESUME_FILE).is_file()
    resumed: list[EpochReport] = []
    result = train(_params(dataset, epochs=3), models_dir, run_dir, progress=resumed.append)
    assert [r.epoch for r in resumed] == [2, 3]
    assert result.status == "finished" and result.epochs_done == 3
    assert not (run_dir / "weights" / RESUME_FILE).exists()  # finished: nothing left to resume


def test_a_broken_dataset_is_refused_with_its_problems(models_dir: Path, dataset: Path, tmp_path: Path) -> None:
    broken = copy_dataset(dataset, tmp_path / "broken")
    (broken / "labels" / "train" / "0000.txt").write_text("7 0.5 0.5 0.2 0.2\n")
    (broken / "labels" / "val" / "0001.txt").unlink()
    with pytest.raises(DatasetRejected) as caught:
        train(_params(broken), models_dir, tmp_path / "job")
    assert isinstance(caught.value, InvalidParameter) and caught.value.field == "dataset"
    assert len(caught.value.problems) == 2
    assert "class id 7" in str(caught.value) and "0001.png has no labels" in str(caught.value)
    assert not (tmp_path / "job" / "weights").exists()


def test_tune_runs_the_requested_generations(models_dir: Path, dataset: Path, tmp_path: Path) -> None:
    generations: list[int] = []
    result = tune(_params(dataset, epochs=1), models_dir, tmp_path / "tune-job", 2, progress=lambda g, n, best: generations.append(g))
    assert generations == [1, 2]
    assert (result.status, result.generations_done, result.generations) == ("finished", 2, 2)
    assert {"lr0", "momentum", "mosaic"} <= set(result.best_hyperparameters)
    assert result.tune_dir.is_relative_to(tmp_path / "tune-job")
    assert result.best_fitness is not None

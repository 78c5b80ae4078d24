"""Training and hyperparameter tuning with ultralytics, in a run folder the caller owns.

Every epoch's checkpoint is also kept resumable (weights/resume.pt), so a run whose process was killed goes
on from its last finished epoch. Training checks should_yield() after each epoch's checkpoint: when it
answers True the run stops cleanly, and the next train() call on the same run folder goes on from there up
to the requested epochs. should_cancel() is checked after every batch.
"""

import models.vision._ultralytics  # noqa: F401  (sets ultralytics' environment: must come first)

# isort: split
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ultralytics import YOLO

from models.device import select_device
from models.errors import Cancelled, InvalidParameter, ModelError
from models.params import check_range
from models.vision.dataset import find_data_yaml, read_layout, validate_dataset
from models.vision.params import TrainParams, check_train
from models.vision.registry import materialise, pytorch_weights, resolve_vision_model

RESUME_FILE = "resume.pt"  # beside last.pt: ultralytics strips last.pt's optimizer when a run stops, this keeps it
PLOT_SUFFIXES = (".png", ".jpg")


def _never() -> bool:
    return False


@dataclass(frozen=True)
class EpochReport:
    epoch: int  # 1-based
    epochs: int
    losses: dict[str, float]  # train/box_loss, train/cls_loss, train/dfl_loss (and seg/pose losses)
    metrics: dict[str, float]  # precision, recall, mAP50, mAP50-95 (boxes), plus ultralytics' own keys
    checkpoint: Path


@dataclass(frozen=True)
class TrainResult:
    status: str  # "finished" or "yielded" (call train again with the same run_dir to go on)
    epochs_done: int
    epochs: int
    best_weights: Path | None  # None only when yielded before any epoch finished
    last_weights: Path | None
    metrics: dict[str, float]
    plots: list[Path]
    run_dir: Path
    history: list[EpochReport] = field(default_factory=list)


class DatasetRejected(InvalidParameter):
    """The dataset folder has problems; .problems lists every one."""

    def __init__(self, problems: list[str]) -> None:
        shown = "\n".join(f"- {p}" for p in problems)
        super().__init__("dataset", f"the dataset cannot be trained on; fix these {len(problems)} problems:\n{shown}")
        self.problems = problems


_SUMMARY_KEYS = {"precision": "metrics/precision(B)", "recall": "metrics/recall(B)", "mAP50": "metrics/mAP50(B)", "mAP50-95": "metrics/mAP50-95(B)"}  # fmt: skip


def summarise_metrics(raw: dict[str, Any]) -> dict[str, float]:
    metrics = {key: float(raw[source]) for key, source in _SUMMARY_KEYS.items() if source in raw}
    metrics.update({key: float(value) for key, value in raw.items() if isinstance(value, int | float)})
    return metrics


def prepared_data_yaml(dataset: Path, run_dir: Path) -> Path:
    """data.yaml with its root made absolute: ultralytics would look for a relative root in its own datasets dir."""
    problems = validate_dataset(dataset)
    if problems:
        raise DatasetRejected(problems)
    source = find_data_yaml(dataset)
    assert source is not None  # validate_dataset found it
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    layout = read_layout(dataset, [])
    assert layout is not None
    data["path"] = str(layout.root)
    target = run_dir / "data.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return target


class _EpochWatcher:
    """ultralytics callbacks: report each saved epoch, yield after it when asked, cancel between batches."""

    def __init__(self, progress: Callable[[EpochReport], None] | None, should_yield: Callable[[], bool], should_cancel: Callable[[], bool]) -> None:
        self.progress = progress
        self.should_yield = should_yield
        self.should_cancel = should_cancel
        self.history: list[EpochReport] = []
        self.yielded = False

    def on_train_batch_end(self, trainer: Any) -> None:
        if self.should_cancel():
            raise Cancelled(f"training cancelled during epoch {trainer.epoch + 1} of {trainer.epochs}")

    def on_model_save(self, trainer: Any) -> None:
        report = EpochReport(
            epoch=trainer.epoch + 1,
            epochs=trainer.epochs,
            losses={k: float(v) for k, v in trainer.label_loss_items(trainer.tloss, prefix="train").items()},
            metrics=summarise_metrics(trainer.metrics or {}),
            checkpoint=Path(trainer.last),
        )
        if report.epoch < report.epochs:
            # every epoch, so a run killed with its process (daemon or worker) resumes from here too; written
            # beside and renamed, so a kill during the copy leaves the previous epoch's checkpoint whole
            resume = Path(trainer.last).with_name(RESUME_FILE)
            partial = resume.with_name(f".{RESUME_FILE}.tmp")
            shutil.copyfile(trainer.last, partial)
            os.replace(partial, resume)
        self.history.append(report)
        if self.progress is not None:
            self.progress(report)
        if self.should_cancel():
            raise Cancelled(f"training cancelled after epoch {report.epoch} of {report.epochs}")
        if report.epoch < report.epochs and self.should_yield():
            self.yielded = True
            trainer.stop = True  # ends the loop after this epoch; final validation and plots still run

    def attach(self, yolo: YOLO) -> None:
        yolo.add_callback("on_train_batch_end", self.on_train_batch_end)
        yolo.add_callback("on_model_save", self.on_model_save)


def _plots(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.iterdir() if p.suffix.lower() in PLOT_SUFFIXES)


def train(
    params: TrainParams,
    models_dir: Path,
    run_dir: Path,
    progress: Callable[[EpochReport], None] | None = None,
    should_yield: Callable[[], bool] = _never,
    should_cancel: Callable[[], bool] = _never,
) -> TrainResult:
    """Train params.base_model on params.dataset in run_dir (one folder per job), or resume the run there."""
    check_train(params)
    run_dir.mkdir(parents=True, exist_ok=True)
    resume = run_dir / "weights" / RESUME_FILE
    device = str(select_device(params.device))
    watcher = _EpochWatcher(progress, should_yield, should_cancel)
    if resume.is_file():
        yolo = YOLO(str(resume))
        watcher.attach(yolo)
        arguments: dict[str, Any] = {"resume": True, "device": device, "workers": params.workers}
    else:
        data_yaml = prepared_data_yaml(Path(params.dataset), run_dir)
        base = materialise(resolve_vision_model(params.base_model, models_dir), models_dir)
        yolo = YOLO(str(pytorch_weights(base, "base_model", "training")))
        watcher.attach(yolo)
        arguments = {
            "data": str(data_yaml), "epochs": params.epochs, "imgsz": params.imgsz, "batch": params.batch,
            "device": device, "workers": params.workers, "seed": params.seed, "amp": params.amp, "project": str(run_dir.parent),
            "name": run_dir.name, "exist_ok": True, "save": True, "plots": True, "verbose": False, **params.extra,
        }  # fmt: skip
    try:
        yolo.train(**arguments)
    except (ModelError, Cancelled):
        raise
    except Exception as exc:
        raise ModelError(f"training failed: {exc}") from exc
    return _result(run_dir, params.epochs, watcher)


def _result(run_dir: Path, epochs: int, watcher: _EpochWatcher) -> TrainResult:
    weights = run_dir / "weights"
    resume = weights / RESUME_FILE
    if not watcher.yielded and resume.exists():
        resume.unlink()  # the run is finished: nothing left to resume
    last = watcher.history[-1] if watcher.history else None
    best = weights / "best.pt"
    return TrainResult(
        status="yielded" if watcher.yielded else "finished",
        epochs_done=last.epoch if last else 0,
        epochs=last.epochs if last else epochs,
        best_weights=best if best.is_file() else None,
        last_weights=weights / "last.pt" if (weights / "last.pt").is_file() else None,
        metrics=last.metrics if last else {},
        plots=_plots(run_dir),
        run_dir=run_dir,
        history=watcher.history,
    )


@dataclass(frozen=True)
class TuneResult:
    status: str  # "finished" or "yielded" (call tune again with the same run_dir to go on)
    generations_done: int
    generations: int
    best_hyperparameters: dict[str, float]  # pass as TrainParams.extra to train with them
    best_fitness: float | None
    best_weights: Path | None
    plots: list[Path]
    tune_dir: Path


def _tune_records(tune_dir: Path) -> list[dict[str, Any]]:
    results = tune_dir / "tune_results.ndjson"
    if not results.is_file():
        return []
    return [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]


def tune(
    params: TrainParams,
    models_dir: Path,
    run_dir: Path,
    generations: int,
    progress: Callable[[int, int, float | None], None] | None = None,
    should_yield: Callable[[], bool] = _never,
    should_cancel: Callable[[], bool] = _never,
) -> TuneResult:
    """ultralytics' genetic search, one generation (a short training of params.epochs) at a time, in run_dir/tune.

    progress(generation, generations, best fitness so far) after each; yield and cancel are checked between them,
    and a later call with the same run_dir goes on from the generations already in tune_results.ndjson.
    """
    check_train(params)
    check_range("generations", generations, 1, 1000)
    run_dir.mkdir(parents=True, exist_ok=True)
    data_yaml = prepared_data_yaml(Path(params.dataset), run_dir)
    base = materialise(resolve_vision_model(params.base_model, models_dir), models_dir)
    yolo = YOLO(str(pytorch_weights(base, "base_model", "training")))
    tune_dir = run_dir / "tune"
    arguments = {
        "data": str(data_yaml), "epochs": params.epochs, "imgsz": params.imgsz, "batch": params.batch,
        "device": str(select_device(params.device)), "workers": params.workers, "seed": params.seed, "amp": params.amp,
        "project": str(run_dir), "name": tune_dir.name, "resume": True, "plots": False, "save": True,
        "verbose": False, **params.extra,
    }  # fmt: skip
    status = "finished"
    for generation in range(len(_tune_records(tune_dir)) + 1, generations + 1):
        if should_cancel():
            raise Cancelled(f"tuning cancelled before generation {generation} of {generations}")
        try:
            yolo.tune(iterations=generation, **arguments)
        except Exception as exc:
            raise ModelError(f"tuning generation {generation} failed: {exc}") from exc
        if progress is not None:
            progress(generation, generations, _best_fitness(tune_dir))
        if generation < generations and should_yield():
            status = "yielded"
            break
    return _tune_result(status, generations, tune_dir)


def _best_fitness(tune_dir: Path) -> float | None:
    values = [r["fitness"] for r in _tune_records(tune_dir) if isinstance(r.get("fitness"), int | float)]
    return max(values) if values else None


def _tune_result(status: str, generations: int, tune_dir: Path) -> TuneResult:
    best_file = tune_dir / "best_hyperparameters.yaml"
    best = yaml.safe_load(best_file.read_text(encoding="utf-8")) if best_file.is_file() else {}
    weights = tune_dir / "weights" / "best.pt"
    return TuneResult(
        status=status,
        generations_done=len(_tune_records(tune_dir)),
        generations=generations,
        best_hyperparameters={k: float(v) for k, v in (best or {}).items()},
        best_fitness=_best_fitness(tune_dir),
        best_weights=weights if weights.is_file() else None,
        plots=_plots(tune_dir),
        tune_dir=tune_dir,
    )

"""Vision jobs in the worker: detect (and segment, pose, classify), export, benchmark and train on YOLO models.

Each job ends with a "done" event; export and train put what they made under "register" in its
report for the daemon to register, and a benchmark with select puts its choice under "select".
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.protocol import FrameWriter
from daemon.worker_outputs import send_output

LOADED_VISION_MODELS = 2  # small models: keep the last two loaded


class VisionRunner:
    def __init__(
        self, out: FrameWriter, models_dir: Path, device: Any, is_cancelled: Callable[[str], bool], yields: set[str]
    ) -> None:
        self.out = out
        self.models_dir = models_dir
        self.device = str(device)
        self.is_cancelled = is_cancelled
        self.yields = yields
        self._loaded: OrderedDict[str, Any] = OrderedDict()

    def run(self, job: dict[str, Any]) -> None:
        started = time.perf_counter()
        self.out.send({"ev": "started", "job_id": job["job_id"], "load_ms": 0.0})
        outcome = getattr(self, f"_{job['kind']}")(job)
        if outcome is None:  # yielded
            return
        report, load_ms = outcome
        run_ms = (time.perf_counter() - started) * 1000 - load_ms
        self.out.send(
            {"ev": "done", "job_id": job["job_id"], "load_ms": load_ms, "run_ms": run_ms, "encode_ms": 0.0, "report": report}
        )

    # -- helpers ----------------------------------------------------------------

    def _source(self, ref: str) -> Any:
        from models.vision.registry import materialise, resolve_vision_model

        return materialise(resolve_vision_model(ref, self.models_dir), self.models_dir)

    def _model(self, ref: str) -> tuple[Any, float]:
        """The loaded model for ref (a name or a path) and the milliseconds its load took (0 when it was loaded)."""
        from models.vision.engines import load_vision_model

        if ref in self._loaded:
            self._loaded.move_to_end(ref)
            return self._loaded[ref], 0.0
        began = time.perf_counter()
        model = load_vision_model(self._source(ref), self.models_dir, self.device)
        self._loaded[ref] = model
        while len(self._loaded) > LOADED_VISION_MODELS:
            self._loaded.popitem(last=False)
        return model, (time.perf_counter() - began) * 1000

    def _progress(self, job_id: str, stage: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            self.out.send({"ev": "progress", "job_id": job_id, "step": done, "total": total, "stage": stage})

        return report

    def _stages(self, job_id: str) -> Callable[[str, int, int], None]:
        def report(stage: str, done: int, total: int) -> None:
            self.out.send({"ev": "progress", "job_id": job_id, "step": done, "total": total, "stage": stage})

        return report

    # -- job kinds --------------------------------------------------------------

    def _detect(self, job: dict[str, Any]) -> tuple[dict[str, Any], float]:
        from models.vision.detect import detect
        from models.vision.params import DetectParams

        p = job["params"]
        model, load_ms = self._model(job.get("engine_model") or job["model"])
        params = DetectParams(
            task=p["task"] or model.task, conf=p["conf"], iou=p["iou"], classes=tuple(p["classes"]),
            imgsz=p["imgsz"] or None, max_det=p["max_det"], device=self.device,
        )  # fmt: skip
        images = [Path(path).read_bytes() for path in p["images"]]
        job_id = job["job_id"]
        result = detect(model, images, params, self._progress(job_id, "detect"), lambda: self.is_cancelled(job_id))
        found = 0
        for image in result.images:
            found += len(image.detections)
            detections = {
                "image_index": image.index, "width": image.width, "height": image.height,
                "objects": [_detection(d) for d in image.detections],
                "top": [dataclasses.asdict(c) for c in image.top5],
                "engine": result.engine, "provider": result.provider,
                "inference_ms": result.inference_ms / max(1, len(result.images)),
            }  # fmt: skip
            send_output(self.out, job, image.index, image.annotated_png, (image.width, image.height), detections=detections)
        what = f"{found} object(s)" if result.task != "classify" else "classes"
        summary = f"{result.task}: {what} in {len(result.images)} image(s) with {result.engine} on {result.provider}"
        return {"summary": summary, "metrics": {"inference_ms": result.inference_ms}}, load_ms

    def _export(self, job: dict[str, Any]) -> tuple[dict[str, Any], float]:
        from models.vision.export import export_onnx
        from models.vision.params import ExportParams

        p = job["params"]
        target = self.models_dir / p["name"]
        calibration = Path(p["int8_calibration"]) if p["int8_calibration"] else None
        # half asks for fp16 where the device runs it (None: CUDA yes, CPU no); False is fp32 everywhere
        params = ExportParams(
            half=None if p["half"] else False, int8_calibration=calibration, imgsz=p["imgsz"] or None, device=self.device
        )
        result = export_onnx(self._source(job["model"]), self.models_dir, target, params, self._stages(job["job_id"]))
        info = result.info
        summary = f"exported {job['model']} to ONNX ({info.precision}, {info.task}, {info.imgsz} px) as model '{p['name']}'"
        register = _registration(p["name"], "onnx", result.folder, summary)
        return {"model": p["name"], "summary": summary, "register": register}, 0.0

    def _benchmark(self, job: dict[str, Any]) -> tuple[dict[str, Any], float]:
        from models.vision.bench import benchmark, select_engine
        from models.vision.params import BenchParams

        p = job["params"]
        run_dir = Path(job["run_dir"])
        params = BenchParams(
            batch_sizes=tuple(p["batch_sizes"]), warmup=p["warmup"], runs=p["runs"], imgsz=p["imgsz"] or None,
            engines=tuple(p["engines"]), validation=Path(p["validation"]) if p["validation"] else None, device=self.device,
        )  # fmt: skip
        report = benchmark(self._source(job["model"]), self.models_dir, run_dir, params, self._stages(job["job_id"]))
        accuracy = {a.engine: a.agreement for a in report.accuracy}
        rows = [
            {
                "engine": r.engine, "provider": r.provider, "batch_size": r.batch_size, "p50_ms": r.p50_ms,
                "p95_ms": r.p95_ms, "p99_ms": r.p99_ms, "images_per_second": r.images_per_second,
                "peak_memory_bytes": r.peak_memory_bytes, "memory_kind": r.memory_kind, "accuracy": accuracy.get(r.engine),
            }  # fmt: skip
            for r in report.runs
        ]
        choice = select_engine(report, p["tolerance"])
        out: dict[str, Any] = {
            "benchmark": rows,
            "summary": f"fastest within {p['tolerance']:g} of PyTorch's accuracy: {choice.engine} "
            f"({choice.images_per_second:.1f} images/s)",
        }
        if p["select"]:
            out["selected_engine"] = choice.engine
            out["select"] = {"engine": choice.engine}
            if Path(choice.model).resolve() != self._source(job["model"]).path.resolve():
                kept = self.models_dir / f"{Path(job['model']).name}-{choice.engine}"
                if kept.exists():
                    shutil.rmtree(kept)
                shutil.copytree(choice.model, kept)
                out["select"]["engine_model"] = kept.name
                out["register"] = _registration(kept.name, "onnx", kept, f"{choice.engine} engine of {job['model']}")
        return out, 0.0

    def _train(self, job: dict[str, Any]) -> tuple[dict[str, Any], float] | None:
        from models.vision.install import install_weights
        from models.vision.params import TrainParams
        from models.vision.train import train, tune

        p = job["params"]
        job_id = job["job_id"]
        run_dir = Path(job["run_dir"])
        params = TrainParams(
            dataset=Path(p["dataset"]), base_model=job["model"], epochs=p["epochs"], imgsz=p["imgsz"], batch=p["batch"],
            device=self.device,
        )  # fmt: skip
        should_yield = lambda: job_id in self.yields  # noqa: E731
        should_cancel = lambda: self.is_cancelled(job_id)  # noqa: E731
        if p["tune"]:
            def on_generation(generation: int, generations: int, fitness: float | None) -> None:
                metrics = {} if fitness is None else {"fitness": fitness}
                self.out.send(
                    {"ev": "progress", "job_id": job_id, "step": generation, "total": generations, "stage": "tune", "metrics": metrics}
                )

            tuned = tune(params, self.models_dir, run_dir, p["tune"], on_generation, should_yield, should_cancel)
            if tuned.status == "yielded":
                self.out.send({"ev": "yielded", "job_id": job_id})
                return None
            params = dataclasses.replace(params, extra=dict(tuned.best_hyperparameters))

        def on_epoch(epoch: Any) -> None:
            metrics = {**epoch.losses, **epoch.metrics}
            self.out.send(
                {"ev": "progress", "job_id": job_id, "step": epoch.epoch, "total": epoch.epochs, "stage": "epoch", "metrics": metrics}
            )

        result = train(params, self.models_dir, run_dir / "train", on_epoch, should_yield, should_cancel)
        if result.status == "yielded":
            self.out.send({"ev": "yielded", "job_id": job_id})
            return None
        if result.best_weights is None:
            raise RuntimeError("training finished without writing best.pt")
        folder = self.models_dir / p["name"]
        install_weights(result.best_weights, folder, f"trained from {job['model']} on {p['dataset']}")
        for index, plot in enumerate(result.plots):
            _send_plot(self.out, job, index, plot)
        summary = f"trained {job['model']} on {Path(p['dataset']).name} for {result.epochs_done} epoch(s) as model '{p['name']}'"
        register = _registration(p["name"], "yolo", folder, summary)
        return {"model": p["name"], "metrics": result.metrics, "summary": summary, "register": register}, 0.0


def _detection(d: Any) -> dict[str, Any]:
    x1, y1, x2, y2 = d.box
    return {
        "class_id": d.class_id, "class_name": d.class_name, "score": d.score, "x1": x1, "y1": y1, "x2": x2, "y2": y2,
        "polygon": [{"x": x, "y": y} for x, y in d.polygon or ()],
        "keypoints": [{"x": k.x, "y": k.y, "confidence": k.confidence or 0.0} for k in d.keypoints or ()],
    }  # fmt: skip


def _registration(name: str, kind: str, folder: Path, description: str) -> dict[str, Any]:
    files = sorted(str(f.relative_to(folder)) for f in folder.rglob("*") if f.is_file())
    size = sum((folder / f).stat().st_size for f in files)
    return {"name": name, "kind": kind, "location": str(folder), "files": files, "size_bytes": size, "description": description}


def _send_plot(out: FrameWriter, job: dict[str, Any], index: int, plot: Path) -> None:
    from PIL import Image

    data = plot.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        size, mime = image.size, Image.MIME.get(image.format or "", "image/png")
    send_output(out, job, index, data, size, suffix=plot.suffix.lower(), mime_type=mime)

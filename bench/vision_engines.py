"""ONNX Runtime against PyTorch (and int8 against fp32) for a YOLO model, measured side by side in one run.

    python bench/vision_engines.py [--model tiny-yolo] [--batch 1 4] [--runs 20] [--imgsz 320]

Builds the model if it is built in, exports it to ONNX (fp32, and int8 calibrated on synthetic
pictures), measures every engine with models.vision.bench.benchmark on seeded synthetic images,
prints the report as a table, the engine select_engine picks at a 0.05 tolerance, and as the last
line ratio=<onnxruntime images/s over pytorch images/s at the largest batch>.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from models.vision.bench import benchmark, select_engine
from models.vision.params import BenchParams
from models.vision.registry import resolve_vision_model
from models.vision.synthetic import make_synthetic_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-yolo")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--imgsz", type=int, default=None)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vision-bench-") as scratch:
        work = Path(scratch)
        models_dir = work / "models"
        make_synthetic_dataset(work / "calibration", train=16, val=0, seed=1)
        params = BenchParams(
            batch_sizes=tuple(args.batch), warmup=3, runs=args.runs, imgsz=args.imgsz, validation_images=16,
            int8_calibration=work / "calibration" / "images" / "train", device=args.device,
        )  # fmt: skip
        report = benchmark(resolve_vision_model(args.model, models_dir), models_dir, work / "exports", params)
    print(f"{'engine':<18} {'provider':<22} {'batch':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'img/s':>8} {'peak MB':>8}")
    for run in report.runs:
        print(
            f"{run.engine:<18} {run.provider:<22} {run.batch_size:>5} {run.p50_ms:>8.1f} {run.p95_ms:>8.1f} "
            f"{run.p99_ms:>8.1f} {run.images_per_second:>8.1f} {run.peak_memory_bytes / 2**20:>8.1f}"
        )
    print(f"memory: {report.memory_note}")
    for accuracy in report.accuracy:
        print(f"accuracy {accuracy.engine}: {accuracy.agreement:.3f} ({report.accuracy_metric}, {accuracy.images} images)")
    print(f"selected at tolerance 0.05: {select_engine(report, 0.05).engine}")
    largest = max(args.batch)
    speed = {run.engine: run.images_per_second for run in report.runs if run.batch_size == largest}
    print(f"ratio={speed['onnxruntime'] / speed['pytorch']:.3f}")


if __name__ == "__main__":
    main()

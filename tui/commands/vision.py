"""`imagine detect`, `imagine bench`, `imagine train` and `imagine models export`: the YOLO side of the daemon."""

from __future__ import annotations

import argparse
import os
import uuid

from imagine import types as t

from tui import options
from tui.commands.run import add_priority
from tui.follow import add_follow_options, submit_and_follow
from tui.inputs import image_input
from tui.options import UsageError
from tui.results import OutputTarget
from tui.session import with_client

ENGINES = ("pytorch", "onnxruntime")
TASKS = ("detect", "segment", "pose", "classify")

DETECT_EPILOG = """\
examples:
  imagine detect street.jpg                     # tiny-yolo, the built-in detector
  imagine detect a.jpg b.png -m yolo11n --conf 0.4 --classes person,car -o annotated/
  imagine detect 3f2a9c1b7d4e-0 --task segment --json

IMAGE is an image file (PNG, JPEG or WebP) or an earlier output's id. Prints, per
image, a table of what was found (class, score, box in pixels); with -o DIR the
annotated PNGs are saved there as <output id>.png.
"""

BENCH_EPILOG = """\
examples:
  imagine bench tiny-yolo
  imagine bench yolo11n --engines pytorch,onnxruntime --batch-sizes 1,8 --runs 50
  imagine bench yolo11n --select --tolerance 0.01 --validation ~/data/val-set

Times the model on every engine present (PyTorch, ONNX Runtime with the best
execution provider) per batch size, after a warm-up, and prints latency
percentiles, throughput, peak memory and agreement with PyTorch. With --select
the fastest engine within --tolerance of PyTorch's accuracy becomes the model's
default engine.
"""

TRAIN_EPILOG = """\
examples:
  imagine train ~/data/parts                    # fine-tune tiny-yolo, 10 epochs
  imagine train ~/data/parts -m yolo11n --epochs 50 --imgsz 640 --batch 16 --name parts-v1
  imagine train ~/data/parts --tune 5 --epochs 3

DATASET is a YOLO-format folder on the daemon's machine (data.yaml, images/,
labels/). A broken one is refused with the list of what is wrong. Training runs
at low priority and yields to other jobs between epochs; each epoch prints its
losses and validation metrics, the end the final metrics and the new model.
"""

EXPORT_EPILOG = """\
examples:
  imagine models export tiny-yolo --format onnx
  imagine models export yolo11n --format onnx --half --name yolo11n-fp16
  imagine models export yolo11n --format onnx --int8 ~/data/calibration-images

The export is a job on the daemon; the new model is registered under --name
(default <model>-onnx, -fp16 or -int8) and printed at the end.
"""


def _parser(subparsers: argparse._SubParsersAction, name: str, help: str, description: str, epilog: str) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    return subparsers.add_parser(  # type: ignore[no-any-return]
        name, help=help, description=description, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def daemon_folder(text: str) -> str:
    """A folder the daemon reads, as an absolute path (relative ones are taken from the current directory)."""
    return os.path.abspath(os.path.expanduser(text))


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = _parser(
        subparsers, "detect", "find objects in images with a YOLO model (detect, segment, pose, classify)",
        "Run a YOLO model on images: boxes, class names and scores (and outlines or keypoints), "
        "printed as a table per image, plus an annotated PNG per image.", DETECT_EPILOG,
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files or output ids (up to 64)")
    p.add_argument("-m", "--model", default="", metavar="NAME", help="a YOLO model (default: tiny-yolo)")
    p.add_argument("--task", choices=TASKS, default="", metavar="TASK", help="detect, segment, pose or classify (default: the model's own task)")
    p.add_argument("--conf", type=options.fraction, metavar="F", help="minimum score 0..1 (default: 0.25)")
    p.add_argument("--iou", type=options.fraction, metavar="F", help="overlap above which boxes are merged, 0..1 (default: 0.7)")
    p.add_argument("--classes", type=options.comma_list(str), default=(), metavar="A,B", help="keep only these class names or ids")
    p.add_argument("--imgsz", type=options.imgsz, metavar="N", help="inference size, a multiple of 32 (default: the model's)")
    p.add_argument("--max-det", type=options.positive_int, metavar="N", help="at most N objects per image (default: 300)")
    p.add_argument("--engine", choices=ENGINES, default="", metavar="ENGINE", help="pytorch or onnxruntime (default: the model's default engine)")
    add_priority(p)
    add_follow_options(p, detach=True, output="save the annotated images into DIR as <output id>.png")
    p.set_defaults(func=cmd_detect)

    p = _parser(
        subparsers, "bench", "time a YOLO model on every engine and batch size; optionally pick the fastest",
        "Benchmark a YOLO model: p50/p95/p99 latency, images per second and peak memory per engine "
        "and batch size, and accuracy against PyTorch.", BENCH_EPILOG,
    )
    p.add_argument("model", metavar="MODEL", help="a YOLO model, e.g. tiny-yolo")
    p.add_argument("--engines", type=options.comma_list(_engine), default=(), metavar="A,B", help="pytorch, onnxruntime (default: every engine present)")
    p.add_argument("--batch-sizes", type=options.comma_list(options.positive_int), default=(), metavar="N,M", help="batch sizes to time (default: 1,4)")
    p.add_argument("--runs", type=options.positive_int, metavar="N", help="timed runs per engine and batch size (default: 20)")
    p.add_argument("--warmup", type=options.whole_between(0, 100), metavar="N", help="untimed runs first (default: 3)")
    p.add_argument("--imgsz", type=options.imgsz, metavar="N", help="input size, a multiple of 32 (default: the model's)")
    p.add_argument("--select", action="store_true", help="make the fastest engine within --tolerance the model's default")
    p.add_argument("--tolerance", type=options.fraction, metavar="F", help="accuracy may be at most F below PyTorch's (default: 0.02)")
    p.add_argument("--validation", type=daemon_folder, metavar="DIR", help="YOLO dataset for the accuracy check (default: a built-in synthetic set)")
    add_priority(p)
    add_follow_options(p, detach=True, output=None)
    p.set_defaults(func=cmd_bench)

    p = _parser(
        subparsers, "train", "fine-tune a YOLO model on a dataset folder; registers the result",
        "Train a YOLO model on a YOLO-format dataset, following it epoch by epoch; "
        "the best weights are registered as a new model.", TRAIN_EPILOG,
    )
    p.add_argument("dataset", type=daemon_folder, metavar="DATASET", help="a YOLO dataset folder (data.yaml, images/, labels/)")
    p.add_argument("-m", "--model", default="", metavar="BASE", help="the model to start from (default: tiny-yolo)")
    p.add_argument("--epochs", type=options.positive_int, metavar="N", help="epochs (default: 10)")
    p.add_argument("--imgsz", type=options.imgsz, metavar="N", help="training image size, a multiple of 32 (default: 640)")
    p.add_argument("--batch", type=options.positive_int, metavar="N", help="images per batch (default: 8)")
    p.add_argument("--tune", type=options.positive_int, metavar="N", help="first run N generations of hyperparameter search")
    p.add_argument("--name", default="", metavar="NEW", help="name of the trained model (default: <model>-<dataset>)")
    p.add_argument(
        "--priority", choices=("low", "high"), default="low", metavar="LEVEL",
        help="low (default: yields to other jobs between epochs) or high",
    )
    add_follow_options(p, detach=True, output=None)
    p.set_defaults(func=cmd_train)


def register_export(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`imagine models export`, registered by `imagine models`."""
    p = _parser(
        sub, "export", "export a YOLO model to ONNX and register the result as a new model",
        "Export a YOLO model to ONNX (dynamic batch; fp16 with --half on a GPU; int8 with --int8 by "
        "quantizing over a folder of calibration images) and register it as a new model.", EXPORT_EPILOG,
    )
    p.add_argument("model", metavar="NAME", help="a YOLO model, e.g. tiny-yolo")
    p.add_argument("--format", choices=("onnx",), default="onnx", help="onnx, the only format so far (default)")
    p.add_argument("--half", action="store_true", help="fp16 weights (where the daemon's device supports it)")
    p.add_argument("--int8", type=daemon_folder, metavar="DIR", help="int8 by quantization, calibrated on the images in DIR")
    p.add_argument("--name", default="", metavar="NEW", help="name of the new model (default: <model>-onnx, -fp16 or -int8)")
    p.add_argument("--imgsz", type=options.imgsz, metavar="N", help="input size, a multiple of 32 (default: the model's)")
    add_follow_options(p, detach=False, output=None)
    p.set_defaults(func=cmd_export, priority="normal")


def _engine(text: str) -> str:
    if text.lower() not in ENGINES:
        raise argparse.ArgumentTypeError(f"{text!r} is not an engine; use {' or '.join(ENGINES)}")
    return text.lower()


def _spec(args: argparse.Namespace, task: t.Task) -> t.JobSpec:
    return t.JobSpec(task=task, model=args.model, priority=t.Priority(args.priority), request_id=str(uuid.uuid4()))


def detect_spec(args: argparse.Namespace) -> t.JobSpec:
    task = t.Detect(
        images=tuple(image_input(text, "IMAGE") for text in args.images),
        task=args.task,
        conf=args.conf,
        iou=args.iou,
        classes=tuple(args.classes),
        imgsz=args.imgsz or 0,
        max_det=args.max_det or 0,
        engine=args.engine,
    )
    return _spec(args, task)


def bench_spec(args: argparse.Namespace) -> t.JobSpec:
    task = t.Benchmark(
        engines=tuple(args.engines),
        batch_sizes=tuple(args.batch_sizes),
        runs=args.runs or 0,
        warmup=args.warmup or 0,
        imgsz=args.imgsz or 0,
        select=args.select,
        tolerance=args.tolerance,
        validation=args.validation or "",
    )
    if args.tolerance is not None and not args.select:
        raise UsageError("--tolerance decides what --select may pick; add --select")
    return _spec(args, task)


def train_spec(args: argparse.Namespace) -> t.JobSpec:
    task = t.Train(
        dataset=args.dataset,
        epochs=args.epochs or 0,
        imgsz=args.imgsz or 0,
        batch=args.batch or 0,
        tune=args.tune or 0,
        name=args.name,
    )
    return _spec(args, task)


def export_spec(args: argparse.Namespace) -> t.JobSpec:
    if args.half and args.int8:
        raise UsageError("--half and --int8 are two precisions; choose one")
    task = t.Export(format=args.format, half=args.half, int8_calibration=args.int8 or "", name=args.name, imgsz=args.imgsz or 0)
    return _spec(args, task)


def _submit(args: argparse.Namespace, spec: t.JobSpec, target: OutputTarget | None = None, names: tuple[str, ...] = ()) -> int:
    if getattr(args, "detach", False) and args.output:
        raise UsageError("-o waits for the results, --detach does not; use one of them")
    return with_client(args, lambda client: submit_and_follow(client, spec, args, target, names))


def cmd_detect(args: argparse.Namespace) -> int:
    spec = detect_spec(args)
    target = OutputTarget.parse(args.output, count=len(args.images), folder_only=True)
    return _submit(args, spec, target, tuple(args.images))


def cmd_bench(args: argparse.Namespace) -> int:
    return _submit(args, bench_spec(args))


def cmd_train(args: argparse.Namespace) -> int:
    return _submit(args, train_spec(args))


def cmd_export(args: argparse.Namespace) -> int:
    return _submit(args, export_spec(args))

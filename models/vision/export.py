"""Export a YOLO model to ONNX (dynamic batch; fp16 on CUDA; int8 by ONNX Runtime static quantization)."""

import models.vision._ultralytics  # noqa: F401  (sets ultralytics' environment: must come first)

# isort: split
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from models.device import select_device
from models.errors import InvalidParameter, ModelError
from models.vision.dataset import IMAGE_SUFFIXES
from models.vision.engines import checkpoint_imgsz, class_names, load_yolo, model_input
from models.vision.params import ExportParams, check_export
from models.vision.registry import (
    WEIGHT_FILES,
    VisionModelInfo,
    VisionModelSource,
    materialise,
    new_model_folder,
    pytorch_weights,
    write_info,
)

StageProgress = Callable[[str, int, int], None]  # (stage, stages done, stages in all)


@dataclass(frozen=True)
class ExportResult:
    folder: Path  # model.onnx + vision.json: resolve_vision_model(str(folder), ...) finds it
    info: VisionModelInfo
    onnx_bytes: int


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def calibration_files(folder: Path, limit: int) -> list[Path]:
    files = image_files(folder)[:limit]
    if not files:
        raise InvalidParameter("int8_calibration", f"calibration folder '{folder}' holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


class FolderCalibrationReader(CalibrationDataReader):
    """Images of a folder, one at a time, prepared exactly as inference prepares them (square letterbox)."""

    def __init__(self, folder: Path, input_name: str, task: str, imgsz: int, limit: int) -> None:
        self.files = calibration_files(folder, limit)
        self.input_name = input_name
        self.task = task
        self.imgsz = imgsz
        self._batches = self._read()

    def _read(self) -> Iterator[dict[str, np.ndarray]]:
        for path in self.files:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise InvalidParameter("int8_calibration", f"calibration image '{path}' cannot be read; remove it or replace it")
            yield {self.input_name: model_input([image], self.task, self.imgsz, dynamic_size=False)}

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)

    def rewind(self) -> None:
        self._batches = self._read()


_HEAD_NODE = re.compile(r"/model\.(\d+)/")
_LEARNED_OPS = {"Conv", "Gemm", "MatMul"}


def head_nodes_to_keep_float(model: onnx.ModelProto) -> list[str]:
    """Nodes of the last layer (YOLO's head) other than its learned convolutions: the box decoding, the
    distribution-focal-loss integral, sigmoids, softmax and the concatenation of pixel coordinates with 0..1 scores.
    In int8 they would share one scale, and every score would round to zero."""
    layers = {int(m.group(1)) for node in model.graph.node if (m := _HEAD_NODE.match(node.name))}
    if not layers:
        return []
    prefix = f"/model.{max(layers)}/"
    return [
        node.name
        for node in model.graph.node
        if node.name.startswith(prefix) and (node.op_type not in _LEARNED_OPS or "/dfl/" in node.name)
    ]


def _quantize(onnx_path: Path, calibration: Path, task: str, imgsz: int, limit: int) -> None:
    # ONNX Runtime's recommended preparation (shape inference and graph optimisation); its symbolic shape
    # inference cannot follow YOLO's dynamic height and width, so ONNX's own shape inference is used.
    prepared = onnx_path.with_name("model.prepared.onnx")
    quant_pre_process(str(onnx_path), str(prepared), skip_symbolic_shape=True)
    model = onnx.load(str(prepared))
    reader = FolderCalibrationReader(calibration, model.graph.input[0].name, task, imgsz, limit)
    quantized = onnx_path.with_name("model.int8.onnx")
    quantize_static(
        str(prepared),
        str(quantized),
        reader,
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=head_nodes_to_keep_float(model),
    )
    result = onnx.load(str(quantized))
    del result.metadata_props[:]
    result.metadata_props.extend(model.metadata_props)  # ultralytics' task, names and shapes stay with the model
    onnx.save(result, str(onnx_path))
    quantized.unlink()
    prepared.unlink()


def export_onnx(
    source: VisionModelSource,
    models_dir: Path,
    target: Path,
    params: ExportParams,
    progress: StageProgress | None = None,
) -> ExportResult:
    """Write target/model.onnx and target/vision.json; target must not exist yet (it appears complete or not at all)."""
    check_export(params)
    device = select_device(params.device)
    if params.half and device.type != "cuda":
        raise InvalidParameter("half", f"fp16 export needs a CUDA device and this job runs on {device}; export in fp32 or int8")
    int8 = params.int8_calibration is not None
    half = (device.type == "cuda" and not int8) if params.half is None else params.half  # int8 starts from fp32
    if params.int8_calibration is not None:
        calibration_files(Path(params.int8_calibration), params.calibration_images)  # fail before the slow part
    stages = 3 if int8 else 2
    report = progress or (lambda stage, done, total: None)
    source = materialise(source, models_dir)
    try:
        with new_model_folder(target) as staging:
            report("export", 0, stages)
            info = _export_into(staging, source, params, str(device), half, lambda: report("quantize", 1, stages))
            report("write", stages - 1, stages)
            write_info(staging, info)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"exporting '{source.name}' to ONNX failed: {exc}") from exc
    report("done", stages, stages)
    return ExportResult(folder=target, info=info, onnx_bytes=(target / WEIGHT_FILES["onnxruntime"]).stat().st_size)


def _export_into(
    folder: Path, source: VisionModelSource, params: ExportParams, device: str, half: bool, quantizing: Callable[[], None]
) -> VisionModelInfo:
    weights = folder / WEIGHT_FILES["pytorch"]
    shutil.copyfile(pytorch_weights(source, "model", "export"), weights)  # ultralytics writes the .onnx beside it
    yolo = load_yolo(weights)
    imgsz = params.imgsz or checkpoint_imgsz(yolo)
    exported = Path(yolo.export(format="onnx", dynamic=True, half=half, imgsz=imgsz, device=device, simplify=True))
    weights.unlink()
    onnx_path = folder / WEIGHT_FILES["onnxruntime"]
    exported.rename(onnx_path)
    precision = "fp16" if half else "fp32"
    if params.int8_calibration is not None:
        quantizing()
        _quantize(onnx_path, Path(params.int8_calibration), str(yolo.task), imgsz, params.calibration_images)
        precision = "int8"
    return VisionModelInfo(
        task=str(yolo.task),
        names=class_names(yolo),
        imgsz=imgsz,
        engine="onnxruntime",
        precision=precision,
        source=source.name,
        kpt_shape=list(yolo.model.kpt_shape) if yolo.task == "pose" else None,
    )

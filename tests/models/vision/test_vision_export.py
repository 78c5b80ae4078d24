from pathlib import Path

import onnx
import pytest

from models.errors import InvalidParameter
from models.vision.detect import detect
from models.vision.engines import VisionModel, load_vision_model
from models.vision.export import export_onnx, head_nodes_to_keep_float
from models.vision.params import DetectParams, ExportParams
from models.vision.registry import read_info, resolve_vision_model
from models.vision.results import Detection, ImageResult

from .conftest import TASK_MODELS, decode_png

PIXELS = 1.0  # ONNX Runtime and PyTorch agree on every box to within a pixel
SCORE = 1e-3
CONF = 0.1
MARGIN = 0.01  # objects this close to the threshold may fall either side of it in one engine and not the other


def _clear(detections: list[Detection]) -> list[Detection]:
    return [d for d in detections if d.score >= CONF + MARGIN]


def _same(a: Detection, b: Detection) -> bool:
    close = all(abs(p - q) <= PIXELS for p, q in zip(a.box, b.box))
    return a.class_id == b.class_id and close and abs(a.score - b.score) <= SCORE


def _assert_same_objects(torch_image: ImageResult, onnx_image: ImageResult, task: str) -> None:
    for ours, theirs in ((torch_image.detections, onnx_image.detections), (onnx_image.detections, torch_image.detections)):
        for found in _clear(ours):
            twins = [other for other in theirs if _same(found, other)]
            assert twins, f"{found} has no counterpart within {PIXELS} px"
            if task == "pose":
                assert found.keypoints is not None and twins[0].keypoints is not None
                assert max(abs(k.x - j.x) + abs(k.y - j.y) for k, j in zip(found.keypoints, twins[0].keypoints)) <= 2 * PIXELS
            if task == "segment":
                assert twins[0].polygon


@pytest.mark.parametrize("task", list(TASK_MODELS))
def test_onnx_export_gives_the_same_results_as_pytorch(
    models_dir: Path, onnx_exports: dict[str, Path], loaded: dict[str, VisionModel], image_bytes: list[bytes], task: str
) -> None:
    onnx_model = load_vision_model(resolve_vision_model(str(onnx_exports[task]), models_dir), models_dir, "cpu")
    params = DetectParams(task=task, conf=CONF, max_det=50)
    torch_result = detect(loaded[task], image_bytes, params)
    onnx_result = detect(onnx_model, image_bytes, params)
    assert (onnx_result.engine, onnx_result.provider) == ("onnxruntime", "CPUExecutionProvider")
    for torch_image, onnx_image in zip(torch_result.images, onnx_result.images):
        assert (onnx_image.width, onnx_image.height) == (torch_image.width, torch_image.height)
        decode_png(onnx_image.annotated_png)
        if task == "classify":
            assert [c.class_id for c in onnx_image.top5] == [c.class_id for c in torch_image.top5]
            assert all(abs(a.score - b.score) <= SCORE for a, b in zip(onnx_image.top5, torch_image.top5))
        else:
            _assert_same_objects(torch_image, onnx_image, task)
    if task != "classify":
        assert any(_clear(image.detections) for image in torch_result.images), "nothing to compare"


def test_export_folder_describes_the_model(onnx_exports: dict[str, Path], loaded: dict[str, VisionModel]) -> None:
    info = read_info(onnx_exports["pose"])
    assert (info.task, info.engine, info.precision, info.source) == ("pose", "onnxruntime", "fp32", "tiny-yolo-pose")
    assert info.names == loaded["pose"].names and info.imgsz == loaded["pose"].imgsz and info.kpt_shape == [17, 3]
    graph = onnx.load(str(onnx_exports["detect"] / "model.onnx")).graph
    assert isinstance(graph.input[0].type.tensor_type.shape.dim[0].dim_param, str)
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param  # the batch dimension is named: dynamic


def test_dynamic_batch_runs_several_images_in_one_pass(models_dir: Path, onnx_exports: dict[str, Path], image_bytes: list[bytes]) -> None:
    model = load_vision_model(resolve_vision_model(str(onnx_exports["detect"]), models_dir), models_dir, "cpu")
    together = detect(model, image_bytes[:2], DetectParams(batch=2, conf=CONF), annotate=False)
    alone = [detect(model, [image], DetectParams(batch=1, conf=CONF), annotate=False).images[0] for image in image_bytes[:2]]
    for batched, single in zip(together.images, alone):
        assert len(_clear(batched.detections)) == len(_clear(single.detections))


def test_int8_export_quantizes_the_body_and_runs(
    models_dir: Path, onnx_exports: dict[str, Path], int8_export: Path, image_bytes: list[bytes]
) -> None:
    info = read_info(int8_export)
    assert (info.precision, info.task) == ("int8", "detect")
    model_proto = onnx.load(str(int8_export / "model.onnx"))
    assert any(node.op_type == "QuantizeLinear" for node in model_proto.graph.node)
    fp32_size = (onnx_exports["detect"] / "model.onnx").stat().st_size
    assert (int8_export / "model.onnx").stat().st_size < fp32_size / 2
    model = load_vision_model(resolve_vision_model(str(int8_export), models_dir), models_dir, "cpu")
    assert model.names == read_info(models_dir / "tiny-yolo").names  # ultralytics' metadata survives quantization
    result = detect(model, image_bytes, DetectParams(conf=CONF))
    assert any(image.detections for image in result.images)  # the float head keeps scores from rounding to zero
    assert all(0 <= d.box[0] <= d.box[2] <= image.width for image in result.images for d in image.detections)


def test_the_head_decoding_stays_float(onnx_exports: dict[str, Path]) -> None:
    graph = onnx.load(str(onnx_exports["detect"] / "model.onnx"))
    kept = head_nodes_to_keep_float(graph)
    ops = {node.op_type for node in graph.graph.node if node.name in kept}
    assert {"Sigmoid", "Concat", "Softmax"} <= ops and "Conv" not in {n.op_type for n in graph.graph.node if n.name in kept and "/dfl/" not in n.name}


def test_export_refuses_what_it_cannot_do(models_dir: Path, onnx_exports: dict[str, Path], tmp_path: Path) -> None:
    tiny = resolve_vision_model("tiny-yolo", models_dir)
    with pytest.raises(InvalidParameter, match="CUDA") as caught:
        export_onnx(tiny, models_dir, tmp_path / "half", ExportParams(half=True, device="cpu"))
    assert caught.value.field == "half"
    with pytest.raises(InvalidParameter, match="already exists") as caught:
        export_onnx(tiny, models_dir, onnx_exports["detect"], ExportParams(device="cpu"))
    assert caught.value.field == "name"
    with pytest.raises(InvalidParameter, match="is an ONNX model") as caught:
        export_onnx(resolve_vision_model(str(onnx_exports["detect"]), models_dir), models_dir, tmp_path / "again", ExportParams(device="cpu"))
    assert caught.value.field == "model"
    empty = tmp_path / "no-images"
    empty.mkdir()
    with pytest.raises(InvalidParameter, match="holds no images") as caught:
        export_onnx(tiny, models_dir, tmp_path / "int8", ExportParams(int8_calibration=empty, device="cpu"))
    assert caught.value.field == "int8_calibration"
    assert not (tmp_path / "int8").exists() and not list(tmp_path.glob(".int8*"))  # nothing half-made is left

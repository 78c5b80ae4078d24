"""models.probe on small synthetic files named like real checkpoints, and on tiny-sd."""

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from models.errors import ModelNotFound, UnknownModelLayout
from models.probe import Probe, probe


def _tensors(tmp: Path, name: str, keys: list[str], metadata: dict[str, str] | None = None) -> Path:
    path = tmp / name
    save_file({key: np.zeros((2, 2), dtype=np.float16) for key in keys}, path, metadata=metadata)
    return path


def _json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def _pipeline(folder: Path, class_name: str, scheduler: str = "PNDMScheduler", cross_attention_dim: int = 768) -> Path:
    _json(folder / "model_index.json", {
        "_class_name": class_name, "_diffusers_version": "0.30.0", "scheduler": ["diffusers", scheduler],
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
        "safety_checker": [None, None],
    })  # fmt: skip
    _json(folder / "unet" / "config.json", {"_class_name": "UNet2DConditionModel",
                                            "cross_attention_dim": cross_attention_dim})  # fmt: skip
    _json(folder / "vae" / "config.json", {"_class_name": "AutoencoderKL"})
    _json(folder / "scheduler" / "scheduler_config.json", {"_class_name": scheduler})
    return folder


def test_tiny_sd_is_an_sd15_diffusers_folder(tiny_sd_dir: Path) -> None:
    found = probe(tiny_sd_dir)
    assert (found.kind, found.format) == ("sd15", "diffusers-folder")
    assert "model_index.json" in found.files and "unet/diffusion_pytorch_model.safetensors" in found.files
    assert found.size_bytes == sum(p.stat().st_size for p in tiny_sd_dir.rglob("*") if p.is_file())
    assert "pipeline StableDiffusionPipeline" in found.notes


@pytest.mark.parametrize(
    ("folder", "class_name", "scheduler", "dim", "kind"),
    [
        ("sd-v1-5", "StableDiffusionPipeline", "PNDMScheduler", 768, "sd15"),
        ("sd-2-1", "StableDiffusionPipeline", "DDIMScheduler", 1024, "sd2"),
        ("sdxl-base", "StableDiffusionXLPipeline", "EulerDiscreteScheduler", 2048, "sdxl"),
        ("sdxl-turbo", "StableDiffusionXLPipeline", "EulerAncestralDiscreteScheduler", 2048, "turbo"),
        ("dreamshaper", "StableDiffusionPipeline", "LCMScheduler", 768, "turbo"),
    ],
)
def test_diffusers_pipelines_by_class_scheduler_and_name(
    tmp_path: Path, folder: str, class_name: str, scheduler: str, dim: int, kind: str
) -> None:
    found = probe(_pipeline(tmp_path / folder, class_name, scheduler, dim))
    assert (found.kind, found.format) == (kind, "diffusers-folder")
    assert "model_index.json" in found.files
    if kind == "turbo":
        assert any("few-step" in note for note in found.notes)


def test_a_pipeline_missing_a_component_folder_says_so(tmp_path: Path) -> None:
    folder = _pipeline(tmp_path / "sd", "StableDiffusionPipeline")
    shutil.rmtree(folder / "vae")
    assert "missing component folders: vae" in probe(folder).notes


@pytest.mark.parametrize(("class_name", "kind"), [("ControlNetModel", "controlnet"), ("AutoencoderKL", "vae")])
def test_component_folders(tmp_path: Path, class_name: str, kind: str) -> None:
    _json(tmp_path / "c" / "config.json", {"_class_name": class_name})
    _tensors(tmp_path / "c", "diffusion_pytorch_model.safetensors", ["conv_in.weight"])
    found = probe(tmp_path / "c")
    assert (found.kind, found.format) == (kind, "diffusers-component")
    assert found.files == ("config.json", "diffusion_pytorch_model.safetensors")


def test_a_component_folder_of_another_class_is_explained(tmp_path: Path) -> None:
    _json(tmp_path / "unet" / "config.json", {"_class_name": "UNet2DConditionModel"})
    with pytest.raises(UnknownModelLayout, match="UNet2DConditionModel.*ControlNetModel and AutoencoderKL"):
        probe(tmp_path / "unet")


@pytest.mark.parametrize(
    ("keys", "kind"),
    [
        (["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", "lora_te_text_model_encoder.alpha"], "lora"),
        (["unet.down_blocks.0.attentions.0.to_q.lora_A.weight", "unet.down_blocks.0.attentions.0.to_q.lora_B.weight"],
         "lora"),
        (["model.diffusion_model.input_blocks.0.0.weight", "conditioner.embedders.0.transformer.text_model.x",
          "first_stage_model.decoder.conv_in.weight"], "sdxl"),
        (["model.diffusion_model.input_blocks.0.0.weight", "cond_stage_model.transformer.text_model.x",
          "first_stage_model.decoder.conv_in.weight"], "sd15"),
        (["model.diffusion_model.input_blocks.0.0.weight", "cond_stage_model.model.transformer.resblocks.0.x"],
         "sd2"),
        (["encoder.down_blocks.0.resnets.0.conv1.weight", "decoder.up_blocks.0.resnets.0.conv1.weight",
          "quant_conv.weight"], "vae"),
        (["first_stage_model.encoder.down.0.block.0.conv1.weight", "first_stage_model.decoder.conv_in.weight"], "vae"),
        (["control_model.input_blocks.0.0.weight", "control_model.zero_convs.0.0.weight"], "controlnet"),
        (["controlnet_cond_embedding.conv_in.weight", "controlnet_down_blocks.0.weight"], "controlnet"),
    ],
)  # fmt: skip
def test_single_safetensors_files_by_tensor_names(tmp_path: Path, keys: list[str], kind: str) -> None:
    path = _tensors(tmp_path, "model.safetensors", keys)
    found = probe(path)
    assert found == Probe(kind=kind, format="single-file", files=("model.safetensors",),
                          size_bytes=path.stat().st_size, notes=found.notes,
                          family=kind if kind in ("sd15", "sd2", "sdxl") else "")  # fmt: skip
    assert f"{len(keys)} tensors" in found.notes


def test_safetensors_metadata_is_noted(tmp_path: Path) -> None:
    path = _tensors(tmp_path, "l.safetensors", ["lora_unet_x.lora_up.weight"],
                    {"modelspec.architecture": "stable-diffusion-xl-v1-base/lora"})  # fmt: skip
    assert "modelspec.architecture stable-diffusion-xl-v1-base/lora" in probe(path).notes


def test_unknown_tensor_names_and_broken_headers_are_explained(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelLayout, match=r"holds 1 tensors \(classifier.weight\) that match no layout"):
        probe(_tensors(tmp_path, "odd.safetensors", ["classifier.weight"]))
    (tmp_path / "bad.safetensors").write_bytes((10**12).to_bytes(8, "little") + b"{}")
    with pytest.raises(UnknownModelLayout, match="not a safetensors file"):
        probe(tmp_path / "bad.safetensors")


def _torch_zip(path: Path, pickle_bytes: bytes) -> Path:
    """The layout torch.save writes: <name>/data.pkl, <name>/data/<n>, <name>/version."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{path.stem}/data.pkl", pickle_bytes)
        archive.writestr(f"{path.stem}/data/0", b"\0" * 64)
        archive.writestr(f"{path.stem}/version", b"3\n")
    return path


def test_an_ultralytics_checkpoint_is_yolo_without_unpickling(tmp_path: Path) -> None:
    # a protocol-2 pickle naming ultralytics.nn.tasks.DetectionModel; loading it would need ultralytics
    pickled = b"\x80\x02}q\x00(X\x05\x00\x00\x00modelq\x01cultralytics.nn.tasks\nDetectionModel\nq\x02)\x81q\x03u."
    found = probe(_torch_zip(tmp_path / "yolov8n.pt", pickled))
    assert (found.kind, found.format, found.files) == ("yolo", "pytorch-zip", ("yolov8n.pt",))
    assert "task: detect" in found.notes


def test_a_pickled_sd_checkpoint_is_read_from_its_pickle_opcodes(tmp_path: Path) -> None:
    import pickle

    state = {"state_dict": {"model.diffusion_model.input_blocks.0.0.weight": 0,
                            "cond_stage_model.transformer.text_model.x": 1}}  # fmt: skip
    found = probe(_torch_zip(tmp_path / "v1-5.ckpt", pickle.dumps(state, protocol=2)))
    assert (found.kind, found.format) == ("sd15", "pytorch-zip")


def test_other_pytorch_files_are_explained(tmp_path: Path) -> None:
    import pickle

    with pytest.raises(UnknownModelLayout, match="neither an ultralytics YOLO checkpoint"):
        probe(_torch_zip(tmp_path / "resnet.pt", pickle.dumps({"fc.weight": 0}, protocol=2)))
    (tmp_path / "legacy.pt").write_bytes(b"\x80\x02not a zip")
    with pytest.raises(UnknownModelLayout, match="not a PyTorch zip archive"):
        probe(tmp_path / "legacy.pt")


def test_onnx(tmp_path: Path) -> None:
    (tmp_path / "det.onnx").write_bytes(b"\x08\x08\x12\x07pytorch")  # ir_version 8, producer_name "pytorch"
    found = probe(tmp_path / "det.onnx")
    assert (found.kind, found.format, found.files, found.size_bytes) == ("onnx", "onnx", ("det.onnx",), 11)
    (tmp_path / "junk.onnx").write_bytes(b"<html>")
    with pytest.raises(UnknownModelLayout, match="does not start like an ONNX model"):
        probe(tmp_path / "junk.onnx")


def test_a_folder_of_something_else_says_what_it_found_and_what_is_expected(tmp_path: Path) -> None:
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("hi")
    (tmp_path / "stuff" / "weights").mkdir()
    with pytest.raises(UnknownModelLayout) as failed:
        probe(tmp_path / "stuff")
    message = str(failed.value)
    assert "has no model_index.json or config.json (it holds notes.txt, weights/)" in message
    assert "expected a diffusers pipeline folder (model_index.json), a component folder (config.json)" in message
    assert isinstance(failed.value, ModelNotFound)  # callers that catch ModelNotFound keep working


def test_missing_paths_and_other_files(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        probe(tmp_path / "nope.safetensors")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(UnknownModelLayout, match=r"photo.jpg is a .jpg file, not a model; expected a diffusers"):
        probe(tmp_path / "photo.jpg")

from pathlib import Path

import onnxruntime

from models.vision.providers import choose_providers, gpu_index, provider_options


def test_providers_are_preferred_tensorrt_then_cuda_then_cpu() -> None:
    available = ["CPUExecutionProvider", "CUDAExecutionProvider", "AzureExecutionProvider", "TensorrtExecutionProvider"]
    assert choose_providers(available) == ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_missing_providers_are_left_out() -> None:
    assert choose_providers(["CUDAExecutionProvider", "CPUExecutionProvider"]) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(["AzureExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]


def test_cpu_device_keeps_only_the_cpu_provider() -> None:
    available = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(available, "cpu") == ["CPUExecutionProvider"]
    assert choose_providers(available, "cuda:1") == ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert gpu_index("cuda:1") == 1 and gpu_index("auto") == 0


def test_this_machines_providers_give_a_usable_list() -> None:
    chosen = choose_providers(onnxruntime.get_available_providers())
    assert chosen[-1] == "CPUExecutionProvider"
    assert all(p in onnxruntime.get_available_providers() for p in chosen)


def test_gpu_providers_get_the_device_and_tensorrt_a_cache(tmp_path: Path) -> None:
    assert provider_options("CPUExecutionProvider", "cuda:1", tmp_path) == {}
    assert provider_options("CUDAExecutionProvider", "cuda:1", tmp_path) == {"device_id": 1}
    tensorrt = provider_options("TensorrtExecutionProvider", "auto", tmp_path)
    assert tensorrt["device_id"] == 0
    assert tensorrt["trt_engine_cache_enable"] is True and tensorrt["trt_engine_cache_path"] == str(tmp_path)

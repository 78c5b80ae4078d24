import onnxruntime

from models.vision.providers import choose_providers, gpu_index


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

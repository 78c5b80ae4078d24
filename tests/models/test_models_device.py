import pytest
import torch

from models.device import describe_device, preferred_dtype, select_device
from models.errors import DeviceUnavailable, InvalidParameter


def test_cpu_and_auto_select_existing_devices() -> None:
    assert select_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available() and not torch.backends.mps.is_available():
        assert select_device("auto") == torch.device("cpu")
    assert select_device() == select_device("auto")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("preference", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_cuda_is_unavailable(preference: str) -> None:
    with pytest.raises(DeviceUnavailable, match="CUDA is not available"):
        select_device(preference)


@pytest.mark.parametrize("preference", ["gpu", "cuda:x", "tpu", ""])
def test_unknown_device_is_invalid(preference: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        select_device(preference)
    assert info.value.field == "device"


def test_describe_cpu() -> None:
    info = describe_device(torch.device("cpu"))
    assert info.kind == "cpu"
    assert info.index == 0
    assert info.name
    assert info.memory_total > 0
    assert 0 < info.memory_used <= info.memory_total
    assert info.utilisation is None or 0.0 <= info.utilisation <= 100.0
    assert info.temperature_c is None


def test_preferred_dtype() -> None:
    assert preferred_dtype(torch.device("cpu")) == torch.float32
    assert preferred_dtype(torch.device("cuda", 0)) == torch.float16

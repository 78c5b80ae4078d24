import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What the daemon imports to validate jobs; it must not drag in torch, diffusers or transformers.
LIGHT_MODULES = ["models.catalog", "models.builtin", "models.errors", "models.infotext", "models.params",
                 "models.samplers", "models.sources", "models.images", "models.download", "models.transfer",
                 "models.hub_files", "models.probe", "models.lora_syntax", "models.vision.registry",
                 "models.vision.params", "models.vision.providers", "models.vision.dataset"]  # fmt: skip


def test_light_modules_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in LIGHT_MODULES)
        + "print(' '.join(m for m in ('torch', 'diffusers', 'transformers', 'ultralytics', 'onnxruntime', 'cv2') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""


def test_models_never_imports_the_daemon_client_or_grpc() -> None:
    code = (
        "import sys\nimport models.diffusion, models.infotext, models.device, models.catalog\n"
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('daemon', 'imagine', 'grpc', 'tui', 'bots')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""

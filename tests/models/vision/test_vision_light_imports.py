import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# What the daemon imports to check vision jobs at submit time: no torch, no ultralytics, no onnxruntime.
LIGHT_MODULES = ["models.vision.registry", "models.vision.params", "models.vision.providers", "models.vision.dataset"]


def test_light_vision_modules_do_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in LIGHT_MODULES)
        + "print(' '.join(m for m in ('torch', 'ultralytics', 'onnxruntime', 'cv2') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""

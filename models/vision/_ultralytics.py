"""Import ultralytics only through here, so that it never goes online, installs nothing and logs to stderr.

ultralytics reads its environment once, when `ultralytics.utils` is first imported:
YOLO_OFFLINE makes `is_online()` answer False (no hub, no downloads, no analytics),
YOLO_AUTOINSTALL=false stops `check_requirements` from running pip or apt,
YOLO_CONFIG_DIR is where it keeps settings.json and fonts (never the user's ~/.config when we set it),
YOLO_VERBOSE=false lowers its logger to errors. Its log handler writes to stdout; we move it to stderr.
"""

import os
import sys
from pathlib import Path

if "ultralytics" in sys.modules and os.environ.get("YOLO_AUTOINSTALL", "").lower() not in {"0", "false", "no", "off"}:
    raise ImportError("ultralytics was imported before models.vision._ultralytics; its auto-install would be on")

os.environ["YOLO_OFFLINE"] = "1"
os.environ["YOLO_AUTOINSTALL"] = "false"
os.environ.setdefault("YOLO_VERBOSE", "false")
if "YOLO_CONFIG_DIR" not in os.environ:
    import platformdirs

    os.environ["YOLO_CONFIG_DIR"] = str(Path(platformdirs.user_config_dir("imagined")) / "ultralytics")

import ultralytics  # noqa: E402  (the environment above must be set first)
from ultralytics.utils import LOGGER  # noqa: E402

for _handler in LOGGER.handlers:
    if hasattr(_handler, "setStream"):
        _handler.setStream(sys.stderr)

__all__ = ["ultralytics"]

"""Import ultralytics only through here, so that it never goes online, installs nothing and logs to stderr.

ultralytics reads its environment once, when `ultralytics.utils` is first imported:
YOLO_OFFLINE makes `is_online()` answer False (no hub, no downloads, no analytics),
YOLO_AUTOINSTALL=false stops `check_requirements` from running pip, uv or apt,
YOLO_CONFIG_DIR is where it keeps settings.json and fonts (never the user's ~/.config when we set it),
YOLO_VERBOSE=false lowers its logger to errors. Its log handler writes to stdout; we move it to stderr.
ultralytics also replaces PIL.Image.open, process-wide, with one that tries to install pi-heif whenever Pillow
cannot identify a file; that would turn every unreadable image anywhere in the worker into an ImportError, so
Pillow's own open is put back (HEIF images are then refused as unreadable, like any format Pillow lacks).
Should ultralytics have been imported before this module, the module-level copies of those flags
(utils.AUTOINSTALL and ONLINE, and the names checks.py and events.py imported from it) are set as well.
"""

import os
import sys

os.environ["YOLO_OFFLINE"] = "1"
os.environ["YOLO_AUTOINSTALL"] = "false"
os.environ.setdefault("YOLO_VERBOSE", "false")
if "YOLO_CONFIG_DIR" not in os.environ:
    import platformdirs

    os.environ["YOLO_CONFIG_DIR"] = platformdirs.user_config_dir("imagined")  # ultralytics adds /Ultralytics

import ultralytics
import ultralytics.utils.checks
import ultralytics.utils.events
import ultralytics.utils.patches
from PIL import Image
from ultralytics.utils import LOGGER

for _module in (ultralytics.utils, ultralytics.utils.checks):
    _module.AUTOINSTALL = False
for _module in (ultralytics.utils, ultralytics.utils.checks, ultralytics.utils.events):
    _module.ONLINE = False

Image.open = ultralytics.utils.patches._image_open  # Pillow's original, which ultralytics kept

for _handler in LOGGER.handlers:
    if hasattr(_handler, "setStream"):
        _handler.setStream(sys.stderr)

__all__ = ["ultralytics"]

import logging
import os
import sys
from pathlib import Path

import pytest
import ultralytics.utils
import ultralytics.utils.checks

import models.vision._ultralytics  # noqa: F401


def test_ultralytics_is_offline_and_never_installs() -> None:
    assert os.environ["YOLO_OFFLINE"] == "1"
    assert ultralytics.utils.checks.AUTOINSTALL is False
    assert ultralytics.utils.checks.ONLINE is False
    # A requirement that is not installed is reported missing, not installed.
    assert ultralytics.utils.checks.check_requirements("imagined-no-such-package-for-tests>=1") is False


def test_ultralytics_settings_stay_in_the_configured_folder() -> None:
    assert ultralytics.utils.SETTINGS_FILE.is_relative_to(os.environ["YOLO_CONFIG_DIR"])
    assert not str(ultralytics.utils.SETTINGS_FILE).startswith(str(Path.home() / ".config"))


def test_ultralytics_logs_to_stderr() -> None:
    handlers = [h for h in logging.getLogger("ultralytics").handlers if isinstance(h, logging.StreamHandler)]
    # the stream object is the stderr of whenever ultralytics was imported (pytest swaps sys.stderr per test)
    assert handlers and all(getattr(h.stream, "name", "") == "<stderr>" or h.stream is sys.stderr for h in handlers)


def test_pillow_open_is_pillows_own_again(tmp_path: Path) -> None:
    from PIL import Image, UnidentifiedImageError

    assert Image.open.__module__ == "PIL.Image"
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(UnidentifiedImageError):  # not an attempt to install pi-heif
        Image.open(tmp_path / "bad.png")

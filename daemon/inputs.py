"""Images given to jobs, kept by content so a recorded job can be run again later.

An upload is checked (format, pixel cap, readable) before it is kept; an earlier
output used as an input is copied in too, so deleting that output's job does not
break the jobs that used it. A job records each image by its input id, the
sha256 of the file's bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from daemon.errors import InvalidRequest

_INPUT_ID = re.compile(r"[0-9a-f]{64}")


class Inputs:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, input_id: str) -> Path:
        return self.folder / input_id

    def check(self, input_id: str, field: str) -> str:
        if not _INPUT_ID.fullmatch(input_id) or not self.path(input_id).is_file():
            raise InvalidRequest(
                field,
                f"{field}: no stored input '{input_id}'; send the image's bytes in data, or an output id in output_id",
            )
        return input_id

    def keep_upload(self, data: bytes, field: str, *, mask: bool = False) -> str:
        """Check the bytes decode as a PNG/JPEG/WebP image within the pixel cap and keep them; the input id."""
        from models.catalog import InvalidParameter, decode_image

        try:
            decode_image(data, field, mode="L" if mask else "RGB")
        except InvalidParameter as exc:
            message = str(exc)
            raise InvalidRequest(field, message if message.startswith(field) else f"{field}: {message}") from exc
        input_id = hashlib.sha256(data).hexdigest()
        path = self.path(input_id)
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{input_id}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return input_id

    def keep_file(self, source: Path) -> str:
        """Keep a copy of a file the daemon wrote itself (an output); its input id."""
        digest = hashlib.sha256()
        with source.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        input_id = digest.hexdigest()
        path = self.path(input_id)
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{input_id}.tmp")
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
            os.replace(tmp, path)
        return input_id

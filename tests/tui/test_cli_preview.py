"""Live previews on the command line: the half-block thumbnail, the preview file, and how the display draws them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from imagine import types as t
from tests.tui.builders import NOW, event, make_job, make_output
from tui.display import ProgressDisplay
from tui.options import UsageError
from tui.preview import THUMBNAIL_WIDTH, PreviewFile, thumbnail_lines
from tui.progress import JobProgress

RED, BLUE = (255, 0, 0), (0, 0, 255)


def png(top: tuple[int, int, int], bottom: tuple[int, int, int], size: int = 4) -> bytes:
    picture = Image.new("RGB", (size, size), top)
    picture.paste(bottom, (0, size // 2, size, size))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_thumbnail_is_two_pixels_a_cell_in_the_pictures_colours() -> None:
    lines = thumbnail_lines(png(RED, BLUE), width=4, color_system="truecolor")
    assert len(lines) == 2  # a square 4 cells wide is 2 rows of 2 pixels
    assert all(line.count("▀") == 4 for line in lines)
    assert "38;2;255;0;0" in lines[0] and "48;2;255;0;0" in lines[0] and "0;0;255" not in lines[0]
    assert "38;2;0;0;255" in lines[1] and "48;2;0;0;255" in lines[1]


def test_thumbnail_keeps_the_aspect_and_the_terminals_colours() -> None:
    wide = Image.new("RGB", (64, 16), RED)
    buffer = io.BytesIO()
    wide.save(buffer, format="PNG")
    assert len(thumbnail_lines(buffer.getvalue(), width=32, color_system="truecolor")) == 4
    # colours no other test draws: rich keeps a style's escape codes once made
    assert "38;5;" in thumbnail_lines(png((10, 200, 30), (20, 30, 200)), width=4, color_system="256")[0]
    assert thumbnail_lines(b"not a png", width=4, color_system="truecolor") == []


def test_preview_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        PreviewFile.parse(str(tmp_path / "missing" / "p.png"))
    with pytest.raises(UsageError, match="folder"):
        PreviewFile.parse(str(tmp_path))
    assert PreviewFile.parse(None) is None
    target = PreviewFile.parse(str(tmp_path / "p.png"))
    assert target is not None
    target.write(b"one")
    target.write(b"two")
    assert (tmp_path / "p.png").read_bytes() == b"two" and target.written == 2
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]


def preview_events() -> list[t.JobEvent]:
    return [
        event(t.Snapshot(make_job(state=t.JobState.RUNNING)), 1, NOW),
        event(t.Progress(1, 4, preview=png(RED, BLUE)), 2, NOW + 1),
        event(t.Progress(2, 4), 3, NOW + 2),
        event(t.Progress(3, 4, preview=png(BLUE, RED)), 4, NOW + 3),
        event(t.Progress(4, 4), 5, NOW + 4),
        event(make_output(), 6, NOW + 4),
        event(t.Finished(t.JobState.SUCCEEDED, timings=t.Timings(total_ms=4000)), 7, NOW + 5),
    ]


def replay(display: ProgressDisplay) -> JobProgress:
    progress = JobProgress("job1")
    for ev in preview_events():
        progress.apply(ev)
        display.update(ev, progress)
    return progress


def test_on_a_terminal_the_thumbnail_is_redrawn_in_place_above_the_bar(tmp_path: Path) -> None:
    stream = io.StringIO()
    preview_file = PreviewFile(tmp_path / "p.png")
    progress = replay(ProgressDisplay(stream, tty=True, preview_file=preview_file, thumbnails="truecolor"))
    text = stream.getvalue()
    rows = len(thumbnail_lines(png(RED, BLUE), width=THUMBNAIL_WIDTH, color_system="truecolor"))
    assert text.count("▀") == 2 * rows * THUMBNAIL_WIDTH  # two previews, each drawn once
    assert text.count(f"\x1b[{rows}F") == 1  # the second goes back up over the first
    assert "\r[##########] 4/4 steps" in text and text.endswith("succeeded in 4.0s\n")
    assert preview_file.path.read_bytes() == png(BLUE, RED) and preview_file.written == 2
    assert progress.preview == png(BLUE, RED)


def test_elsewhere_previews_only_go_to_the_file(tmp_path: Path) -> None:
    stream = io.StringIO()
    preview_file = PreviewFile(tmp_path / "p.png")
    replay(ProgressDisplay(stream, tty=False, preview_file=preview_file, thumbnails="truecolor"))
    text = stream.getvalue()
    assert "\x1b" not in text and "▀" not in text
    assert text.splitlines() == ["[##########] 4/4 steps  1.0s/step", "succeeded in 4.0s"]
    assert preview_file.path.read_bytes() == png(BLUE, RED)

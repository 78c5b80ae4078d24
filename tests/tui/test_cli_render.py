"""tui.render: durations, sizes, relative times, tables and the progress bar."""

from __future__ import annotations

import pytest

from tui import render
from tui.render import progress_bar, render_table

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.04s"), (0.4, "0.4s"), (3.25, "3.2s"), (42.4, "42s"), (303, "5m 03s"), (7500, "2h 05m"), (3 * 86400 + 4 * 3600, "3d 4h"), (-1, "0.00s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert render.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(512, "512 B"), (12_595, "12.3 KiB"), (4 * 1024**2, "4.0 MiB"), (int(1.5 * 1024**3), "1.5 GiB")],
)
def test_format_bytes(size: int, text: str) -> None:
    assert render.format_bytes(size) == text


def test_format_memory_is_used_over_total_in_gib() -> None:
    assert render.format_memory(int(3.2 * 1024**3), int(15.5 * 1024**3)) == "3.2/15.5 GiB"


@pytest.mark.parametrize(
    ("ago", "text"),
    [(0, "just now"), (2, "just now"), (42, "42s ago"), (180, "3m ago"), (3599, "59m ago"), (5 * 3600, "5h ago"), (2 * 86400 + 5, "2d ago"), (-30, "just now")],
)
def test_format_relative(ago: float, text: str) -> None:
    assert render.format_relative(NOW - ago, NOW) == text


def test_format_relative_old_or_unknown() -> None:
    assert render.format_relative(None, NOW) == "-"
    assert render.format_relative(0, NOW) == "-"
    old = render.format_relative(NOW - 90 * 86400, NOW)
    assert len(old) == 10 and old[4] == "-" and old[7] == "-"  # a date


def test_format_timestamp_has_date_and_relative_time() -> None:
    assert render.format_timestamp(NOW - 180, NOW).endswith("(3m ago)")
    assert render.format_timestamp(None, NOW) == "-"


@pytest.mark.parametrize(
    ("text", "width", "out"),
    [("a lighthouse", 20, "a lighthouse"), ("a lighthouse at dusk", 10, "a lightho…"), ("a  b\nc", 10, "a b c"), ("abc", 1, "…"), ("abc", 0, "")],
)
def test_truncate(text: str, width: int, out: str) -> None:
    assert render.truncate(text, width) == out


def test_progress_bar() -> None:
    assert progress_bar(5, 10, sec_per_step=0.4) == "[#####-----] 5/10 steps  0.4s/step"
    assert progress_bar(0, 10) == "[----------] 0/10 steps"
    assert progress_bar(10, 10, sec_per_step=0.04) == "[##########] 10/10 steps  0.04s/step"
    assert progress_bar(1, 3) == "[###-------] 1/3 steps"
    assert progress_bar(12, 10) == "[##########] 10/10 steps"
    assert progress_bar(0, 0) == "[----------] 0/0 steps"


def test_queued_line() -> None:
    assert render.queued_line(2, 3.0) == "queued: position 2, about 3.0s"
    assert render.queued_line(2, 42) == "queued: position 2, about 42s"
    assert render.queued_line(1, None) == "queued: position 1"
    assert render.queued_line(0, None) == "queued"


def test_table_aligns_columns_and_truncates_the_flexible_one() -> None:
    rows = [["j1", "queued", "a lighthouse at dusk over a stormy sea"], ["job22", "succeeded", "a fox"]]
    lines = render_table(("ID", "STATE", "PROMPT"), rows, width=30)
    assert lines[0] == "ID     STATE      PROMPT"
    assert lines[1] == "j1     queued     a lighthous…"
    assert lines[2] == "job22  succeeded  a fox"
    assert all(len(line) <= 30 for line in lines)


def test_table_wide_terminal_keeps_everything() -> None:
    rows = [["j1", "a lighthouse at dusk over a stormy sea"]]
    lines = render_table(("ID", "PROMPT"), rows, width=200)
    assert lines[1] == "j1  a lighthouse at dusk over a stormy sea"


def test_table_keeps_a_minimum_for_the_flexible_column_on_tiny_terminals() -> None:
    lines = render_table(("ID", "PROMPT"), [["x" * 30, "a lighthouse at dusk"]], width=20)
    assert lines[1] == "x" * 30 + "  a light…"


def test_table_wraps_instead_of_cutting() -> None:
    rows = [["tiny-sd", "Random weights: makes noise, not pictures. For tests."]]
    lines = render_table(("NAME", "DESCRIPTION"), rows, width=30, overflow="wrap")
    assert all(len(line) <= 30 for line in lines)
    assert lines[1].startswith("tiny-sd  Random weights:")
    joined = " ".join(line[9:].strip() for line in lines[1:])
    assert joined == "Random weights: makes noise, not pictures. For tests."


def test_render_fields_aligns_labels() -> None:
    assert render.render_fields([("id", "j1"), ("state", "queued"), ("error", "")]) == [
        "id     j1",
        "state  queued",
        "error  -",
    ]


def test_keep_alive_text() -> None:
    from imagine import types as t
    from tui.render import keep_alive_text

    def model(until: float) -> t.LoadedModel:
        return t.LoadedModel("m", "cpu", 1, keep_alive_until=until)

    assert keep_alive_text(model(-1), 100.0) == "forever"
    assert keep_alive_text(model(0), 100.0) == "-"
    assert keep_alive_text(model(190.0), 100.0) != keep_alive_text(model(130.0), 100.0)
    assert keep_alive_text(model(50.0), 100.0) == keep_alive_text(model(100.0), 100.0)  # never negative

"""Text of vision results: detections per image, the benchmark table, training metrics (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from imagine import types as t

from tui import render

MAX_ROWS = 40  # objects listed per image; --json has them all
BENCH_HEADERS = ("ENGINE", "PROVIDER", "BATCH", "P50 MS", "P95 MS", "P99 MS", "IMG/S", "PEAK MEMORY", "ACCURACY")
BENCH_NUMERIC = range(2, 9)
BENCH_DROPPABLE = (1, 4, 5)  # provider, p95, p99: left out, in this order, when the table is too wide
STAGE_NAMES = {"epoch": "epoch", "tune": "tune generation"}


def _score(value: float) -> str:
    return f"{value:.2f}"


def _box(d: t.Detection) -> str:
    return f"{d.x1:.0f}, {d.y1:.0f}, {d.x2:.0f}, {d.y2:.0f}"


def _extra(d: t.Detection) -> str:
    parts = []
    if d.polygon:
        parts.append(f"outline of {len(d.polygon)} points")
    if d.keypoints:
        seen = sum(1 for k in d.keypoints if k.confidence >= 0.5)
        parts.append(f"{seen}/{len(d.keypoints)} keypoints")
    return ", ".join(parts)


def detections_heading(found: t.Detections, name: str) -> str:
    """`photo.jpg: 640x480, 3 objects (pytorch, 12 ms)`."""
    what = (
        f"{len(found.objects)} object{'' if len(found.objects) == 1 else 's'}"
        if found.objects or not found.top
        else f"top {len(found.top)} classes"
    )
    engine = found.engine + (f" {found.provider}" if found.provider else "")
    timing = f", {found.inference_ms:.0f} ms" if found.inference_ms else ""
    where = f" ({engine}{timing})" if engine else ""
    return f"{name}: {found.width}x{found.height}, {what}{where}"


def detections_lines(found: t.Detections, name: str, *, width: int, limit: int = MAX_ROWS) -> list[str]:
    """A heading, then a table of what was found: class, score, box (and outline or keypoints), or the top classes.

    At most `limit` objects are listed (the best ones come first); a last line says how many more there are.
    """
    lines = [detections_heading(found, name)]
    if found.objects:
        shown = found.objects[:limit]
        rows = [[d.class_name or str(d.class_id), _score(d.score), _box(d), _extra(d)] for d in shown]
        headers: tuple[str, ...] = ("CLASS", "SCORE", "BOX x1, y1, x2, y2", "")
        if not any(row[3] for row in rows):
            rows, headers = [row[:3] for row in rows], headers[:3]
        lines += ["  " + line for line in render.render_table(headers, rows, width=width - 2, flex=0, right=(1,))]
        if len(found.objects) > limit:
            lines.append(f"  … and {len(found.objects) - limit} more (--json lists them all)")
    elif found.top:
        rows = [[c.class_name or str(c.class_id), _score(c.score)] for c in found.top]
        lines += ["  " + line for line in render.render_table(("CLASS", "SCORE"), rows, width=width - 2, flex=0, right=(1,))]
    else:
        lines.append("  nothing found")
    return lines


def _ms(value: float) -> str:
    return f"{value:.1f}"


def benchmark_lines(report: t.Report, *, width: int, selecting: bool = False) -> list[str]:
    """The benchmark rows as an aligned table, what the memory column measures, and the engine selected (if `selecting`, also none)."""
    rows = [
        [
            row.engine,
            row.provider or "-",
            str(row.batch_size),
            _ms(row.p50_ms),
            _ms(row.p95_ms),
            _ms(row.p99_ms),
            f"{row.images_per_second:.1f}",
            render.format_bytes(row.peak_memory_bytes) if row.peak_memory_bytes else "-",
            f"{row.accuracy:.3f}" if row.accuracy is not None else "-",
        ]
        for row in report.benchmark
    ]
    if not rows:
        return ["no benchmark rows"]
    lines = _fitting_table(rows, width)
    kinds = sorted({row.memory_kind for row in report.benchmark if row.memory_kind})
    if kinds:
        lines.append(f"peak memory: {'; '.join(kinds)}")
    if report.selected_engine:
        lines.append(f"selected engine: {report.selected_engine}")
    elif selecting:
        lines.append("selected engine: none (the model's default engine is unchanged)")
    if report.summary:
        lines.append(report.summary)
    return lines


def _fitting_table(rows: list[list[str]], width: int) -> list[str]:
    """The whole table when it fits in `width`, else without the provider, then p95, then p99."""
    keep = list(range(len(BENCH_HEADERS)))
    while True:
        headers = [BENCH_HEADERS[i] for i in keep]
        cut = [[row[i] for i in keep] for row in rows]
        right = [n for n, i in enumerate(keep) if i in BENCH_NUMERIC]
        flex = keep.index(1) if 1 in keep else 0
        lines = render.render_table(headers, cut, width=width, flex=flex, right=right)
        dropped = next((i for i in BENCH_DROPPABLE if i in keep), None)
        if max(len(line) for line in lines) <= width or dropped is None:
            return lines
        keep.remove(dropped)


def short_metric_name(name: str) -> str:
    """`metrics/mAP50(B)` as `mAP50`: ultralytics' names without the group and the box suffix."""
    return name.removeprefix("metrics/").removesuffix("(B)")


def ordered_metrics(metrics: Mapping[str, float]) -> list[tuple[str, float]]:
    """Losses first, then the validation metrics, each group by name; short names, each once."""
    short: dict[str, float] = {}
    for name in sorted(metrics, key=lambda n: n != short_metric_name(n)):  # a metric's own short key wins
        short.setdefault(short_metric_name(name), metrics[name])
    return sorted(short.items(), key=lambda item: ("loss" not in item[0], item[0]))


def metrics_text(metrics: Mapping[str, float]) -> str:
    """`box_loss 1.234  cls_loss 0.5678  mAP50 0.1234`."""
    return "  ".join(f"{name} {value:.4g}" for name, value in ordered_metrics(metrics))


def stage_line(stage: str, step: int, total: int, metrics: Mapping[str, float]) -> str:
    """One line per epoch (or tuning generation): `epoch 3/10  box_loss 1.234  mAP50 0.12`."""
    name = STAGE_NAMES.get(stage, stage or "step")
    text = f"{name} {step}/{total}" if total else f"{name} {step}"
    return f"{text}  {metrics_text(metrics)}" if metrics else text


def report_lines(report: t.Report) -> list[str]:
    """The final metrics, one a line, and the model the job registered."""
    lines = render.render_fields([(name, f"{value:.4g}") for name, value in ordered_metrics(report.metrics)])
    if report.model:
        lines.append(f"registered model {report.model}")
    if report.summary:
        lines.append(report.summary)
    return lines


def names_of(images: Sequence[str], count: int) -> list[str]:
    """A name for each input image: the given file names or output ids, else `image N`."""
    return [images[i] if i < len(images) else f"image {i + 1}" for i in range(count)]

"""What a job does, in words, for every kind of job: the prompt column and the recipe lines (pure)."""

from __future__ import annotations

from imagine import types as t

from tui.progress import job_seed


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def task_text(spec: t.JobSpec) -> str:
    """One line: the prompt of a generation job, else what the job works on (images, model, dataset)."""
    task = spec.task
    if spec.prompt:
        return spec.prompt
    if isinstance(task, t.Detect):
        what = task.task or "detect"
        return f"{what} in {_count(len(task.images), 'image')}"
    if isinstance(task, t.Export):
        precision = " int8" if task.int8_calibration else " fp16" if task.half else ""
        target = f" as {task.name}" if task.name else ""
        return f"{spec.model or 'model'} to {task.format or 'onnx'}{precision}{target}"
    if isinstance(task, t.Benchmark):
        engines = ", ".join(task.engines) or "every engine"
        return f"{spec.model or 'model'} on {engines}" + (" (select)" if task.select else "")
    if isinstance(task, t.Train):
        epochs = f", {_count(task.epochs, 'epoch')}" if task.epochs else ""
        return f"dataset {task.dataset}{epochs}"
    if isinstance(task, t.Variations):
        return f"variations of {task.output_id}"
    if isinstance(task, t.Upscale):
        return f"upscale of {task.output_id}"
    return ""


def size_text(task: t.Task, default: str = "-") -> str:
    width, height = getattr(task, "width", 0), getattr(task, "height", 0)
    return f"{width}x{height}" if width and height else default


def _optional(value: float | None, default: str) -> str:
    return f"{value:g}" if value is not None else default


def _image(image: t.ImageInput) -> str:
    if image.output_id:
        return f"output {image.output_id}"
    if image.input_id:
        return f"upload {image.input_id}"
    return f"upload of {len(image.data)} bytes" if image.data else "-"


def generation_fields(task: t.Txt2Img | t.Img2Img) -> list[tuple[str, str]]:
    """The recipe lines a generation job adds beyond prompt, size, steps, seed: init image, LoRAs, hires, ..."""
    fields: list[tuple[str, str]] = []
    if isinstance(task, t.Img2Img):
        fields.append(("init image", _image(task.init_image)))
        fields.append(("strength", _optional(task.strength, "(default)")))
    if isinstance(task, t.Inpaint):
        fields.append(("mask", _image(task.mask)))
        fields.append(("mask blur", str(task.mask_blur) if task.mask_blur is not None else "(default)"))
    if task.loras:
        fields.append(("loras", ", ".join(f"{lora.name}:{_optional(lora.weight, '1')}" for lora in task.loras)))
    for c in task.controlnets:
        scale = _optional(c.scale, "1")
        fields.append(("controlnet", f"{c.model} on {_image(c.image)}, {c.preprocessor or 'canny'}, scale {scale}"))
    if task.vae:
        fields.append(("vae", task.vae))
    hires = getattr(task, "hires", None)
    if hires is not None:
        steps = f", {hires.steps} steps" if hires.steps else ""
        denoise = _optional(hires.denoise, "0.5")
        fields.append(("hires", f"x{hires.scale:g}{steps}, denoise {denoise}, {hires.upscaler or 'latent'} upscaler"))
    return fields


def recipe_fields(job: t.Job, *, default: str = "(model default)") -> list[tuple[str, str]]:
    """What the job was asked to do: the generation recipe, or a vision job's parameters; `default` for unset fields."""
    task = job.spec.task
    if not isinstance(task, (t.Txt2Img, t.Img2Img)):
        return [("task", task_text(job.spec)), *vision_fields(task)]
    seed = job_seed(job)
    return [
        ("prompt", task.prompt),
        ("negative", task.negative_prompt or "-"),
        ("size", size_text(task, default)),
        ("steps", str(task.steps) if task.steps else default),
        ("guidance", _optional(task.guidance, default)),
        ("scheduler", task.scheduler or default),
        ("seed", str(seed) if seed is not None else "(random)"),
        ("count", str(task.count or 1)),
        *generation_fields(task),
    ]


def vision_fields(task: t.Task) -> list[tuple[str, str]]:
    """The parameters of a detect, export, benchmark or train job as label/value lines."""
    if isinstance(task, t.Detect):
        return [
            ("task", task.task or "(the model's)"),
            ("images", str(len(task.images))),
            ("conf", _optional(task.conf, "(default)")),
            ("iou", _optional(task.iou, "(default)")),
            ("classes", ", ".join(task.classes) or "all"),
            ("engine", task.engine or "(the model's)"),
        ]
    if isinstance(task, t.Export):
        precision = "int8" if task.int8_calibration else "fp16" if task.half else "fp32"
        return [("format", task.format or "onnx"), ("precision", precision), ("new name", task.name or "-")]
    if isinstance(task, t.Benchmark):
        return [
            ("engines", ", ".join(task.engines) or "every engine present"),
            ("batch sizes", ", ".join(map(str, task.batch_sizes)) or "1, 4"),
            ("runs", str(task.runs or 20)),
            ("select", "yes" if task.select else "no"),
        ]
    if isinstance(task, t.Train):
        return [
            ("dataset", task.dataset),
            ("epochs", str(task.epochs or 10)),
            ("image size", str(task.imgsz or "(default)")),
            ("batch", str(task.batch or "(default)")),
            ("tune", f"{task.tune} generations" if task.tune else "no"),
            ("new name", task.name or "-"),
        ]
    return []

"""The built-in subcommands of `imagine`.

Each module has `register(subparsers)`, the same shape as the commands other
packages plug in through the `imagine.commands` entry points (the daemon's
`serve`, later `bot`): it adds its parser and sets `func(args) -> int`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tui.commands import dashboard, derive, jobs, models, run, samplers, system, vision

Register = Callable[["argparse._SubParsersAction[Any]"], None]

BUILTIN: tuple[Register, ...] = (
    run.register,
    derive.register,
    vision.register,
    jobs.register,
    samplers.register,
    models.register,
    system.register,
    dashboard.register,
)

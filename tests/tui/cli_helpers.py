"""Parsing a command line, and running one that should be a usage error."""

from __future__ import annotations

import argparse

import pytest

from tui import cli


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(argv))


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run `imagine ARGV`, expect status 2 and one `imagine: ...` line on stderr; that line."""
    assert cli.main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("imagine: ") and err.count("\n") == 1, err
    return err

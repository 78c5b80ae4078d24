"""The committed stubs are exactly what the committed .proto files generate."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generate_protos", PROTOS / "generate.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["generate_protos"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_regenerating_the_stubs_changes_nothing(tmp_path: Path) -> None:
    generator = load_generator()
    generator.generate(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(PROTOS) for p in (PROTOS / "imagine" / "v1").glob("*_pb2*.py*")
    )
    assert fresh == committed
    for relative in fresh:
        assert (tmp_path / relative).read_bytes() == (PROTOS / relative).read_bytes(), f"{relative} is stale: run python protos/generate.py"


def test_every_proto_is_packaged_with_the_client() -> None:
    names = {p.stem for p in (PROTOS / "imagine" / "v1").glob("*.proto")}
    assert names == {"jobs", "system", "models"}
    for name in names:
        assert importlib.import_module(f"imagine.v1.{name}_pb2_grpc")

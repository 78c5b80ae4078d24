"""Regenerate the Python stubs of the imagine.v1 contract.

    python protos/generate.py            # writes beside the .proto files
    python protos/generate.py OUT_DIR    # writes into OUT_DIR/imagine/v1 (used by the tests)
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

PROTOS = Path(__file__).resolve().parent


def proto_files() -> list[Path]:
    return sorted((PROTOS / "imagine" / "v1").glob("*.proto"))


def generate(out_dir: Path) -> None:
    (out_dir / "imagine" / "v1").mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(p.relative_to(PROTOS)) for p in proto_files()),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PROTOS)

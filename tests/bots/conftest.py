"""The bots' tests reuse the end-to-end fixtures: a real daemon with a real worker on a temporary socket."""

from tests.e2e.conftest import daemon, shared_models_dir  # noqa: F401

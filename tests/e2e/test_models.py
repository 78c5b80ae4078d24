"""Model management against a real daemon: pulls from a loopback hub, add, show, rm, load/ps/unload."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from imagine import errors
from imagine import types as t
from tests.e2e.daemon_process import DaemonProcess
from tests.models import hub_server
from tests.models.hub_server import FakeHub, Repo

pytestmark = pytest.mark.asyncio(loop_scope="module")
REPO = "tester/tiny-pipe"


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny_sd(shared_models_dir: Path) -> Path:
    from models.builtin import ensure_builtin

    return ensure_builtin("tiny-sd", shared_models_dir)


class SlowHandler(hub_server._Handler):
    """Files of repos named tester/slow* take a moment each, so a pull is still running when a test acts."""

    def _send_file(self, hub: FakeHub, key: str, data: bytes, headers: dict[str, str], record: hub_server.Served) -> None:
        if key.startswith("/tester/slow"):
            time.sleep(0.4)
        super()._send_file(hub, key, data, headers, record)


def running_slow_hub(hub: FakeHub):  # type: ignore[no-untyped-def]
    return hub_server.running_hub(hub, SlowHandler)


@pytest.fixture(scope="module")
def hub(tiny_sd: Path) -> Iterator[FakeHub]:
    files = files_of(tiny_sd)
    fake = FakeHub(repos={REPO: Repo(files=files), "tester/slow": Repo(files=files), "tester/slow2": Repo(files=files)})
    with running_slow_hub(fake) as served:
        yield served


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def daemon(
    tmp_path_factory: pytest.TempPathFactory, shared_models_dir: Path, hub: FakeHub
) -> AsyncIterator[DaemonProcess]:
    """A daemon with a model store of its own (pulls write into it), the built-in linked from the shared one."""
    store = tmp_path_factory.mktemp("store")
    (store / "tiny-sd").symlink_to(shared_models_dir / "tiny-sd", target_is_directory=True)
    proc = DaemonProcess(tmp_path_factory.mktemp("data"), store, env={"HF_ENDPOINT": hub.url})
    await proc.start()
    yield proc
    proc.stop()


def code_of(exc: BaseException) -> grpc.StatusCode | None:
    return getattr(exc, "code", None)


async def test_pull_streams_progress_and_the_model_generates_by_name(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        seen = [p async for p in client.pull_model(REPO)]
        assert seen[-1].done and seen[-1].model is not None
        assert seen[-1].model.name == REPO and seen[-1].model.kind == "sd15" and seen[-1].model.source == "hub"
        assert seen[-1].bytes_done > 0 and all(not p.done for p in seen[:-1])
        shown = await client.show_model(REPO)
        assert shown.origin.startswith(REPO + "@") and "model_index.json" in shown.files
        assert shown.sha256 and all(len(v) == 64 for v in shown.sha256.values())
        assert (daemon.models_dir / REPO / "model_index.json").is_file()
        events = [e async for e in client.generate(
            t.JobSpec(t.Txt2Img("a pulled model", width=64, height=64, steps=2), model=REPO)
        )]  # fmt: skip
        finished = events[-1].kind
        assert isinstance(finished, t.Finished) and finished.state == t.JobState.SUCCEEDED, finished
        listed = {m.name: m for m in (await client.list_models()).models}
        assert listed[REPO].installed and listed[REPO].size_bytes > 0 and listed[REPO].defaults is not None
        assert listed["tiny-sd"].source == "builtin"
        again = [p async for p in client.pull_model(REPO)]  # already there: done at once
        assert again[-1].done


async def test_a_pull_the_client_leaves_still_completes(daemon: DaemonProcess, hub: FakeHub) -> None:
    async with daemon.client() as client:
        async for progress in client.pull_model("tester/slow", name="slow"):
            assert not progress.done
            break  # the client goes away
    async with daemon.client() as client:
        seen = [p async for p in client.pull_model("tester/slow", name="slow")]
        assert not seen[0].done  # reattached to the running pull
        assert seen[-1].done and seen[-1].model is not None and seen[-1].model.name == "slow"
        assert (await client.show_model("slow")).installed


async def test_cancel_pull_stops_it_and_registers_nothing(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        with pytest.raises(errors.ImagineError, match="cancelled") as cancelled:
            async for _ in client.pull_model("tester/slow2", name="stopped"):
                await client.cancel_pull("stopped")
        assert code_of(cancelled.value) == grpc.StatusCode.CANCELLED
        with pytest.raises(errors.NotFound):
            await client.show_model("stopped")
        with pytest.raises(errors.NotFound):
            await client.cancel_pull("stopped")
        assert not (daemon.models_dir / "stopped").exists()


async def test_pull_of_an_unknown_repo_is_not_found(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        with pytest.raises(errors.NotFound, match="not found"):
            async for _ in client.pull_model("tester/none"):
                pass


async def test_add_a_local_folder_and_a_bad_one(daemon: DaemonProcess, tiny_sd: Path, tmp_path: Path) -> None:
    copy = tmp_path / "my-copy"
    shutil.copytree(tiny_sd, copy)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "notes.txt").write_text("not a model")
    async with daemon.client() as client:
        model = await client.add_model(str(copy))
        assert (model.name, model.kind, model.source, model.location) == ("my-copy", "sd15", "local", str(copy))
        assert (daemon.models_dir / "my-copy").is_symlink()
        with pytest.raises(errors.ImagineError) as exists:
            await client.add_model(str(copy))
        assert code_of(exists.value) == grpc.StatusCode.ALREADY_EXISTS
        with pytest.raises(errors.InvalidArgument, match="expected a diffusers pipeline folder"):
            await client.add_model(str(bad))
        shown = await client.show_model("my-copy")
        assert "unet/config.json" in shown.files and shown.size_bytes > 0
        assert shown.defaults == t.ModelDefaults(512, 512, 25, 7.0, "euler_a")
        assert await client.remove_model("my-copy") is False  # the user's folder stays
        assert copy.is_dir() and not (daemon.models_dir / "my-copy").exists()
        with pytest.raises(errors.NotFound):
            await client.show_model("my-copy")


async def test_rm_refused_while_a_queued_job_needs_it_unless_forced(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        assert [p async for p in client.pull_model(REPO, name="victim")][-1].done
        await client.pause_queue()
        try:
            submitted = await client.submit(t.JobSpec(t.Txt2Img("waits", width=64, height=64, steps=2), model="victim"))
            with pytest.raises(errors.FailedPrecondition, match=r"1 queued or running job .*--force"):
                await client.remove_model("victim")
            assert await client.remove_model("victim", force=True) is True
            assert not (daemon.models_dir / "victim").exists()
            await client.cancel(submitted.job.id)
        finally:
            await client.resume_queue()


async def test_load_ps_unload(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        load_ms = await client.load_model("tiny-sd", keep_alive=-1)
        assert load_ms >= 0
        loaded = {m.name: m for m in await client.list_loaded()}
        assert "tiny-sd" in loaded and loaded["tiny-sd"].device
        await client.unload_model("tiny-sd")
        assert "tiny-sd" not in {m.name for m in await client.list_loaded()}
        with pytest.raises(errors.NotFound):
            await client.load_model("no-such-model")

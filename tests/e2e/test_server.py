"""What the daemon offers besides jobs: health, reflection, TCP, queue caps, start-up checks."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from imagine import errors
from imagine.client import Client
from tests.e2e.daemon_process import SERVE, DaemonProcess
from tests.e2e.jobs_helpers import spec


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_health_reflection_tcp_and_queue_caps(tmp_path: Path, shared_models_dir: Path) -> None:
    port = free_port()
    daemon = DaemonProcess(
        tmp_path / "data",
        shared_models_dir,
        env={"IMAGINED_LISTEN": f"127.0.0.1:{port}", "IMAGINED_MAX_QUEUE_PER_OWNER": "2", "IMAGINED_MAX_QUEUE": "3"},
    )
    try:
        await daemon.start()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            reply = health.Check(health_pb2.HealthCheckRequest(service="imagine.v1.Jobs"))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
            assert {"imagine.v1.Jobs", "imagine.v1.System", "imagine.v1.Models", "grpc.health.v1.Health"} <= services

        async with Client(address=f"127.0.0.1:{port}") as remote:
            await remote.pause_queue()
            job = (await remote.submit(spec("over tcp"))).job
            assert job.owner == "remote:127.0.0.1"
            await remote.submit(spec("second"))
            with pytest.raises(errors.ResourceExhausted, match="2 jobs waiting"):
                await remote.submit(spec("third from the same owner"))
        async with Client(address=f"127.0.0.1:{port}", on_behalf_of="someone") as impostor:
            with pytest.raises(errors.PermissionDenied, match="unix socket"):
                await impostor.submit(spec("acting for another"))
        async with daemon.client("local-bot-user") as local:
            await local.submit(spec("third job overall"))
            with pytest.raises(errors.ResourceExhausted, match="queue is full"):
                await local.submit(spec("fourth job overall"))
            await local.resume_queue()
    finally:
        daemon.stop()


async def test_a_second_daemon_on_the_same_data_dir_is_refused(tmp_path: Path, shared_models_dir: Path) -> None:
    daemon = DaemonProcess(tmp_path / "data", shared_models_dir)
    try:
        await daemon.start()
        second = subprocess.run(
            [*SERVE, "--socket", str(tmp_path / "other.sock"), "--data-dir", str(daemon.data_dir)],
            capture_output=True, text=True, timeout=60, env=daemon.env,
        )
        assert second.returncode == 1
        assert "already using" in second.stderr
        again = subprocess.run(
            [*SERVE, "--socket", str(daemon.socket), "--data-dir", str(tmp_path / "data2")],
            capture_output=True, text=True, timeout=60, env=daemon.env,
        )
        assert again.returncode == 1 and "already listening" in again.stderr
    finally:
        daemon.stop()


def test_an_unusable_device_stops_the_daemon_with_a_sentence(tmp_path: Path, shared_models_dir: Path) -> None:
    daemon = DaemonProcess(tmp_path / "data", shared_models_dir)
    result = subprocess.run(
        [*SERVE, "--socket", str(daemon.socket), "--data-dir", str(daemon.data_dir), "--device", "cuda:3"],
        capture_output=True, text=True, timeout=120, env=daemon.env,
    )
    assert result.returncode == 1
    assert "cuda" in result.stderr.lower() and "Traceback" not in result.stderr

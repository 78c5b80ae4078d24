"""`imagine serve`: start the daemon and run until SIGINT / SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health as grpc_health
from grpc_health.v1 import health_pb2

from daemon.config import Config, load_config
from imagine.address import pid_file

if TYPE_CHECKING:
    from daemon.runtime import Runtime


log = logging.getLogger("imagined")


class StartError(Exception):
    """The daemon cannot start; the message says why and what to do."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "serve",
        help="run the daemon (owns the GPU; clients connect to it)",
        description="Run the imagined daemon in the foreground until Ctrl-C or SIGTERM.",
        epilog="example: imagine serve --listen 127.0.0.1:50051 --device cuda:0",
    )
    parser.add_argument("--socket", dest="serve_socket", metavar="PATH", help="unix socket to listen on (default: $IMAGINED_SOCKET or the per-user runtime dir)")
    parser.add_argument("--listen", metavar="HOST:PORT", help="also listen on TCP (no authentication: bind to loopback or a trusted network)")
    parser.add_argument("--data-dir", metavar="DIR", help="database, outputs and models (default: $IMAGINED_DATA_DIR or the user data dir)")
    parser.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument("--config", metavar="FILE", help="TOML settings file (default: the user config dir's config.toml)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(func=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        config = load_config(
            {
                "socket": args.serve_socket or getattr(args, "socket", None),
                "listen": args.listen,
                "data_dir": args.data_dir,
                "device": args.device,
            },
            config_file=Path(args.config) if args.config else None,
        )
        with announce_start(config.socket):
            asyncio.run(serve(config))
    except (StartError, ValueError) as exc:
        print(f"imagine serve: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


@contextlib.contextmanager
def announce_start(socket_path: Path | None) -> Iterator[None]:
    """Let clients that find no socket yet know that a daemon is on its way."""
    if socket_path is None:
        yield
        return
    marker = pid_file(socket_path)
    socket_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    marker.write_text(str(os.getpid()))
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if marker.read_text().strip() == str(os.getpid()):
                marker.unlink()


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[IO[str]]:
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / "imagined.lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StartError(f"another imagined daemon is already using {data_dir}; stop it first or pass --data-dir") from None
    try:
        handle.write(str(os.getpid()))
        handle.flush()
        yield handle
    finally:
        handle.close()


def prepare_socket(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.parent.stat().st_uid != os.getuid():
        raise StartError(f"{path.parent} belongs to another user; choose a socket in a folder of your own with --socket")
    if len(str(path)) > 100:
        raise StartError(f"socket path {path} is too long for a unix socket (over 100 characters); choose a shorter --socket")
    if path.exists():
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # left behind by a daemon that was killed
        else:
            raise StartError(f"a daemon is already listening on {path}; stop it first or pass --socket")
        finally:
            probe.close()


async def serve(config: Config) -> None:
    from daemon.runtime import Runtime
    from daemon.server import build_server

    with data_dir_lock(config.data_dir):
        if config.socket is not None:
            prepare_socket(config.socket)
        runtime = Runtime(config)
        server, health = build_server(runtime)
        await set_health(health, health_pb2.HealthCheckResponse.NOT_SERVING)  # it starts out SERVING
        try:
            addresses = await _bind_and_start(server, config)
            recovered = await runtime.open()
            if recovered:
                log.info("resumed %d queued job(s) from %s", recovered, config.db_path)
            print(f"imagined listening on {', '.join(addresses)}; data in {config.data_dir}", file=sys.stderr, flush=True)
            await _serve_until_stopped(runtime, health)
        finally:
            log.info("shutting down")
            await set_health(health, health_pb2.HealthCheckResponse.NOT_SERVING)
            await runtime.close()
            await server.stop(grace=2)
            if config.socket is not None:
                config.socket.unlink(missing_ok=True)


async def set_health(health: grpc_health.aio.HealthServicer, status: int) -> None:
    from daemon.server import SERVICE_NAMES

    for name in (*SERVICE_NAMES, ""):  # "" (the whole server) last: clients wait on it
        await health.set(name, status)


async def _bind_and_start(server: grpc.aio.Server, config: Config) -> list[str]:
    addresses = []
    old_umask = os.umask(0o177)  # the socket is created 0600: only this user may connect
    try:
        if config.socket is not None:
            server.add_insecure_port(f"unix:{config.socket}")
            addresses.append(f"unix:{config.socket}")
        if config.listen:
            try:
                server.add_insecure_port(config.listen)
            except RuntimeError as exc:
                raise StartError(f"cannot listen on {config.listen}: address in use or invalid") from exc
            addresses.append(config.listen)
        await server.start()
    finally:
        os.umask(old_umask)
    if config.socket is not None:
        os.chmod(config.socket, 0o600)
    return addresses


async def _serve_until_stopped(runtime: Runtime, health: grpc_health.aio.HealthServicer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    assert runtime.executor is not None
    await _until_ready_or_stopped(runtime.executor.first_start, stop)
    if not stop.is_set():
        await set_health(health, health_pb2.HealthCheckResponse.SERVING)
        log.info("worker ready; serving")
        await stop.wait()


async def _until_ready_or_stopped(first_start: asyncio.Future[None], stop: asyncio.Event) -> None:
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({first_start, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if first_start.done():
        stopped.cancel()
        try:
            first_start.result()
        except Exception as exc:  # noqa: BLE001 - the worker said why it cannot run
            raise StartError(str(exc)) from exc

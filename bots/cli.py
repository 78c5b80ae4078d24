"""`imagine bot discord|slack`: run a chat bot in the foreground, plugged in through `imagine.commands`."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
from pathlib import Path

from bots.config import BotConfig, ConfigError, load_config, pending_file

log = logging.getLogger("bots")
CONFIG_ENV = "IMAGINE_BOT_CONFIG"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "bot",
        help="run the Discord or Slack bot (a front end of the daemon)",
        description="Run a chat bot in the foreground until Ctrl-C. Tokens come from the environment: "
        "DISCORD_TOKEN; SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP).",
        epilog="examples:\n  DISCORD_TOKEN=... imagine bot discord --config bots.toml\n"
        "  SLACK_BOT_TOKEN=xoxb-... SLACK_APP_TOKEN=xapp-... imagine bot slack",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("platform", choices=["discord", "slack"], help="which bot to run")
    parser.add_argument("--config", metavar="FILE", help=f"the bots' TOML settings (default: ${CONFIG_ENV}, else none)")
    parser.add_argument("--http", action="store_true", help="slack: receive events over HTTP instead of Socket Mode")
    parser.add_argument("--port", type=int, help="slack --http: the port to listen on (default: [slack] port, 3000)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(func=bot_command)


def bot_command(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    path = args.config or os.environ.get(CONFIG_ENV)
    try:
        config = load_config(Path(path).expanduser() if path else None)
        run = run_discord if args.platform == "discord" else run_slack
        asyncio.run(run(config, args))
    except ConfigError as exc:
        print(f"imagine: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def _client(config: BotConfig, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from imagine.client import Client

    socket = config.daemon.socket or getattr(args, "socket", None)
    address = config.daemon.address or getattr(args, "address", None)
    return Client(socket=socket, address=address)


async def _say_if_daemon_down(client) -> None:  # type: ignore[no-untyped-def]
    from imagine.errors import ImagineError

    try:
        await client.status()
    except ImagineError as exc:
        log.warning("%s; the bot runs anyway and tells people so until the daemon is up", exc)


async def run_discord(config: BotConfig, args: argparse.Namespace) -> None:
    from bots.core import ChatCore
    from bots.discord_app import ImagineBot
    from bots.pending import PendingMessages

    if not config.discord.token:
        raise ConfigError("set DISCORD_TOKEN to the bot's token (Discord developer portal → your application → Bot → Reset Token)")
    async with _client(config, args) as client:
        await _say_if_daemon_down(client)
        pending = PendingMessages(pending_file(config, "discord"))
        core = ChatCore(client, config, previews=config.discord.previews)
        async with ImagineBot(core, config.discord, pending) as bot:
            await bot.start(config.discord.token)


async def run_slack(config: BotConfig, args: argparse.Namespace) -> None:
    from aiohttp import web
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bots.core import ChatCore
    from bots.pending import PendingMessages
    from bots.slack_app import SlackBot

    http = args.http or config.slack.mode == "http"
    settings = dataclasses.replace(config.slack, mode="http" if http else "socket")
    if not settings.bot_token:
        raise ConfigError("set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-...) from its OAuth & Permissions page")
    if not http and not settings.app_token:
        raise ConfigError("set SLACK_APP_TOKEN to an app-level token with connections:write (xapp-...) for Socket Mode, or use --http")
    if http and not settings.signing_secret:
        raise ConfigError("set SLACK_SIGNING_SECRET (Basic Information → App Credentials) to receive events over HTTP")
    async with _client(config, args) as client:
        await _say_if_daemon_down(client)
        bot = SlackBot(ChatCore(client, config), settings, PendingMessages(pending_file(config, "slack")))
        bot.resume()
        if not http:
            await AsyncSocketModeHandler(bot.app, settings.app_token).start_async()
            return
        runner = web.AppRunner(bot.app.server(port=args.port or settings.port).web_app)
        await runner.setup()
        await web.TCPSite(runner, port=args.port or settings.port).start()
        log.info("listening for Slack events on port %s at /slack/events", args.port or settings.port)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

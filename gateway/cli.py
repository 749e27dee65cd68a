"""The ``gateway`` command: serve, detect, demo, mock-upstream, keys, policy, challenge."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway import __version__


def _serve(args: argparse.Namespace) -> int:
    from gateway.server import serve
    from gateway.settings import SettingsError, load_settings

    overrides = {"workers": args.workers} if args.workers else {}
    try:
        settings = load_settings(args.config, overrides=overrides)
    except SettingsError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    return serve(settings)


def _detect(args: argparse.Namespace) -> int:
    from gateway.detect import detect
    from gateway.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    return detect(settings)


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    return run_demo(port=args.port, mock_port=args.mock_port, host=args.host)


def build_parser() -> argparse.ArgumentParser:
    from gateway.admin import reference as admin_reference
    from gateway.auth import keys_cli
    from gateway.challenges.client import register as register_challenge
    from gateway.mock import cli as mock_cli
    from gateway.policy import commands as policy_commands
    from gateway.replay import commands as replay_commands

    parser = argparse.ArgumentParser(
        prog="gateway",
        description="Distillation-aware rate-limiting gateway for "
        "OpenAI-compatible inference APIs.",
    )
    parser.add_argument("--version", action="version", version=f"distillguard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", help="YAML settings file (GATEWAY_* env vars win)")
    serve.add_argument("--workers", type=int, help="worker processes (SO_REUSEPORT)")
    serve.set_defaults(func=_serve)

    detect = sub.add_parser(
        "detect", help="apply the gateways' sightings (detection, linking): a worker process"
    )
    detect.add_argument("--config", help="YAML settings file, the one serve reads")
    detect.set_defaults(func=_detect)

    demo = sub.add_parser("demo", help="mock upstream + gateway on the in-memory store")
    demo.add_argument("--port", type=int, default=8080, help="gateway port (default 8080)")
    demo.add_argument("--mock-port", type=int, default=0, help="mock upstream port (0: any)")
    demo.add_argument("--host", default="127.0.0.1", help="listen address")
    demo.set_defaults(func=_demo)

    mock_cli.register(sub)
    keys_cli.register(sub)
    policy_commands.register(sub)
    register_challenge(sub)
    admin_reference.register(sub)
    replay_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result = args.func(args)
    return int(result or 0)

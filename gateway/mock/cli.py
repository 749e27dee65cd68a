"""``gateway mock-upstream``: the OpenAI-compatible mock upstream as a process."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.mock.server import run_mock


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT such as 127.0.0.1:9100, got {value!r}"
        )
    return host.strip("[]") or "0.0.0.0", int(port)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``mock-upstream`` command; its handler is ``args.func(args) -> int``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "mock-upstream",
        help="run the OpenAI-compatible mock upstream",
        description="An OpenAI-compatible mock upstream for tests and benchmarks. Per-request "
        "test hooks: x-mock-status, x-mock-latency-ms, x-mock-chunk-delay-ms, x-mock-chunks, "
        "x-mock-no-usage, x-mock-hang, x-mock-completion-tokens, x-mock-reasoning-tokens, "
        "x-mock-cached-tokens. GET /mock/stats shows what it received.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The mock's options (shared by ``gateway mock-upstream`` and ``python -m gateway.mock``)."""
    parser.add_argument(
        "--listen",
        type=_host_port,
        default=("127.0.0.1", 9100),
        metavar="HOST:PORT",
        help="address to listen on (default 127.0.0.1:9100)",
    )
    parser.add_argument(
        "--chunk-delay-ms", type=float, default=0.0, help="delay before each streamed content chunk"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay before the first byte of every answer"
    )
    parser.add_argument("--chunks", type=int, default=8, help="content chunks per stream")
    parser.add_argument(
        "--completion-tokens",
        type=int,
        default=64,
        help="natural completion length, before max_tokens cuts it",
    )
    parser.add_argument("--seed", type=int, default=0, help="changes every generated text")


def run(args: argparse.Namespace) -> int:
    host, port = args.listen
    return run_mock(
        host,
        port,
        chunk_delay_ms=args.chunk_delay_ms,
        latency_ms=args.latency_ms,
        chunks=args.chunks,
        completion_tokens=args.completion_tokens,
        seed=args.seed,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m gateway.mock [options]``: the mock without the main CLI."""
    parser = argparse.ArgumentParser(prog="python -m gateway.mock")
    add_arguments(parser)
    return run(parser.parse_args(argv))

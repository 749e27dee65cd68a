"""Redis CPU by command and by Lua script, from the server's SLOWLOG.

With ``slowlog-log-slower-than 0`` the server logs every command with its execution time
(µs, the command alone: no network I/O or parsing). This tool turns that on for a private
server (it changes the server's config: never point it at a shared one), drains the log
every ``--poll`` seconds for ``--duration`` seconds, names each ``EVALSHA`` by the SHA-1 of
every script the gateway registers (``gateway.redis.scripts``), and prints calls and µs per
command / script, and per request when ``--requests`` is given. The execution times are
the commands' own; ``INFO cpu`` also counts reading, parsing and replying (about
2-4 µs a command more on loopback). The commands a script calls are logged too (listed as
``(script)``, their time inside their script's): logging each adds to the script's time,
so a script of many commands looks dearer here than it is.

``python -m loadtest.redis_profile --url redis://127.0.0.1:PORT --duration 30 [--requests N]``
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

from gateway.redis.scripts import ScriptRegistry

REGISTRIES = (
    ("gateway.limiter", ("acquire", "settle", "refresh", "level", "flag"), ("now", "cells")),
    ("gateway.clusters", ("link", "remove", "info"), ("common",)),
    ("gateway.clusters", ("value", "pair"), ()),
    ("gateway.sightings", ("read", "trim"), ()),
    ("gateway.detection", ("observe", "fanout"), ()),
    ("gateway.detection", ("episode", "meet", "starts"), ("times",)),
)


def script_names() -> dict[str, str]:
    """SHA-1 -> ``package:name`` of every script the gateway and its workers run."""
    names: dict[str, str] = {}
    for package, scripts, prelude in REGISTRIES:
        for script in ScriptRegistry(package, scripts, prelude=prelude):
            names[script.sha] = script.name.removeprefix("gateway.")
    return names


def label(args: list[Any], names: dict[str, str], client: bytes = b"") -> str:
    """The command's name, or ``evalsha <script>`` for a known script; ``  (script) cmd``
    for a command a script called (the server logs those too, with no client address)."""
    words = [a.decode() if isinstance(a, bytes) else str(a) for a in args[:2]]
    command = words[0].lower() if words else "?"
    if client.startswith(b"?"):
        return f"  (script) {command}"
    if command == "evalsha" and len(words) > 1:
        return f"evalsha {names.get(words[1], words[1][:10])}"
    return command


def drain(client: Any, names: dict[str, str], calls: Counter[str], usec: Counter[str]) -> int:
    entries = client.execute_command("SLOWLOG", "GET", "-1")
    client.execute_command("SLOWLOG", "RESET")
    for entry in entries:
        name = label(list(entry[3]), names, bytes(entry[4]) if len(entry) > 4 else b"")
        if name.startswith("slowlog"):
            continue
        calls[name] += 1
        usec[name] += int(entry[2])
    return len(entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.redis_profile")
    parser.add_argument("--url", required=True, help="a private redis-server")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between drains")
    parser.add_argument("--requests", type=int, help="requests served meanwhile (per-request)")
    args = parser.parse_args(argv)
    import redis

    client = redis.Redis.from_url(args.url, socket_timeout=5)
    client.config_set("slowlog-max-len", 200000)
    client.config_set("slowlog-log-slower-than", 0)
    client.execute_command("SLOWLOG", "RESET")
    names = script_names()
    calls: Counter[str] = Counter()
    usec: Counter[str] = Counter()
    most = 0
    deadline = time.monotonic() + args.duration
    try:
        while time.monotonic() < deadline:
            most = max(most, drain(client, names, calls, usec))
            time.sleep(args.poll)
        drain(client, names, calls, usec)
    finally:
        client.config_set("slowlog-log-slower-than", 10000)
        client.config_set("slowlog-max-len", 128)
    per = args.requests or 0
    top = [name for name in calls if not name.startswith(" ")]
    total_calls, total_usec = sum(calls[n] for n in top), sum(usec[n] for n in top)
    print(f"{'command / script':32} {'calls':>9} {'µs':>11} {'µs/call':>8}", end="")
    print(f" {'calls/req':>9} {'µs/req':>8}" if per else "")
    for name, spent in usec.most_common():
        n = calls[name]
        print(f"{name:32} {n:9d} {spent:11d} {spent / n:8.1f}", end="")
        print(f" {n / per:9.2f} {spent / per:8.1f}" if per else "")
    print(f"{'total (scripts with their commands)':32} {total_calls:9d} {total_usec:11d}", end="")
    print(f" {'':8} {total_calls / per:9.2f} {total_usec / per:8.1f}" if per else "")
    if most >= 200000:
        print("(the log filled up between drains: some commands were lost; poll more often)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

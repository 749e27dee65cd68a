"""``python -m loadtest.faults [--quick]``: see :mod:`loadtest.faults`."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from loadtest.faults.drills import FULL, QUICK, run_all
from loadtest.faults.load import table
from loadtest.faults.stack import Stack

LIMIT = {False: 150.0, True: 75.0}  # seconds the drills may take, start-up excluded


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.faults", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter phases, 200 streams")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        stack = Stack(Path(folder))
        try:
            stack.start()
            ready = time.monotonic()
            rows = asyncio.run(asyncio.wait_for(run_all(stack, plan), LIMIT[args.quick]))
        finally:
            stack.stop()
    print(table(rows))
    print(f"\n{'quick' if args.quick else 'full'} run: start-up {ready - started:.0f} s, "
          f"drills {time.monotonic() - ready:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()

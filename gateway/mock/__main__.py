"""``python -m gateway.mock [--listen HOST:PORT] ...``: the mock upstream on its own."""

import sys

from gateway.mock.cli import main

sys.exit(main(sys.argv[1:]))

#!/usr/bin/env bash
# Make sure a Redis answers (the tests and benchmarks need a real redis-server, see
# tests/conftest.py) and print `export REDIS_URL=...` for eval.
# Order: $REDIS_URL if set and answering; else 127.0.0.1:6379; else start redis-server on a
# free loopback port (no persistence); else fail with a clear message.
set -euo pipefail
ping() { # host port
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h "$1" -p "$2" ping 2>/dev/null | grep -q PONG
  else
    python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)
s.sendall(b"PING\r\n"); sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
PY
  fi
}
if [ -n "${REDIS_URL:-}" ]; then
  hostport=${REDIS_URL#*://}; hostport=${hostport%%/*}; hostport=${hostport##*@}
  if ping "${hostport%:*}" "${hostport##*:}"; then echo "export REDIS_URL=$REDIS_URL"; exit 0; fi
  echo "REDIS_URL=$REDIS_URL does not answer; looking for another Redis" >&2
fi
if ping 127.0.0.1 6379; then echo "export REDIS_URL=redis://127.0.0.1:6379/0"; exit 0; fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "No Redis reachable at 127.0.0.1:6379 and redis-server is not installed." >&2
  echo "Install it (apt-get install redis-server) or set REDIS_URL." >&2
  exit 1
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir "$dir" --logfile "$dir/redis.log" >&2
for _ in $(seq 50); do ping 127.0.0.1 "$port" && break; sleep 0.1; done
ping 127.0.0.1 "$port" || { echo "redis-server did not start on port $port" >&2; exit 1; }
echo "started redis-server on 127.0.0.1:$port" >&2
echo "export REDIS_URL=redis://127.0.0.1:$port/0"

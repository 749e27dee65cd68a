#!/usr/bin/env bash
# Build the container image and test it: `make image-test`.
#
# No image registry is needed. The base image is a Debian root filesystem made from Debian
# packages (mmdebstrap: python3, python3-venv), cached as a tarball and imported into podman
# (rebuilt when missing); the project's Dockerfile is built on it with BASE=<that image>; pip
# inside the build reaches PyPI over the host's network. Then, all on loopback:
#   a redis-server on a free port, the mock upstream and the gateway from the image
#   (read-only root filesystem, a tmpfs /tmp, the keys file mounted read-only), and checks:
#   /readyz is 200 with the store up, one proxied chat completion is 200, the gateway runs
#   as a non-root user.
# Needs root (or podman's rootless set-up) and: podman, runc, mmdebstrap, redis-server;
# as root they are installed with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${DG_IMAGE_CACHE:-/var/tmp/distillguard-image}
SUITE=${DG_IMAGE_SUITE:-bookworm}          # Debian 12: python3 is 3.11
BASE_TAR=$CACHE/base-$SUITE.tar
BASE_IMAGE=localhost/distillguard-base:$SUITE
IMAGE=${DG_IMAGE:-localhost/distillguard:test}
PYTHON=${PYTHON:-.venv/bin/python}
# container sandboxes often lack overlayfs, user namespaces and cgroup v2: vfs storage, the
# runc runtime (crun refuses hybrid cgroups), chroot isolation for builds, host networking
PODMAN=(podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs --events-backend file)
# runc may not raise limits (podman's defaults would): ask for no more than the shell has
LIMITS=(--ulimit "nofile=$(ulimit -n):$(ulimit -Hn)" --ulimit "nproc=4096:4096")

say() { echo "image-test: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

need=()
for tool in podman runc mmdebstrap redis-server curl; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  pkgs=("${need[@]}")  # each tool is in the Debian package of the same name
  [ "$(id -u)" = 0 ] || fail "missing ${need[*]}: install them (apt-get install ${pkgs[*]})"
  say "installing ${pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null; }
fi
[ -x "$PYTHON" ] || fail "$PYTHON not found: run make install first"

mkdir -p "$CACHE"
if [ ! -s "$BASE_TAR" ]; then
  say "building the base root filesystem from Debian packages ($SUITE) into $BASE_TAR"
  mmdebstrap --quiet --format=tar --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$BASE_TAR.part" && mv "$BASE_TAR.part" "$BASE_TAR"
  "${PODMAN[@]}" rmi -f "$BASE_IMAGE" >/dev/null 2>&1 || true
fi
if ! "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  say "importing $BASE_TAR as $BASE_IMAGE"
  "${PODMAN[@]}" import --quiet "$BASE_TAR" "$BASE_IMAGE" >/dev/null
fi

# pip in the build uses the index and the CA bundle that pip uses on this machine (a host
# behind a TLS-inspecting proxy trusts its CA there, and the base image does not)
build=(--build-arg "BASE=$BASE_IMAGE")
pip_config() { "$PYTHON" -m pip config list 2>/dev/null | sed -n "s/^[a-z:]*\.$1='\(.*\)'\$/\1/p" | head -n 1; }
index=${PIP_INDEX_URL:-$(pip_config index-url)}
if [ -n "$index" ]; then build+=(--build-arg "PIP_INDEX_URL=$index"); fi
cert=${PIP_CERT:-$(pip_config cert)}
cert=${cert:-/etc/ssl/certs/ca-certificates.crt}
if [ -n "$cert" ] && [ -f "$cert" ]; then
  build+=(--volume "$cert:/etc/distillguard-build-ca.crt:ro" --build-arg PIP_CERT=/etc/distillguard-build-ca.crt)
fi
say "building $IMAGE on $BASE_IMAGE"
started=$SECONDS
"${PODMAN[@]}" build --quiet --format docker --isolation chroot --network host "${build[@]}" \
  -t "$IMAGE" -f Dockerfile . >/dev/null
say "image built in $((SECONDS - started)) s"

work=$(mktemp -d)
containers=()
redis_pid=
cleanup() {
  for c in "${containers[@]}"; do "${PODMAN[@]}" rm -f -t 2 "$c" >/dev/null 2>&1 || true; done
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
  # the build's intermediate layers (vfs stores each in full); the base and the image stay
  "${PODMAN[@]}" image prune -f >/dev/null 2>&1 || true
}
trap cleanup EXIT

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # url what
  for _ in $(seq 120); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

redis_port=$(free_port); mock_port=$(free_port); port=$(free_port); admin_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
  --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!

"$PYTHON" -m gateway keys new --account image-test --tier free --keys-file "$work/keys.yaml" \
  > "$work/key"
chmod 0644 "$work/keys.yaml"   # a throwaway test key, readable by the container's user
key=$(sed -n "s/^key: //p" "$work/key")

# no health-check timer (podman would want systemd for it): the check is run once below
run=("${PODMAN[@]}" run -d --network host --read-only --tmpfs /tmp --health-interval disable "${LIMITS[@]}")
containers+=("dg-image-test-mock-$$")
"${run[@]}" --name "dg-image-test-mock-$$" "$IMAGE" \
  mock-upstream --listen "127.0.0.1:$mock_port" >/dev/null
containers+=("dg-image-test-gateway-$$")
"${run[@]}" --name "dg-image-test-gateway-$$" \
  -v "$work/keys.yaml:/etc/gateway/keys.yaml:ro" \
  -e "GATEWAY_LISTEN=127.0.0.1:$port" -e "GATEWAY_ADMIN_LISTEN=127.0.0.1:$admin_port" \
  -e "GATEWAY_UPSTREAM=http://127.0.0.1:$mock_port" \
  -e "GATEWAY_STORE=redis://127.0.0.1:$redis_port/0" -e "GATEWAY_STORE_PREFIX=dgimage$$" \
  -e "GATEWAY_LINK_SECRET=image-test-link-secret" \
  -e "GATEWAY_CHALLENGE_SECRET=image-test-challenge-secret" \
  -e GATEWAY_KEYS_FILE=/etc/gateway/keys.yaml \
  "$IMAGE" >/dev/null

logs() { "${PODMAN[@]}" logs "dg-image-test-gateway-$$" 2>&1 | tail -n 20 >&2; }
wait_for "http://127.0.0.1:$port/healthz" || { logs; fail "the gateway never answered /healthz"; }

ready=$(curl -sS -o "$work/ready" -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$ready" = 200 ] && grep -q '"store": true' "$work/ready" \
  || { cat "$work/ready" >&2; logs; fail "/readyz answered $ready"; }
say "ok: /readyz 200 $(cat "$work/ready")"

status=$(curl -sS -o "$work/reply" -w '%{http_code}' "http://127.0.0.1:$port/v1/chat/completions" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"model": "mock-gpt", "messages": [{"role": "user", "content": "Hello from the image test"}]}')
[ "$status" = 200 ] && grep -q '"choices"' "$work/reply" \
  || { cat "$work/reply" >&2; logs; fail "the proxied call answered $status"; }
say "ok: proxied chat completion 200"

uid=$("${PODMAN[@]}" exec "dg-image-test-gateway-$$" python3 -c 'import os; print(os.getuid())')
[ "$uid" != 0 ] || fail "the gateway runs as root"
say "ok: the gateway runs as uid $uid (not root), read-only root filesystem"

"${PODMAN[@]}" healthcheck run "dg-image-test-gateway-$$" >/dev/null \
  || fail "the image's HEALTHCHECK does not pass on a running gateway"
say "ok: the image's HEALTHCHECK passes"

"${PODMAN[@]}" exec "dg-image-test-gateway-$$" python3 -c \
  'from gateway.startup import bundled_policy; assert bundled_policy().is_file()' \
  || fail "the installed package has no bundled default policy"
say "ok: the installed package ships its default policy"
say "passed"

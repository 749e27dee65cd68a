"""``gateway demo``: the built-in mock model + the gateway on the in-memory store, with demo
credentials and ready-to-paste calls printed."""

from __future__ import annotations

import asyncio
import importlib.util
import shlex
import socket
import sys
import tempfile
from pathlib import Path

import jwt
from aiohttp import web

from gateway.auth.api_keys import new_key
from gateway.clock import SystemClock
from gateway.mock.app import build_mock_app
from gateway.observability.logging import configure_logging
from gateway.server import _install_uvloop, run_gateway
from gateway.settings import Settings
from gateway.startup import StartupError, run_command, start_site

DEMO_JWT_SECRET = "demo-jwt-secret-change-me-0123456789abcdef"
DEMO_ADMIN_TOKEN = "demo-admin-token"


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _python_lines() -> str:
    """The interpreter running the demo, by its full path: a bare ``python`` may be another
    one, without the package or the ``openai`` SDK."""
    python = shlex.quote(sys.executable)
    if importlib.util.find_spec("openai") is None:
        return f"  {python} -m pip install openai   # the OpenAI SDK, for the call below\n"
    return ""


def _banner(base: str, admin: str, free_key: str, pro_key: str, token: str) -> str:
    python = shlex.quote(sys.executable)
    return f"""
  distillguard demo — gateway on {base}, admin on {admin}, mock model upstream
  -----------------------------------------------------------------------------
  API key (tier free):  {free_key}
  API key (tier pro):   {pro_key}
  JWT (sub demo-jwt):   {token}
  Admin token:          {DEMO_ADMIN_TOKEN}

  curl {base}/v1/chat/completions -H "Authorization: Bearer {free_key}" \\
       -H "Content-Type: application/json" \\
       -d '{{"model": "mock-gpt", "messages": [{{"role": "user", "content": "Hello!"}}]}}' -i

{_python_lines()}  {python} - <<'PY'
from openai import OpenAI
client = OpenAI(base_url="{base}/v1", api_key="{free_key}")
print(client.chat.completions.create(model="mock-gpt",
      messages=[{{"role": "user", "content": "Hello!"}}]).choices[0].message.content)
for chunk in client.chat.completions.create(model="mock-gpt", stream=True,
      messages=[{{"role": "user", "content": "Stream please"}}]):
    print(chunk.choices[0].delta.content or "", end="", flush=True)
print()
print(client.responses.create(model="mock-gpt", input="And the Responses API?").output_text)
PY

  Send a few quick requests with the free key to see 429s and the RateLimit headers.
  curl {admin}/admin/v1/accounts/demo-free -H "Authorization: Bearer {DEMO_ADMIN_TOKEN}"
  curl {admin}/metrics -H "Authorization: Bearer {DEMO_ADMIN_TOKEN}"
  Ctrl-C stops the demo.
"""


async def _demo(host: str, port: int, mock_port: int) -> None:
    mock_port = mock_port or _free_port(host)
    runner = web.AppRunner(build_mock_app(chunk_delay_ms=40), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await start_site(web.TCPSite(runner, host, mock_port), "--mock-port")
    except StartupError:
        await runner.cleanup()
        raise
    workdir = Path(tempfile.mkdtemp(prefix="distillguard-demo-"))
    keys_file = workdir / "keys.yaml"
    free_key = new_key(
        keys_file,
        "demo-free",
        tier="free",
        attrs={"org_id": "demo-org", "payment_fingerprint": "demo-card"},
    )
    pro_key = new_key(keys_file, "demo-pro", tier="pro")
    now = int(SystemClock().now())
    token = jwt.encode(
        {"sub": "demo-jwt", "tier": "free", "exp": now + 86400, "iat": now},
        DEMO_JWT_SECRET,
        algorithm="HS256",
    )
    settings = Settings(
        listen=f"{host}:{port}",
        upstream=f"http://{host}:{mock_port}",
        store="memory://",
        keys_file=str(keys_file),
        jwt_secret=DEMO_JWT_SECRET,
        jwt_algorithms=("HS256",),
        admin_listen=f"{host}:{port + 1}",
        admin_token=DEMO_ADMIN_TOKEN,
        challenge_secret="demo-challenge-secret",
        log_format="console",
    )
    banner = _banner(f"http://{host}:{port}", f"http://{host}:{port + 1}", free_key, pro_key, token)
    try:  # the banner once both ports are taken: a busy port prints no keys
        await run_gateway(settings, on_ready=lambda: print(banner, flush=True))
    finally:
        await runner.cleanup()


def run_demo(*, port: int = 8080, mock_port: int = 0, host: str = "127.0.0.1") -> int:
    configure_logging("console", "info")
    _install_uvloop()
    return run_command(lambda: _demo(host, port, mock_port), asyncio.run) or 0

"""The baseline of the overhead benchmark: the least an aiohttp pass-through proxy can do.

One ``ClientSession`` with keep-alive connections, uvloop, the request body read whole and
forwarded, hop-by-hop headers dropped, the answer relayed (an event stream chunk by chunk).
No auth, no limits, no logging: whatever the gateway costs above this is the gateway's own.

``python -m loadtest.minimal_proxy --listen 127.0.0.1:9200 --upstream http://127.0.0.1:9100``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

HOP_BY_HOP = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "te",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
        "trailer",
        "host",
        "content-length",
    }
)
SESSION_KEY = web.AppKey("session", ClientSession)


class MinimalProxy:
    """Forwards every request to ``upstream`` (a base URL without a trailing slash)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")

    async def open(self, app: web.Application) -> None:
        app[SESSION_KEY] = ClientSession(
            connector=TCPConnector(limit=0, ttl_dns_cache=None, keepalive_timeout=60),
            timeout=ClientTimeout(total=None, sock_connect=5, sock_read=300),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )

    async def close(self, app: web.Application) -> None:
        await app[SESSION_KEY].close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        session = request.app[SESSION_KEY]
        async with session.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as upstream:
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
            if upstream.headers.get("content-type", "").startswith("text/event-stream"):
                response = web.StreamResponse(status=upstream.status, headers=out)
                await response.prepare(request)
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
            return web.Response(body=await upstream.read(), status=upstream.status, headers=out)


def build_proxy_app(upstream: str) -> web.Application:
    proxy = MinimalProxy(upstream)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.on_startup.append(proxy.open)
    app.on_cleanup.append(proxy.close)
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    return app


async def serve(host: str, port: int, upstream: str) -> None:
    runner = web.AppRunner(build_proxy_app(upstream), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_address=True, backlog=1024).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.minimal_proxy")
    parser.add_argument("--listen", default="127.0.0.1:9200", metavar="HOST:PORT")
    parser.add_argument("--upstream", default="http://127.0.0.1:9100", metavar="URL")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(host, int(port), args.upstream))
    else:
        uvloop.run(serve(host, int(port), args.upstream))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

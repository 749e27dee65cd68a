"""Client stacks: the headers an SDK or HTTP library sends (User-Agent, ``x-stainless-*``).

A stack is drawn once per account by ordinary clients (one app, one SDK version) and per request
by harvesters that rotate theirs. Values are what the public SDKs send; versions and platforms
vary the way a population of real installations does.
"""

from __future__ import annotations

import random

PY_SDK = ("1.35.10", "1.40.6", "1.45.0", "1.51.2", "1.54.4", "1.57.0", "1.59.7", "1.61.1")
JS_SDK = ("4.52.7", "4.56.0", "4.67.3", "4.73.1", "4.77.0", "4.85.1")
PY_RUNTIME = ("3.9.18", "3.10.14", "3.11.9", "3.12.3", "3.12.7", "3.13.0")
NODE_RUNTIME = ("v18.19.1", "v20.11.1", "v20.17.0", "v22.9.0")
PLATFORMS = (("Linux", "x64"), ("Linux", "arm64"), ("MacOS", "arm64"), ("Windows", "x64"))
PLAIN = (
    "python-requests/2.31.0",
    "python-requests/2.32.3",
    "python-httpx/0.27.2",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "axios/1.7.7",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
)


SDKS = {  # lang -> (User-Agent name, versions, runtime, runtime versions)
    "python": ("OpenAI/Python", PY_SDK, "CPython", PY_RUNTIME),
    "js": ("OpenAI/JS", JS_SDK, "node", NODE_RUNTIME),
}


def _sdk(rng: random.Random, lang: str) -> dict[str, str]:
    agent, versions, runtime, runtimes = SDKS[lang]
    version = rng.choice(versions)
    os_name, arch = rng.choice(PLATFORMS)
    headers = {
        "User-Agent": f"{agent} {version}",
        "X-Stainless-Lang": lang,
        "X-Stainless-Package-Version": version,
        "X-Stainless-OS": os_name,
        "X-Stainless-Arch": arch,
        "X-Stainless-Runtime": runtime,
        "X-Stainless-Runtime-Version": rng.choice(runtimes),
    }
    if lang == "python":
        headers["X-Stainless-Async"] = rng.choice(("false", "async:asyncio"))
    headers["x-stainless-retry-count"] = "0"
    return headers


def client_stack(rng: random.Random) -> dict[str, str]:
    """One installation's headers: the Python SDK (most), the Node SDK, or a plain library."""
    u = rng.random()
    if u < 0.55:
        return _sdk(rng, "python")
    if u < 0.85:
        return _sdk(rng, "js")
    return {"User-Agent": rng.choice(PLAIN)}

"""The degrade level's request rewrite: a pure function of the JSON body."""

from __future__ import annotations

from typing import Any

from gateway.detection.config import DegradeSettings, DetectionPolicy

_TOKEN_FIELDS = ("max_tokens", "max_completion_tokens")


def degrade(
    body: dict[str, Any], policy: DetectionPolicy | DegradeSettings
) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``body`` with the degrade rules applied, and what was changed.

    Strips logprobs, top_logprobs and logit_bias, caps ``n`` and caps (or sets, when absent)
    the completion length: ``max_completion_tokens`` if the client used it, else ``max_tokens``.
    ``body`` itself is never modified.
    """
    rules = policy.degrade if isinstance(policy, DetectionPolicy) else policy
    out = dict(body)
    changed: list[str] = []
    for name, strip in (
        ("logprobs", rules.strip_logprobs),
        ("top_logprobs", rules.strip_top_logprobs),
        ("logit_bias", rules.strip_logit_bias),
    ):
        if strip and name in out:
            del out[name]
            changed.append(f"{name} removed")
    n = out.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > rules.max_n:
        out["n"] = rules.max_n
        changed.append(f"n capped at {rules.max_n}")
    present = [f for f in _TOKEN_FIELDS if f in out and out[f] is not None]
    for field in present:
        value = out[field]
        if not isinstance(value, int) or isinstance(value, bool) or value > rules.max_tokens:
            out[field] = rules.max_tokens
            changed.append(f"{field} capped at {rules.max_tokens}")
    if not present:
        out["max_tokens"] = rules.max_tokens
        changed.append(f"max_tokens set to {rules.max_tokens}")
    return out, changed

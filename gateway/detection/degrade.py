"""The degrade level's request rewrite: a pure function of the JSON body."""

from __future__ import annotations

from typing import Any

from gateway.apis import CHAT_COMPLETIONS, Api
from gateway.detection.config import DegradeSettings, DetectionPolicy


def degrade(
    body: dict[str, Any], policy: DetectionPolicy | DegradeSettings, api: Api = CHAT_COMPLETIONS
) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``body`` with the degrade rules applied, and what was changed.

    Strips logprobs, top_logprobs and logit_bias (the Responses API: the log probabilities
    asked for in ``include``) and the reasoning asked back with the answer (a reasoning
    summary, ``include_reasoning``), caps ``n`` and caps (or sets, when absent) the answer's length
    in the fields of ``api`` (:mod:`gateway.apis`): Chat Completions ``max_completion_tokens``
    if the client used it, else ``max_tokens``; the Responses API ``max_output_tokens`` (never
    below the least it accepts); embeddings none. ``body`` itself is never modified.
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
    include = out.get("include")
    if rules.strip_logprobs and api.logprobs_include and isinstance(include, list):
        kept = [item for item in include if item != api.logprobs_include]
        if len(kept) != len(include):
            out["include"] = kept
            changed.append(f"{api.logprobs_include} removed")
    if rules.strip_reasoning_summary:
        changed.extend(_strip_reasoning_summary(out))
    n = out.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > rules.max_n:
        out["n"] = rules.max_n
        changed.append(f"n capped at {rules.max_n}")
    if api.output_field is None:
        return out, changed
    cap = max(rules.max_tokens, api.min_output)
    present = [f for f in api.output_fields if f in out and out[f] is not None]
    for field in present:
        value = out[field]
        if not isinstance(value, int) or isinstance(value, bool) or value > cap:
            out[field] = cap
            changed.append(f"{field} capped at {cap}")
    if not present:
        out[api.output_field] = cap
        changed.append(f"{api.output_field} set to {cap}")
    return out, changed


def _strip_reasoning_summary(out: dict[str, Any]) -> list[str]:
    """Remove, in ``out`` (a copy), the reasoning summary asked for; what was removed."""
    changed: list[str] = []
    reasoning = out.get("reasoning")
    if isinstance(reasoning, dict):
        kept = {k: v for k, v in reasoning.items() if k not in _SUMMARY_FIELDS}
        if len(kept) != len(reasoning):
            out["reasoning"] = kept
            changed.append("reasoning summary removed")
    if "include_reasoning" in out:
        del out["include_reasoning"]
        changed.append("include_reasoning removed")
    return changed


_SUMMARY_FIELDS = ("summary", "generate_summary")

"""The request log line's replay fields: what ``gateway replay`` needs to charge a request
again under another policy, and nothing of the prompt.

``at`` (clock time of arrival), ``cluster_size``, ``model``, ``endpoint``,
``prompt_tokens`` (the estimate reserved), ``max_tokens`` and ``n`` (the completion
reservation), ``usage_in``/``usage_out`` (what the request really cost; absent when it was
never served) and ``cell`` (the coarse semantic cell the diversity budget counts: a bucket
number, not text; absent when the running policy has no novelty budget).
"""

from __future__ import annotations

from typing import Any

from gateway.proxy.context import RequestContext
from gateway.proxy.settle import actual_tokens


def replay_fields(ctx: RequestContext) -> dict[str, Any]:
    features, prompt = ctx.features, ctx.prompt
    fields: dict[str, Any] = {"at": round(ctx.now, 3), "cluster_size": ctx.cluster_size}
    if features is not None:
        fields.update(
            model=features.model,
            endpoint=features.endpoint,
            max_tokens=features.max_tokens,
            n=features.n,
        )
    if prompt is not None:
        fields["prompt_tokens"] = prompt.est_tokens
        if prompt.cell is not None:  # a novelty cell, not just an estimate
            fields["cell"] = prompt.cell
    if ctx.decision is not None and ctx.decision.allowed:
        usage = actual_tokens(ctx)
        fields["usage_in"], fields["usage_out"] = usage.prompt_tokens, usage.completion_tokens
    return fields

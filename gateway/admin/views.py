"""The account and cluster views of the admin API: JSON-able dicts, no HTTP here.

An account view joins what the gateway knows of one account: its last-seen record (the real
tier), its cluster and links, its budgets' state (peeked, nothing charged), its detection
state, and one audit trail merging link decisions and detection actions, newest first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.budgets.registry import KINDS
from gateway.detection.types import entity_of_account, entity_of_cluster
from gateway.errors import GatewayError
from gateway.model import AcquireRequest, Charge
from gateway.proxy.planner import Planner

if TYPE_CHECKING:
    from gateway.state import GatewayState

AUDIT_SHOWN = 50  # audit entries in one view
AUDIT_SCANNED = 1000  # newest link-audit entries searched for the account or cluster


def not_found(kind: str, ident: str) -> GatewayError:
    return GatewayError(
        f"No {kind} {ident!r} is known to this gateway (never seen, linked or pinned).",
        status=404,
        type="invalid_request_error",
        code=f"{kind}_not_found",
        param="id",
    )


class Views:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.planner = Planner(state.backend.keys, shadow=state.settings.shadow)

    def _tier(self, asked: str | None, seen_tier: str | None) -> tuple[str, str]:
        """(tier, where it came from): ``?tier=`` (what if), the last-seen record, else
        the policy default."""
        policy = self.state.holder.current.policy
        if asked:
            if asked not in policy.tiers:
                raise GatewayError(
                    f"unknown tier {asked!r}; the policy defines {', '.join(policy.tiers)}",
                    status=400,
                    type="invalid_request_error",
                    code="invalid_tier",
                    param="tier",
                )
            return asked, "query"
        if seen_tier and seen_tier in policy.tiers:
            return seen_tier, "seen"
        return policy.defaults.tier, "default"

    async def account(self, account: str, asked_tier: str | None) -> dict[str, Any]:
        state = self.state
        seen = await state.seen.get(account)
        view = await state.cluster_service.account_view(account)
        tier, source = self._tier(asked_tier, seen.tier if seen else None)
        detection = await state.detection.view(
            entity_of_account(account), tier, str(view["cluster_id"])
        )
        if seen is None and view["members"] <= 1 and not view["links"] and not _touched(detection):
            raise not_found("account", account)
        view["tier"], view["tier_source"] = tier, source
        view["seen"] = seen.to_json() if seen else None
        view["budgets"] = await self.budgets(account, view["cluster_id"], view["members"], tier)
        view["detection"] = detection
        view["audit"] = await self._audit(detection, lambda e: account in e["accounts"])
        return view

    async def cluster(self, cluster_id: str, asked_tier: str | None) -> dict[str, Any]:
        state = self.state
        view = await state.cluster_service.cluster_view(cluster_id)
        seen = await state.seen.get(cluster_id) if view["size"] <= 1 else None
        tier, source = self._tier(asked_tier, seen.tier if seen else None)
        detection = await state.detection.view(entity_of_cluster(cluster_id), tier)
        if view["size"] <= 1 and seen is None and not view["links"] and not _touched(detection):
            raise not_found("cluster", cluster_id)
        size = int(view.get("size", 1))
        view["tier"], view["tier_source"] = tier, source
        view["budgets"] = [
            b
            for b in await self.budgets(cluster_id, cluster_id, size, tier)
            if b["scope"] == "cluster"
        ]
        view["detection"] = detection
        members = set(view["members"])
        view["audit"] = await self._audit(
            detection,
            lambda e: e["cluster_id"] == cluster_id or bool(members.intersection(e["accounts"])),
        )
        return view

    async def budgets(self, account: str, cluster_id: str, size: int, tier: str) -> list[Any]:
        loaded = self.state.holder.current
        charges = tuple(
            Charge(self.planner.bind(t, cluster_id=cluster_id, account=account), 0)
            for t in self.planner.templates(loaded, tier, "", "", size)
            if not KINDS[t.algorithm].per_prompt  # a peek has no prompt
        )
        result = await self.state.backend.budgets.peek(AcquireRequest("admin-peek", charges))
        return [
            {
                "budget": s.budget.name,
                "scope": s.budget.scope,
                "unit": s.budget.unit,
                "limit": s.budget.limit,
                "remaining": s.remaining,
                "reset_after": round(s.reset_after, 3),
                "mode": s.budget.mode,
            }
            for s in result.states
        ]

    async def _audit(self, detection: dict[str, Any], concerns: Any) -> list[dict[str, Any]]:
        """Link audit entries that ``concerns`` the view, and the entity's detection audit,
        newest first."""
        links = (await self.state.cluster_service.audit(AUDIT_SCANNED))["entries"]
        merged = [{"source": "clusters", **e} for e in links if concerns(e)]
        for record in detection.get("audit") or ():
            entry = {k: v for k, v in record.items() if k != "t"}
            merged.append({"source": "detection", "at": record.get("t", 0.0), **entry})
        merged.sort(key=lambda e: float(e.get("at") or 0.0), reverse=True)
        return merged[:AUDIT_SHOWN]


def _touched(detection: dict[str, Any]) -> bool:
    """An operator acted on the entity (a pin, an audit record) or it has scored requests."""
    return bool(detection.get("pinned") or detection.get("audit") or detection.get("requests"))

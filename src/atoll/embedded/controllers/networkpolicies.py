"""NetworkPolicies are stored, served and listed, but the embedded cluster enforces none:
each policy gets one Warning Event saying so, where ``kubectl describe`` shows it.

Enforcing them needs a packet filter in every pod's path (iptables/nftables rules per
policy, as Calico or Cilium write them), which a single-machine cluster for trying things
out does not carry. A real cluster with a policy-enforcing network plugin enforces the same
objects unchanged. The Event is written once per policy (by uid) for each run of the
controller manager; Events are aggregated by the recorder, so a restart only bumps a count.
"""

from __future__ import annotations

from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.kube.client import ResourceType
from atoll.kube.informers import Informer

from . import ControllerOptions

__all__ = ["CONTROLLERS", "NETWORK_POLICIES", "NOT_ENFORCED", "NetworkPolicyNotice"]

NETWORK_POLICIES = ResourceType("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True)
NOT_ENFORCED = (
    "NetworkPolicy is stored but not enforced: the embedded cluster's pod network lets "
    "every pod reach every other. Use a real cluster with a policy-enforcing network "
    "plugin to enforce it."
)


class NetworkPolicyNotice:
    """Keys are policies; a reconcile writes the Warning Event for a policy not yet told."""

    name = "networkpolicy-notice"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options
        self._told: set[str] = set()  # uids

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._policies: Informer = ctx.informers.informer(NETWORK_POLICIES)
        self._policies.add_handler(on_add=ctx.enqueue)

    async def reconcile(self, key: str) -> Result:
        policy = self._policies.get(key)
        if policy is None:
            return Result()
        uid = str(policy["metadata"].get("uid") or key)
        if uid in self._told:
            return Result()
        await self._ctx.events.warning(policy, "NotEnforced", message=NOT_ENFORCED)
        self._told.add(uid)
        return Result()


def _network_policy_notice(options: ControllerOptions) -> Controller:
    return NetworkPolicyNotice(options)


CONTROLLERS = [_network_policy_notice]

"""Every NetworkPolicy gets a Warning Event saying it is stored but not enforced."""

from __future__ import annotations

import json

from tests.conftest import ClusterProcess
from tests.waiting import eventually

POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "deny-all"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}


def test_a_policy_is_stored_and_said_not_to_be_enforced(
    cluster: ClusterProcess, namespace: str
) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(POLICY))
    assert cluster.kubectl("get", "netpol", "-n", namespace, "-o", "name") == (
        "networkpolicy.networking.k8s.io/deny-all\n"
    )

    def warned() -> list[dict[str, object]]:
        out = cluster.kubectl("get", "events", "-n", namespace, "-o", "json")
        return [
            e
            for e in json.loads(out)["items"]
            if e["reason"] == "NotEnforced" and e["involvedObject"]["name"] == "deny-all"
        ]

    (event,) = eventually(warned, what="the NotEnforced event")
    assert event["type"] == "Warning"
    assert event["involvedObject"]["kind"] == "NetworkPolicy"
    assert "not enforced" in str(event["message"])

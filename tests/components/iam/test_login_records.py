"""Login records go a week after they were made."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.conftest import ClusterProcess
from tests.embedded.controllers.batch_support import eventually_async, in_process

from atoll.components.iam.crds import CRDS
from atoll.components.iam.logins import LoginRecordController


def _names(cluster: ClusterProcess) -> set[str]:
    out = cluster.kubectl("get", "loginrecords.iam.atoll.io", "-o", "json")
    return {item["metadata"]["name"] for item in json.loads(out)["items"]}


async def test_records_are_removed_after_a_week(cluster: ClusterProcess) -> None:
    crd = next(c for c in CRDS if c["spec"]["names"]["kind"] == "LoginRecord")
    cluster.kubectl("apply", "-f", "-", input=json.dumps(crd))
    cluster.kubectl("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}")
    record = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "LoginRecord",
        "metadata": {"name": "old-login", "labels": {"iam.atoll.io/user": "someone"}},
        "spec": {"type": "Token", "provider": "password", "success": True},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(record))
    async with in_process(cluster, [lambda clock: LoginRecordController()]) as clock:
        clock.advance(timedelta(days=6).total_seconds())
        assert "old-login" in _names(cluster)
        clock.advance(timedelta(days=1, minutes=1).total_seconds())
        await eventually_async(lambda: "old-login" not in _names(cluster), nudge=clock)

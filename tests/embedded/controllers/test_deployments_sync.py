"""DeploymentSync's writes (deployments_sync), on a fake client: one status write per reconcile,
the revision annotation in it, as upstream's ``getNewReplicaSet`` does with ``UpdateStatus``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from atoll.controllers import ManualClock, WorkQueue
from atoll.controllers.runtime import ControllerContext, ControllerSettings
from atoll.embedded.controllers.deployments_sync import DeploymentSync
from atoll.kube.client import ResourceType
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory

REVISION = "deployment.kubernetes.io/revision"


class _StatusClient:
    """Keeps what the status subresource of a Deployment is sent; refuses anything else."""

    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []

    async def replace_status(self, rt: ResourceType, obj: Mapping[str, Any], **_: Any) -> Any:
        assert rt.kind == "Deployment"
        self.written.append(dict(obj))
        meta = {**obj["metadata"], "resourceVersion": str(8 + len(self.written))}
        return {**obj, "metadata": meta}

    async def patch(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the revision goes with the status write, not in a patch")


def _sync(client: _StatusClient) -> DeploymentSync:
    clock = ManualClock()
    ctx = ControllerContext(
        name="deployment",
        client=client,  # type: ignore[arg-type]
        informers=InformerFactory(client),  # type: ignore[arg-type]
        queue=WorkQueue("deployment", clock=clock),
        events=EventRecorder(client, "deployment-controller"),  # type: ignore[arg-type]
        clock=clock,
        settings=ControllerSettings(),
        logger=logging.getLogger("test"),
    )
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "uid": "u-1", "resourceVersion": "8"},
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 1},
    }
    return DeploymentSync.start(ctx, deployment, [], lambda key: None)


async def test_the_revision_annotation_is_written_with_the_status() -> None:
    client = _StatusClient()
    sync = _sync(client)
    sync.write_revision("1")
    sync.set_status({"observedGeneration": 1, "replicas": 1})
    assert await sync.flush_status()
    [written] = client.written
    assert written["metadata"]["annotations"] == {REVISION: "1"}
    assert written["status"] == {"observedGeneration": 1, "replicas": 1}
    assert sync.deployment["metadata"]["resourceVersion"] == "9"
    assert not await sync.flush_status(), "nothing left to write"


async def test_a_new_revision_alone_is_written_through_status() -> None:
    client = _StatusClient()
    sync = _sync(client)
    sync.write_revision("2")
    assert await sync.flush_status()
    [written] = client.written
    assert written["metadata"]["annotations"] == {REVISION: "2"}
    sync.write_revision("2")
    assert not await sync.flush_status(), "the same revision again writes nothing"

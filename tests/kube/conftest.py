"""Fixtures for the client-layer tests: a ``KubeClient`` on the worker's embedded cluster."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from tests.conftest import ClusterProcess

from atoll.kube.client import KubeClient
from atoll.kube.kubeconfig import ClusterConfig

Until = Callable[[Callable[[], bool]], Awaitable[None]]


async def _until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``predicate`` (yielding to the loop) until it holds; fail after ``timeout`` s."""
    give_up = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > give_up:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.01)


@pytest.fixture
def until() -> Until:
    return _until


@pytest.fixture
async def kube(cluster: ClusterProcess) -> AsyncIterator[KubeClient]:
    async with KubeClient(ClusterConfig.from_kubeconfig(cluster.kubeconfig)) as client:
        yield client

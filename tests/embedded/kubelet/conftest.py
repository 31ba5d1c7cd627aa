"""Kubelet tests run against a cluster whose kubelet is on: pods really run here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import ClusterProcess, start_cluster
from tests.embedded.kubelet.image_support import registry, static_image

__all__ = ["cluster", "registry", "static_image"]  # fixtures, for every kubelet test


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir = tmp_path_factory.mktemp("kubelet-cluster") / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir, "--kubelet", "on")
    yield proc
    if proc.process.poll() is None:
        proc.stop()

"""API-server tests run against a cluster whose workload controllers are off.

They check the API's own semantics (read-modify-write cycles, tables, watches), which the
scheduler, HPA or PDB controllers would race by updating the same objects — as they would
on a real cluster. Namespace deletion and garbage collection stay on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import ClusterProcess, start_cluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir = tmp_path_factory.mktemp("apiserver-cluster") / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir, "--controllers", "namespace,garbagecollector")
    yield proc
    if proc.process.poll() is None:
        proc.stop()

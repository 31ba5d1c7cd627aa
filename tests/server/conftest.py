"""One ``atoll up`` per test module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.server.atoll_process import Atoll, start_atoll


@pytest.fixture(scope="module")
def atoll(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Atoll]:
    found = start_atoll(tmp_path_factory.mktemp("atoll-up") / "data")
    yield found
    found.stop()

"""An audit trail in a temporary directory, closed after its test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atoll.components.auditing import AuditTrail


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[AuditTrail]:
    with AuditTrail(tmp_path / "audit") as opened:
        yield opened

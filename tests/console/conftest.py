"""One ``atoll up`` serving the built console, and one Chromium, per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from tests.server.atoll_process import Atoll, start_atoll

from .browser import CHROMIUM, ROOT
from .isolation import isolated_chromium


@pytest.fixture(scope="module")
def atoll(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Atoll]:
    dist = ROOT / "console" / "dist" / "index.html"
    assert dist.exists(), "the console is not built: run make setup"
    found = start_atoll(tmp_path_factory.mktemp("atoll-console") / "data")
    yield found
    found.stop()


@pytest.fixture(scope="module")
def browser(atoll: Atoll) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed: run make setup"
    with isolated_chromium(CHROMIUM, [atoll.url]) as launcher, sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=launcher, args=["--no-sandbox"])
        yield launched
        launched.close()

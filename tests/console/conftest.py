"""One ``atoll up`` serving the built console, and one Chromium, per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright
from tests.server.atoll_process import Atoll, start_atoll

from .browser import CHROMIUM, ROOT
from .isolation import isolated_chromium

# An expectation waits for its condition and returns as soon as it holds; Playwright's default
# of 5 s is short for a loaded CI machine (a lazily loaded page, a rollout's next pod), as the
# actions' own 30 s default (browser.new_page) already allows.
expect.set_options(timeout=20_000)


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

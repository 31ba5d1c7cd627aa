"""Driving the console in Debian's Chromium (``/usr/bin/chromium``) through Playwright.

Never a downloaded browser: Playwright's own builds are not used, only its driver. Pages are
English unless a test switches language; screenshots of the main pages, light and dark, go
to ``results/console/`` (kept by CI as artifacts, ignored by git).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

__all__ = ["CHROMIUM", "SHOTS", "axe_violations", "log_in", "screenshots"]

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "results" / "console"
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"


def new_page(browser: Browser, url: str) -> Page:
    # Reduced motion: PatternFly's colour transitions would otherwise be caught half-way by
    # screenshots and by axe's contrast check.
    context = browser.new_context(
        base_url=url,
        viewport={"width": 1400, "height": 900},
        locale="en-US",
        reduced_motion="reduce",
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    # What the page says to its console shows in a failing test's output.
    page.on("console", lambda message: print(f"console {message.type}: {message.text}"))
    page.on("pageerror", lambda error: print(f"page error: {error}"))
    return page


def log_in(page: Page, user: str, password: str) -> None:
    """Through the log-in page, as a person would."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"), timeout=30_000)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("[data-testid=login-submit]")
    expect(page).not_to_have_url(re.compile(r"/login"))


def set_theme(page: Page, theme: str) -> None:
    page.evaluate(
        """(theme) => {
            localStorage.setItem('atoll.theme', theme);
            document.documentElement.classList.toggle('pf-v6-theme-dark', theme === 'dark');
        }""",
        theme,
    )


def screenshots(page: Page, name: str) -> None:
    """The page as it is now, light and dark, then back to light."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        set_theme(page, theme)
        page.screenshot(
            path=str(SHOTS / f"{name}-{theme}.png"), full_page=True, animations="disabled"
        )
    set_theme(page, "light")


def axe_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ['violations'] });
            return result.violations
              .filter((v) => v.impact === 'serious' || v.impact === 'critical')
              .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3)
                .map((n) => n.target.join(' ')).join('; ')}`);
        }"""
    )
    return [str(x) for x in found]

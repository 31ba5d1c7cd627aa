"""The console in headless Chromium: what the first page costs, how fast a 20,000-pod list
shows, how fast a status change reaches an open list, and how smoothly a long page scrolls.

Targets (issue 8): the JavaScript of the first page at most 400 KB gzipped; in a project with
20,000 pods the pod list's first page shown at most 1.5 s after navigation (Rancher takes
about 19 s at that size); a pod's status change visible in an open list within 1 s.

Fixture: ``sizes.console_pods`` pods (20,000; 2,000 quick) in one namespace of a cluster of
their own, kubelet and scheduler off, each ``objects.pod`` with a Running status; ``atoll up
--kubeconfig`` beside it serves the built console (``console/dist``, made by ``make setup``).
Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright; the session's tokens are
put in localStorage before each page loads, as a logged-in user's tab has them.

Figures and their baselines, all measured in this run:
- *First-page JavaScript*: the gzipped size (the ``.gz`` the server sends) of every script
  the log-in page loads; baseline: every script of the build, as one bundle would ship it.
- *Pod list*: from navigation start (``performance.now()`` 0) to the first row in the DOM,
  for ``console_runs`` fresh tabs after one warm-up (the server's cache filled); baseline: the
  same tab fetching and parsing the namespace's whole pod list from the Kubernetes API
  through Atoll, what a console without server paging must do before it can draw a row.
- *Status change*: a pod on the open list's first page is patched (status Running ↔ Error);
  the time from the PATCH until the row shows the new word; baseline: the same change seen by
  a watch on the cluster's own API (the floor: no console can show it sooner).
- *Scrolling*: a 500-row page scrolled top to bottom in 2 s (about four rows a frame), five
  times; the median over the passes of the 95th percentile of frame intervals, and of the
  mean interval, and how many rows are in the DOM (virtualized) against the 500 shown; baseline:
  the frame intervals of the same page at rest (how often this headless browser paints).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from playwright.async_api import Browser, Page, async_playwright

from .atoll_up import Atoll, atoll_up, login
from .client import MERGE_PATCH, RequestFailed, open_session, run_workers, send
from .context import Context
from .objects import namespace, pod, pod_status
from .results import Row
from .server import ServerProcess, serving

__all__ = ["run"]

NAMESPACE = "bench-console"
TARGET_JS_KB = 400.0
TARGET_FIRST_PAGE_S = 1.5
TARGET_STATUS_S = 1.0
CHROMIUM = "/usr/bin/chromium"
DIST = Path(__file__).resolve().parents[1] / "console" / "dist"
_TIMEOUT_MS = 120_000
_SCROLL_PASSES = 5

# Records, in the page, when the first list row appears and when a row's status word changes.
_OBSERVER = """
(() => {
  window.__atoll = { firstRow: null, changes: [] };
  const watch = () => {
    new MutationObserver(() => {
      if (window.__atoll.firstRow === null && document.querySelector('[data-row]')) {
        window.__atoll.firstRow = performance.now();
      }
      const target = window.__atoll.target;
      if (target) {
        const cell = document.querySelector(`[data-row="${target.name}"] [data-status]`);
        const word = cell && cell.getAttribute('data-status');
        if (word && word !== target.word) {
          window.__atoll.changes.push({ word, at: Date.now() });
          target.word = word;
        }
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', watch);
  else watch();
})();
"""


async def _fill(cluster: ServerProcess, pods: int) -> float:
    started = time.perf_counter()
    async with open_session(cluster) as session:
        await send(session, "POST", "/api/v1/namespaces", orjson.dumps(namespace(NAMESPACE)))
        base = f"/api/v1/namespaces/{NAMESPACE}/pods"

        async def create(index: int) -> None:
            name = f"pod-{index:06d}"
            await send(session, "POST", base, orjson.dumps(pod(name, index=index)))
            status = orjson.dumps(pod_status(index=index))
            await send(session, "PATCH", f"{base}/{name}/status", status, MERGE_PATCH)

        await run_workers(range(pods), create)
    return time.perf_counter() - started


def _gzipped(url: str) -> int:
    """The size of the .gz the server sends for a script of the build."""
    name = url.split("?")[0].split("/assets/", 1)[-1]
    found = DIST / "assets" / f"{name}.gz"
    return found.stat().st_size if found.exists() else (DIST / "assets" / name).stat().st_size


async def _first_page_js(browser: Browser, atoll: Atoll) -> tuple[int, int, int]:
    """(gzipped bytes of the log-in page's scripts, their count, all scripts gzipped)."""
    page = await browser.new_page()
    scripts: set[str] = set()
    page.on("response", lambda r: scripts.add(r.url) if r.url.endswith(".js") else None)
    await page.goto(f"{atoll.url}/login", wait_until="networkidle")
    await page.wait_for_selector("#username")
    await page.close()
    loaded = sum(_gzipped(url) for url in scripts)
    every = sum(_gzipped(path.name) for path in (DIST / "assets").glob("*.js"))
    return loaded, len(scripts), every


async def _signed_in_page(browser: Browser, tokens: dict[str, Any]) -> Page:
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    session = orjson.dumps(
        {
            "accessToken": tokens["access_token"],
            "refreshToken": tokens["refresh_token"],
            "expiresAt": int(time.time() * 1000) + 3_600_000,
        }
    ).decode()
    await page.add_init_script(f"localStorage.setItem('atoll.session', {session!r});")
    await page.add_init_script(_OBSERVER)
    return page


async def _first_rows(
    browser: Browser, atoll: Atoll, tokens: dict[str, Any], runs: int
) -> list[float]:
    """Seconds from navigation start to the first row of the pod list, fresh tabs."""
    url = f"{atoll.url}/clusters/host/projects/{NAMESPACE}/pods"
    times = []
    for run in range(runs + 1):
        page = await _signed_in_page(browser, tokens)
        await page.goto(url)
        await page.wait_for_selector("[data-row]", timeout=_TIMEOUT_MS)
        first = await page.evaluate("window.__atoll.firstRow")
        await page.close()
        if run > 0:  # the first one filled the server's cache
            times.append(float(first) / 1000)
    return times


async def _whole_list(
    browser: Browser, atoll: Atoll, tokens: dict[str, Any], runs: int
) -> list[float]:
    """Seconds for the tab to fetch and parse every pod of the namespace (the baseline)."""
    page = await _signed_in_page(browser, tokens)
    await page.goto(f"{atoll.url}/")
    script = """async ([path, token]) => {
      const started = performance.now();
      const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
      const list = await response.json();
      return [performance.now() - started, list.items.length];
    }"""
    path = f"/clusters/host/api/v1/namespaces/{NAMESPACE}/pods"
    times = []
    for _ in range(runs):
        took, count = await page.evaluate(script, [path, tokens["access_token"]])
        if not count:
            raise RequestFailed("the whole-list baseline listed no pods")
        times.append(float(took) / 1000)
    await page.close()
    return times


async def _status_changes(
    browser: Browser, atoll: Atoll, cluster: ServerProcess, tokens: dict[str, Any], changes: int
) -> tuple[list[float], list[float]]:
    """(seconds until the open list shows each change, seconds until a raw watch saw it)."""
    page = await _signed_in_page(browser, tokens)
    await page.goto(f"{atoll.url}/clusters/host/projects/{NAMESPACE}/pods")
    await page.wait_for_selector("[data-row] [data-status]", timeout=_TIMEOUT_MS)
    name = await page.get_attribute("[data-row]", "data-row")
    word = await page.get_attribute(f'[data-row="{name}"] [data-status]', "data-status")
    await page.evaluate(
        "([name, word]) => { window.__atoll.target = { name, word }; }", [name, word]
    )
    shown: list[float] = []
    floor: list[float] = []
    path = f"/api/v1/namespaces/{NAMESPACE}/pods/{name}/status"
    async with open_session(cluster) as session:
        seen: asyncio.Queue[float] = asyncio.Queue()
        watcher = asyncio.create_task(_watch(session, str(name), seen))
        await asyncio.sleep(0.5)  # the watch is open before the first change
        for index in range(changes):
            failed = index % 2 == 0
            status = _failed_status() if failed else pod_status(index=0)
            sent = time.time()
            await send(session, "PATCH", path, orjson.dumps(status), MERGE_PATCH)
            floor.append(await asyncio.wait_for(seen.get(), 30) - sent)
            await page.wait_for_function(f"window.__atoll.changes.length > {index}", timeout=30_000)
            at = await page.evaluate(f"window.__atoll.changes[{index}].at")
            shown.append(float(at) / 1000 - sent)
        watcher.cancel()
    await page.close()
    return shown, floor


def _failed_status() -> dict[str, Any]:
    terminated = {"exitCode": 137, "reason": "Error"}
    return {
        "status": {
            "phase": "Failed",
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 1,
                    "image": "x",
                    "imageID": "",
                    "state": {"terminated": terminated},
                }
            ],
        }
    }


async def _watch(session: aiohttp.ClientSession, name: str, seen: asyncio.Queue[float]) -> None:
    path = f"/api/v1/namespaces/{NAMESPACE}/pods?watch=1&fieldSelector=metadata.name%3D{name}"
    async with session.get(path, timeout=aiohttp.ClientTimeout(total=None)) as resp:
        first = True
        async for _line in resp.content:
            if first:  # the ADDED of the current state
                first = False
                continue
            seen.put_nowait(time.time())


async def _scrolling(
    browser: Browser, atoll: Atoll, tokens: dict[str, Any]
) -> tuple[list[float], list[float], float, int, int]:
    """While scrolling a 500-row page, pass by pass: the p95 frame interval and the mean one
    (ms); the p95 of the page at rest; the most rows in the DOM; the rows shown."""
    page = await _signed_in_page(browser, tokens)
    await page.goto(f"{atoll.url}/clusters/host/projects/{NAMESPACE}/pods?limit=500")
    await page.wait_for_selector("[data-row]", timeout=_TIMEOUT_MS)
    script = """async (passes) => {
      const box = document.querySelector('[data-testid="resource-table"]');
      const p95 = (frames) => [...frames].sort((a, b) => a - b)[Math.floor(frames.length * 0.95)];
      const mean = (frames) => frames.reduce((a, b) => a + b, 0) / frames.length;
      // The same page at rest, a second: how often this browser paints at all.
      const still = [];
      await new Promise((done) => {
        let before = performance.now();
        const begun = before;
        const tick = (now) => {
          still.push(now - before);
          before = now;
          if (now - begun < 1000) requestAnimationFrame(tick);
          else done();
        };
        requestAnimationFrame(tick);
      });
      const peaks = [], means = [];
      let rows = 0;
      for (let pass = 0; pass < passes; pass++) {
        box.scrollTop = 0;
        await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
        const frames = [];
        let last = performance.now();
        const started = last;
        await new Promise((done) => {
          const step = (now) => {
            frames.push(now - last);
            last = now;
            const part = Math.min(1, (now - started) / 2000);
            box.scrollTop = part * (box.scrollHeight - box.clientHeight);
            rows = Math.max(rows, box.querySelectorAll('[data-row]').length);
            if (part < 1) requestAnimationFrame(step); else done();
          };
          requestAnimationFrame(step);
        });
        peaks.push(p95(frames));
        means.push(mean(frames));
      }
      return [peaks, means, p95(still), rows];
    }"""
    peaks, means, still, rows = await page.evaluate(script, _SCROLL_PASSES)
    await page.close()
    return [float(x) for x in peaks], [float(x) for x in means], float(still), int(rows), 500


async def run(ctx: Context) -> list[Row]:
    if not (DIST / "index.html").exists():
        raise RequestFailed("the console is not built: run make setup")
    pods = ctx.sizes.console_pods
    with serving(
        ctx.scratch / "console-cluster", controllers="*,-scheduler", kubelet=False
    ) as cluster:
        fill = await _fill(cluster, pods)
        print(f"console: {pods:,} pods in {NAMESPACE} stored in {fill:.0f} s")
        with atoll_up(cluster.data_dir / "kubeconfig", ctx.scratch / "console-atoll") as atoll:
            async with aiohttp.ClientSession(trust_env=False) as session:
                tokens = await login(session, atoll.url)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox"]
                )
                try:
                    js, scripts, every = await _first_page_js(browser, atoll)
                    first = await _first_rows(browser, atoll, tokens, ctx.sizes.console_runs)
                    whole = await _whole_list(browser, atoll, tokens, ctx.sizes.console_runs)
                    shown, floor = await _status_changes(
                        browser, atoll, cluster, tokens, ctx.sizes.status_changes
                    )
                    scrolled = await _scrolling(browser, atoll, tokens)
                finally:
                    await browser.close()
    return _report(pods, js, scripts, every, first, whole, shown, floor, scrolled)


def _report(
    pods: int,
    js: int,
    scripts: int,
    every: int,
    first: list[float],
    whole: list[float],
    shown: list[float],
    floor: list[float],
    scrolled: tuple[list[float], list[float], float, int, int],
) -> list[Row]:
    kb, every_kb = js / 1024, every / 1024
    peaks, means, still, rows, page_rows = scrolled
    frame, mean = statistics.median(peaks), statistics.median(means)
    f50, w50 = statistics.median(first), statistics.median(whole)
    s50, s_max, floor50 = statistics.median(shown), max(shown), statistics.median(floor)
    print(
        f"  first page (log-in): {scripts} scripts, {kb:.0f} KB gzipped; "
        f"the whole build {every_kb:.0f} KB"
    )
    print(
        f"  pod list of {pods:,}: first row after {', '.join(f'{t:.2f}' for t in first)} s "
        f"(p50 {f50:.2f}); the whole list fetched and parsed in the tab p50 {w50:.2f} s"
    )
    print(
        f"  status change visible after {', '.join(f'{t * 1000:.0f}' for t in shown)} ms; "
        f"a raw watch saw it after p50 {floor50 * 1000:.0f} ms"
    )
    print(
        f"  scrolling {page_rows} rows, {len(peaks)} passes: p95 frame "
        f"{', '.join(f'{x:.1f}' for x in peaks)} ms, mean frame "
        f"{', '.join(f'{x:.1f}' for x in means)} ms (at rest p95 {still:.1f} ms), "
        f"at most {rows} rows in the DOM"
    )
    return [
        Row(
            "Console first-page JavaScript (gzipped)",
            f"{kb:.0f} KB in {scripts} scripts",
            f"≤ {TARGET_JS_KB:.0f} KB",
            kb <= TARGET_JS_KB,
            f"whole build {every_kb:.0f} KB",
            f"{kb / every_kb:.2f}×",
        ),
        Row(
            f"Pod list first page ({pods:,} pods in the project)",
            f"p50 {f50:.2f} s, max {max(first):.2f} s",
            f"≤ {TARGET_FIRST_PAGE_S} s",
            max(first) <= TARGET_FIRST_PAGE_S,
            f"fetch + parse the whole list p50 {w50:.2f} s",
            f"{w50 / f50:.1f}× sooner",
        ),
        Row(
            "Pod status change shown in an open list",
            f"p50 {s50 * 1000:.0f} ms, max {s_max * 1000:.0f} ms",
            f"≤ {TARGET_STATUS_S * 1000:.0f} ms",
            s_max <= TARGET_STATUS_S,
            f"raw watch on the cluster p50 {floor50 * 1000:.0f} ms",
            f"{s50 / floor50:.1f}×",
        ),
        Row(
            f"Scrolling a {page_rows}-row page",
            f"p95 frame {frame:.1f} ms, mean {mean:.1f} ms; {rows} of {page_rows} rows in the DOM",
            "smooth (virtualized)",
            None,
            f"the page at rest p95 frame {still:.1f} ms",
            f"{frame / still:.1f}×",
        ),
    ]

"""Startup, liveness and readiness probes: exec, httpGet and tcpSocket, as the kubelet runs them.

``check`` runs one probe once and says whether it passed, with the kubelet's message on
failure. ``Prober`` runs a container's probes on their schedules (initialDelaySeconds,
periodSeconds, timeoutSeconds, successThreshold, failureThreshold; defaults 0/10/1/1/3):
the startup probe first, until it succeeds (liveness and readiness wait for it); readiness
sets ready; liveness, after failureThreshold failures in a row, asks for a restart. Every
failure is reported (the kubelet's ``Unhealthy`` Warning event).

HTTP probes use aiohttp without TLS verification, as the kubelet does; a status from 200
to 399 is a success. A probe's host defaults to the pod IP.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from .runtime import Container

__all__ = ["ProbeKind", "Prober", "check"]

Object = dict[str, Any]
ProbeKind = Literal["startup", "liveness", "readiness"]


def _port(value: Any, ports: Mapping[str, int]) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, str) and value in ports:
        return ports[value]
    raise ValueError(f"port {value!r} is neither a number nor a named container port")


async def check(
    probe: Mapping[str, Any],
    container: Container,
    *,
    host: str,
    ports: Mapping[str, int],
    session: aiohttp.ClientSession,
) -> tuple[bool, str]:
    """Run ``probe`` once: (passed, message)."""
    timeout = float(probe.get("timeoutSeconds") or 1)
    try:
        if "exec" in probe:
            command = list((probe["exec"] or {}).get("command") or [])
            code, output = await container.exec(command, timeout=timeout)
            text = output.decode("utf-8", "replace").strip()
            return code == 0, text or f"command {command!r} exited with {code}"
        if "httpGet" in probe:
            get = probe["httpGet"]
            scheme = str(get.get("scheme") or "HTTP").lower()
            target = get.get("host") or host
            path = get.get("path") or "/"
            if not path.startswith("/"):
                path = "/" + path
            url = f"{scheme}://{target}:{_port(get.get('port'), ports)}{path}"
            headers = {h["name"]: h["value"] for h in get.get("httpHeaders") or []}
            headers.setdefault("User-Agent", "kube-probe/1.20")
            async with session.get(
                url,
                headers=headers,
                ssl=False,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                if 200 <= response.status < 400:
                    return True, ""
                return False, f"HTTP probe failed with statuscode: {response.status}"
        if "tcpSocket" in probe:
            socket = probe["tcpSocket"]
            port = _port(socket.get("port"), ports)
            target = socket.get("host") or host
            _, writer = await asyncio.wait_for(asyncio.open_connection(target, port), timeout)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True, ""
    except TimeoutError:
        return False, f"probe timed out after {timeout:g}s"
    except (OSError, aiohttp.ClientError, ValueError) as error:
        return False, str(error) or type(error).__name__
    return False, "probe has no handler (exec, httpGet or tcpSocket)"


@dataclass
class _Schedule:
    probe: Object

    @property
    def delay(self) -> float:
        return float(self.probe.get("initialDelaySeconds") or 0)

    @property
    def period(self) -> float:
        return float(self.probe.get("periodSeconds") or 10)

    @property
    def successes(self) -> int:
        return int(self.probe.get("successThreshold") or 1)

    @property
    def failures(self) -> int:
        return int(self.probe.get("failureThreshold") or 3)


class Prober:
    """Runs one container's probes until cancelled; see the module doc."""

    def __init__(
        self,
        spec: Object,
        container: Container,
        *,
        host: str,
        session: aiohttp.ClientSession,
        on_started: Callable[[], None],
        on_ready: Callable[[bool], None],
        on_unhealthy: Callable[[ProbeKind, str], Awaitable[None]],
        on_restart: Callable[[str], Awaitable[None]],
    ) -> None:
        self._spec = spec
        self._container = container
        self._host = host
        self._session = session
        self._on_started, self._on_ready = on_started, on_ready
        self._on_unhealthy, self._on_restart = on_unhealthy, on_restart
        self._ports = {
            p["name"]: int(p["containerPort"]) for p in spec.get("ports") or [] if p.get("name")
        }

    async def _check(self, probe: Object) -> tuple[bool, str]:
        return await check(
            probe, self._container, host=self._host, ports=self._ports, session=self._session
        )

    async def run(self) -> None:
        startup = self._spec.get("startupProbe")
        if startup and not await self._startup(_Schedule(startup)):
            return
        self._on_started()
        readiness, liveness = self._spec.get("readinessProbe"), self._spec.get("livenessProbe")
        if not readiness:
            self._on_ready(True)
        async with asyncio.TaskGroup() as group:
            if readiness:
                group.create_task(self._readiness(_Schedule(readiness)))
            if liveness:
                group.create_task(self._liveness(_Schedule(liveness)))

    async def _startup(self, schedule: _Schedule) -> bool:
        await asyncio.sleep(schedule.delay)  # the probe's schedule, not a synchronisation
        failed = 0
        while True:
            passed, message = await self._check(schedule.probe)
            if passed:
                return True
            failed += 1
            await self._on_unhealthy("startup", message)
            if failed >= schedule.failures:
                await self._on_restart("failed startup probe")
                return False
            await asyncio.sleep(schedule.period)

    async def _readiness(self, schedule: _Schedule) -> None:
        await asyncio.sleep(schedule.delay)
        passed_in_row, failed_in_row, ready = 0, 0, False
        while True:
            passed, message = await self._check(schedule.probe)
            if passed:
                passed_in_row, failed_in_row = passed_in_row + 1, 0
                if not ready and passed_in_row >= schedule.successes:
                    ready = True
                    self._on_ready(True)
            else:
                passed_in_row, failed_in_row = 0, failed_in_row + 1
                await self._on_unhealthy("readiness", message)
                if ready and failed_in_row >= schedule.failures:
                    ready = False
                    self._on_ready(False)
            # Until first ready, probe quickly so a pod does not wait a whole period.
            await asyncio.sleep(schedule.period if ready or schedule.period <= 1 else 1.0)

    async def _liveness(self, schedule: _Schedule) -> None:
        await asyncio.sleep(schedule.delay)
        failed = 0
        while True:
            passed, message = await self._check(schedule.probe)
            if passed:
                failed = 0
            else:
                failed += 1
                await self._on_unhealthy("liveness", message)
                if failed >= schedule.failures:
                    await self._on_restart("failed liveness probe")
                    return
            await asyncio.sleep(schedule.period)

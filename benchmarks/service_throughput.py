"""HTTP throughput through a Service's ClusterIP against the same client talking to the pod.

Target (issue 5): through the Service at least half of talking to the pod directly, with
1 KiB HTTP responses, measured side by side.

The server is one of its own, ``--kubelet on`` and every controller (pods in their own
network namespaces when run as root). A pod answers every request with a 1 KiB body,
keep-alive, behind a selector Service — twice: a bare asyncio server (the proxy's worst
case: the server costs next to nothing, so the relay's cost shows whole) and uvicorn (a
real Python web stack). The client (this process) keeps ``CONNECTIONS`` keep-alive
connections busy for a few seconds and counts answers: first to the pod's own address (the
baseline), then to the ClusterIP (through the userspace Service proxy), then both again,
and takes each path's better run — so a burst of other load does not decide the ratio.
"""

from __future__ import annotations

import asyncio
import sys
import time

import orjson

from .client import RequestFailed, post_json
from .context import Context
from .host_pods import KubeletCluster, delete_all, host_pod, kubelet_cluster, processes_gone
from .log_follow import PYTHON
from .results import Row

__all__ = ["run"]

NAMESPACE = "bench-service"
POD = "http-1k"
PORT = 8000
CONNECTIONS = 8
TARGET_RATIO = 0.5
_TIMEOUT = 60.0
BODY = 1024
SERVER = f"""\
import asyncio
RESPONSE = (b"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: {BODY}\\r\\n\\r\\n"
            + b"x" * {BODY})
class Serve(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while (end := self.buffer.find(b"\\r\\n\\r\\n")) >= 0:
            self.buffer = self.buffer[end + 4:]
            self.transport.write(RESPONSE)
async def main():
    server = await asyncio.get_running_loop().create_server(Serve, "0.0.0.0", {PORT})
    await server.serve_forever()
asyncio.run(main())
"""
# The same answer from a real Python web stack (uvicorn with httptools and uvloop, one worker
# of an ASGI app), run by this benchmark's interpreter, which has them installed.
UVICORN_SERVER = f"""\
import uvicorn
BODY = b"x" * {BODY}
async def app(scope, receive, send):
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", b"{BODY}")]}})
    await send({{"type": "http.response.body", "body": BODY}})
uvicorn.run(app, host="0.0.0.0", port={PORT}, log_level="warning", access_log=False,
            http="httptools", loop="uvloop", lifespan="off")
"""
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


async def _client(host: str, port: int, until: float) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    answered = 0
    try:
        while time.monotonic() < until:
            writer.write(REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            await reader.readexactly(length)
            answered += 1
    finally:
        writer.close()
        await writer.wait_closed()
    return answered


async def _rate(host: str, port: int, seconds: float) -> float:
    started = time.monotonic()
    until = started + seconds
    counts = await asyncio.gather(*(_client(host, port, until) for _ in range(CONNECTIONS)))
    return sum(counts) / (time.monotonic() - started)


async def _reachable(host: str, port: int) -> None:
    deadline = time.monotonic() + _TIMEOUT
    while True:
        try:
            await _client(host, port, time.monotonic() + 0.05)
            return
        except (OSError, asyncio.IncompleteReadError) as error:
            if time.monotonic() > deadline:
                raise RequestFailed(f"{host}:{port} never answered: {error}") from None
            await asyncio.sleep(0.1)


async def _measure(
    cluster: KubeletCluster, name: str, command: list[str], seconds: float
) -> tuple[float, float, str]:
    """(through the ClusterIP, direct) requests per second, best of two runs each, and
    the pod's address."""
    pod = host_pod(name, command)
    pod["metadata"]["labels"] = {"app": name}
    await post_json(cluster.session, f"/api/v1/namespaces/{NAMESPACE}/pods", orjson.dumps(pod))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": PORT}]},
    }
    created = await post_json(
        cluster.session, f"/api/v1/namespaces/{NAMESPACE}/services", orjson.dumps(service)
    )
    cluster_ip = str(orjson.loads(created)["spec"]["clusterIP"])
    await cluster.pods.ready(name, timeout=_TIMEOUT)
    async with cluster.session.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}") as resp:
        pod_ip = str((await resp.json())["status"]["podIP"])
    await _reachable(pod_ip, PORT)
    await _reachable(cluster_ip, 80)
    direct = [await _rate(pod_ip, PORT, seconds)]
    proxied = [await _rate(cluster_ip, 80, seconds)]
    direct.append(await _rate(pod_ip, PORT, seconds))
    proxied.append(await _rate(cluster_ip, 80, seconds))
    async with cluster.session.delete(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}") as resp:
        await resp.read()
    return max(proxied), max(direct), pod_ip


async def run(ctx: Context) -> list[Row]:
    seconds = 3.0 if ctx.sizes.log_lines < 100 else 8.0
    rows = []
    async with kubelet_cluster(ctx.scratch / "service-cluster", NAMESPACE) as cluster:
        backends = [
            ("asyncio", "a bare asyncio server", [PYTHON, "-c", SERVER]),
            ("uvicorn", "uvicorn (httptools, uvloop)", [sys.executable, "-c", UVICORN_SERVER]),
        ]
        for name, what, command in backends:
            proxied, direct, pod_ip = await _measure(cluster, name, command, seconds)
            rows.append(_report(what, proxied, direct, pod_ip=pod_ip))
        await delete_all(cluster.session, NAMESPACE, cluster.pods, timeout=_TIMEOUT)
        await processes_gone(cluster.server, timeout=30.0)
    return rows


def _report(what: str, proxied: float, direct: float, *, pod_ip: str) -> Row:
    ratio = proxied / direct
    met = ratio >= TARGET_RATIO
    print(
        f"service throughput, {what} in the pod: {CONNECTIONS} keep-alive connections, 1 KiB "
        f"responses, through the ClusterIP (userspace proxy): {proxied:,.0f} req/s (target ≥ "
        f"{TARGET_RATIO:.0%} of direct: {'met' if met else 'missed'})"
    )
    print(
        f"  baseline, same run: the same client to the pod's address {pod_ip}: "
        f"{direct:,.0f} req/s; ratio {ratio:.2f}"
    )
    return Row(
        f"Service throughput, 1 KiB HTTP, {what}",
        f"{proxied:,.0f} req/s",
        f"≥ {TARGET_RATIO:.1f}× direct",
        met,
        f"{direct:,.0f} req/s to the pod",
        f"{ratio:.2f}",
    )

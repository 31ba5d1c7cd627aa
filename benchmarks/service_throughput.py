"""HTTP throughput through a Service's ClusterIP against the same client talking to the pod.

Target (issue 5): through the Service at least half of talking to the pod directly, with
1 KiB HTTP responses, measured side by side.

The server is one of its own, ``--kubelet on`` and every controller (pods in their own
network namespaces when run as root). One pod runs a small asyncio HTTP/1.1 server answering
every request with a 1 KiB body, keep-alive; a selector Service fronts it. The client (this
process) keeps ``CONNECTIONS`` keep-alive connections busy for ``SECONDS`` and counts
answers: first to the pod's own address (the baseline), then to the ClusterIP (through the
userspace Service proxy), then the pod again, and takes each path's better run — so a
burst of other load on the machine does not decide the ratio.
"""

from __future__ import annotations

import asyncio
import time

import orjson

from .client import RequestFailed, post_json
from .context import Context
from .host_pods import delete_all, host_pod, kubelet_cluster, processes_gone
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
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
RESPONSE_SIZE = (
    len(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n") + BODY
)


async def _client(host: str, port: int, until: float) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    answered = 0
    try:
        while time.monotonic() < until:
            writer.write(REQUEST)
            await reader.readexactly(RESPONSE_SIZE)
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


async def run(ctx: Context) -> list[Row]:
    seconds = 3.0 if ctx.sizes.log_lines < 100 else 8.0
    async with kubelet_cluster(ctx.scratch / "service-cluster", NAMESPACE) as cluster:
        pod = host_pod(POD, [PYTHON, "-c", SERVER])
        pod["metadata"]["labels"] = {"app": POD}
        await post_json(cluster.session, f"/api/v1/namespaces/{NAMESPACE}/pods", orjson.dumps(pod))
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": POD},
            "spec": {"selector": {"app": POD}, "ports": [{"port": 80, "targetPort": PORT}]},
        }
        created = await post_json(
            cluster.session, f"/api/v1/namespaces/{NAMESPACE}/services", orjson.dumps(service)
        )
        cluster_ip = str(orjson.loads(created)["spec"]["clusterIP"])
        await cluster.pods.ready(POD, timeout=_TIMEOUT)
        async with cluster.session.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{POD}") as resp:
            pod_ip = str((await resp.json())["status"]["podIP"])
        await _reachable(pod_ip, PORT)
        await _reachable(cluster_ip, 80)
        direct = [await _rate(pod_ip, PORT, seconds)]
        proxied = [await _rate(cluster_ip, 80, seconds)]
        direct.append(await _rate(pod_ip, PORT, seconds))
        proxied.append(await _rate(cluster_ip, 80, seconds))
        await delete_all(cluster.session, NAMESPACE, cluster.pods, timeout=_TIMEOUT)
        await processes_gone(cluster.server, timeout=30.0)
    return [_report(max(proxied), max(direct), pod_ip=pod_ip)]


def _report(proxied: float, direct: float, *, pod_ip: str) -> Row:
    ratio = proxied / direct
    met = ratio >= TARGET_RATIO
    print(
        f"service throughput: {CONNECTIONS} keep-alive connections, 1 KiB responses, through "
        f"the ClusterIP (userspace proxy): {proxied:,.0f} req/s (target ≥ "
        f"{TARGET_RATIO:.0%} of direct: {'met' if met else 'missed'})"
    )
    print(
        f"  baseline, same run: the same client to the pod's address {pod_ip}: "
        f"{direct:,.0f} req/s; ratio {ratio:.2f}"
    )
    return Row(
        "Service throughput (1 KiB HTTP, 8 connections)",
        f"{proxied:,.0f} req/s",
        f"≥ {TARGET_RATIO:.1f}× direct",
        met,
        f"{direct:,.0f} req/s to the pod",
        f"{ratio:.2f}",
    )

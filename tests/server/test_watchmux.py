"""The console's watch socket: many watches on one WebSocket, each authorized on its own.

Most tests talk to a real ``atoll up``; the last three drive ``WatchMux`` in-process with a
fake cluster, for what a real cluster will not do on demand (410 Expired) and what a real
client hides (a consumer that reads nothing; every watch of a closed socket ending).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import requests
from starlette.websockets import WebSocket
from tests.server.atoll_process import (
    USERS,
    Atoll,
    as_user,
    login,
    make_user,
    project,
    user_session,
    workspace,
)
from tests.waiting import eventually

from atoll.components.clusters.watchmux import PATH, PROTOCOL, Limits, WatchMux
from atoll.errors import Expired
from atoll.kube.client import ResourceType
from atoll.server.access import Decision, Pipeline, Principal, RequestInfo

LABELS = {"test": "watchmux"}
LABEL = "test=watchmux"
AUDIT_EVENTS = "/kapis/auditing.atoll.io/v1alpha1/events"
WAIT = 15.0  # seconds for a frame to come


class Frames:
    """One socket's frames, read with a deadline."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def subscribe(self, id_: str, resource: str, **fields: Any) -> None:
        await self.send(op="subscribe", id=id_, resource=resource, **fields)

    async def next(self, timeout: float = WAIT) -> dict[str, Any]:
        message = await self.ws.receive(timeout=timeout)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        frame = json.loads(message.data)
        assert isinstance(frame, dict)
        return frame

    async def until(self, id_: str | None, type_: str) -> list[dict[str, Any]]:
        """Every frame up to and including the first ``type_`` frame of ``id_``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        seen = []
        while True:
            seen.append(await self.next(max(0.01, deadline - loop.time())))
            if seen[-1]["id"] == id_ and seen[-1]["type"] == type_:
                return seen


def ws_url(atoll: Atoll) -> str:
    return atoll.url.replace("http://", "ws://", 1) + PATH


@asynccontextmanager
async def opened(atoll: Atoll, bearer: str) -> AsyncIterator[Frames]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ws_url(atoll), headers={"Authorization": f"Bearer {bearer}"}) as ws,
    ):
        yield Frames(ws)


def bearer_of(session: requests.Session) -> str:
    return str(session.headers["Authorization"]).removeprefix("Bearer ")


def namespace(atoll: Atoll, name: str) -> None:
    admin = as_user(login(atoll))
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    made = admin.post(f"{atoll.url}/api/v1/namespaces", json=body, timeout=10)
    assert made.status_code == 201, made.text


def configmaps(atoll: Atoll, ns: str) -> str:
    return f"{atoll.url}/api/v1/namespaces/{ns}/configmaps"


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": LABELS}}


def names(frames: list[dict[str, Any]], id_: str, type_: str) -> list[str]:
    return [
        f["object"]["metadata"]["name"] for f in frames if f["id"] == id_ and f["type"] == type_
    ]


async def test_subscriptions_list_then_follow_and_share_one_socket(atoll: Atoll) -> None:
    admin = as_user(login(atoll))
    namespace(atoll, "wm-live")
    assert admin.post(configmaps(atoll, "wm-live"), json=configmap("before"), timeout=10).ok
    async with opened(atoll, login(atoll)) as socket:
        await socket.subscribe("all", "configmaps", namespace="wm-live", labelSelector=LABEL)
        listed = await socket.until("all", "SUBSCRIBED")
        assert names(listed, "all", "ADDED") == ["before"]
        assert listed[0]["object"]["kind"] == "ConfigMap"
        await socket.subscribe(
            "named", "configmaps", version="v1", fieldSelector="metadata.name=after"
        )
        assert [f["type"] for f in await socket.until("named", "SUBSCRIBED")] == ["SUBSCRIBED"]

        made = admin.post(configmaps(atoll, "wm-live"), json=configmap("after"), timeout=10)
        assert made.status_code == 201, made.text
        frames = await socket.until("all", "ADDED")
        if not names(frames, "named", "ADDED"):
            frames += await socket.until("named", "ADDED")
        assert names(frames, "all", "ADDED") == names(frames, "named", "ADDED") == ["after"]

        patched = admin.patch(
            f"{configmaps(atoll, 'wm-live')}/after",
            json={"data": {"k": "v"}},
            headers={"Content-Type": "application/merge-patch+json"},
            timeout=10,
        )
        assert patched.status_code == 200, patched.text
        modified = (await socket.until("all", "MODIFIED"))[-1]["object"]
        assert modified["data"] == {"k": "v"}

        # Once the server has read an unsubscribe (it reads frames in order: the next
        # subscribe's answer shows it), nothing more comes for that id.
        await socket.send(op="unsubscribe", id="named")
        await socket.send(op="unsubscribe", id="never-was")  # ignored
        await socket.subscribe("barrier", "secrets", namespace="wm-live", labelSelector=LABEL)
        await socket.until("barrier", "SUBSCRIBED")
        assert admin.delete(f"{configmaps(atoll, 'wm-live')}/after", timeout=10).ok
        frames = await socket.until("all", "DELETED")
        assert names(frames, "all", "DELETED") == ["after"]
        assert not [f for f in frames if f["id"] == "named"]
        # An unsubscribed id may be used again.
        await socket.subscribe("named", "configmaps", namespace="wm-live", labelSelector=LABEL)
        assert names(await socket.until("named", "SUBSCRIBED"), "named", "ADDED") == ["before"]


async def test_a_user_watches_its_own_project_and_is_refused_elsewhere(atoll: Atoll) -> None:
    dev = user_session(atoll, "wm-dev")
    workspace(atoll, "wm-ws", manager="wm-dev")
    eventually(lambda: project(dev, atoll, "wm-ws", "wm-dev-web").status_code == 201)
    mine = configmaps(atoll, "wm-dev-web")
    eventually(lambda: dev.post(mine, json=configmap("mine"), timeout=10).status_code == 201)
    plain = dev.get(f"{configmaps(atoll, 'default')}?watch=1", timeout=10)
    assert plain.status_code == 403
    async with opened(atoll, bearer_of(dev)) as socket:
        await socket.subscribe("theirs", "configmaps", namespace="default")
        refused = await socket.next()
        assert refused == {"id": "theirs", "type": "ERROR", "status": plain.json()}
        await socket.subscribe("everywhere", "configmaps")
        refused = await socket.next()
        assert (refused["id"], refused["status"]["code"]) == ("everywhere", 403)
        await socket.subscribe("mine", "configmaps", namespace="wm-dev-web", labelSelector=LABEL)
        assert names(await socket.until("mine", "SUBSCRIBED"), "mine", "ADDED") == ["mine"]
    # Refused subscriptions are in the audit trail, as refused requests are.
    admin = as_user(login(atoll))
    query = {"user": "wm-dev", "verb": "watch", "code": "403"}

    def audited() -> list[dict[str, Any]]:
        answer = admin.get(f"{atoll.url}{AUDIT_EVENTS}", params=query, timeout=10)
        assert answer.status_code == 200, answer.text
        events = answer.json()["items"]
        return [e for e in events if e["resource"] == "configmaps" and not e["namespace"]]

    assert eventually(audited, what="the refused subscription everywhere audited")


async def test_users_are_watched_without_their_passwords(atoll: Atoll) -> None:
    async with opened(atoll, login(atoll)) as socket:
        await socket.subscribe("users", "users", group="iam.atoll.io")
        listed = await socket.until("users", "SUBSCRIBED")
        assert "admin" in names(listed, "users", "ADDED")
        assert make_user(atoll, "wm-secretive").status_code == 201
        frames = await socket.until("users", "ADDED")
        while names(frames, "users", "ADDED")[-1:] != ["wm-secretive"]:
            frames += await socket.until("users", "ADDED")
        for frame in listed + frames:
            if frame["type"] in ("ADDED", "MODIFIED"):
                assert "password" not in frame["object"].get("spec", {}), frame
    # And the User really has one, which the proxy hides as well.
    stored = json.loads(atoll.kubectl("get", "users.iam.atoll.io", "wm-secretive", "-o", "json"))
    assert stored["spec"]["password"].startswith("$argon2id$")
    got = as_user(login(atoll)).get(f"{atoll.url}{USERS}/wm-secretive", timeout=10).json()
    assert "password" not in got["spec"]


def status(frame: dict[str, Any]) -> tuple[Any, str, int]:
    assert frame["type"] == "ERROR", frame
    return frame["id"], frame["status"]["reason"], frame["status"]["code"]


async def test_bad_frames_are_refused_and_the_socket_stays_open(atoll: Atoll) -> None:
    async with opened(atoll, login(atoll)) as socket:
        await socket.ws.send_str("{not json")
        assert status(await socket.next()) == (None, "BadRequest", 400)
        await socket.ws.send_str("[1, 2]")
        assert status(await socket.next()) == (None, "BadRequest", 400)
        await socket.ws.send_bytes(b"{}")
        assert status(await socket.next()) == (None, "BadRequest", 400)
        await socket.send(op="watch", id="x")
        assert status(await socket.next()) == ("x", "BadRequest", 400)
        await socket.send(op="subscribe", id="no-resource")
        assert status(await socket.next()) == ("no-resource", "BadRequest", 400)
        await socket.subscribe("typo", "pods", labelselector="a=b")
        assert status(await socket.next()) == ("typo", "BadRequest", 400)
        await socket.subscribe("", "pods")
        assert status(await socket.next()) == ("", "BadRequest", 400)
        await socket.subscribe("scoped", "nodes", namespace="default")
        assert status(await socket.next()) == ("scoped", "BadRequest", 400)
        await socket.subscribe("nothing", "nothings", group="example.com")
        assert status(await socket.next()) == ("nothing", "NotFound", 404)
        await socket.subscribe("old", "deployments", group="apps", version="v1beta0")
        assert status(await socket.next()) == ("old", "NotFound", 404)
        await socket.subscribe("far", "pods", cluster="elsewhere")
        assert status(await socket.next()) == ("far", "NotFound", 404)
        await socket.subscribe("bad-selector", "pods", labelSelector="a in (")
        assert status(await socket.next()) == ("bad-selector", "BadRequest", 400)
        # A live id cannot be taken twice; the live subscription goes on.
        await socket.subscribe("ns", "namespaces", fieldSelector="metadata.name=default")
        assert names(await socket.until("ns", "SUBSCRIBED"), "ns", "ADDED") == ["default"]
        await socket.subscribe("ns", "pods")
        assert status(await socket.next()) == ("ns", "BadRequest", 400)
        await socket.send(op="unsubscribe", id="ns")
        await socket.subscribe("ns", "namespaces", fieldSelector="metadata.name=default")
        assert names(await socket.until("ns", "SUBSCRIBED"), "ns", "ADDED") == ["default"]


async def test_subscriptions_are_limited_and_closing_cancels_them(atoll: Atoll) -> None:
    bearer = login(atoll)
    async with opened(atoll, bearer) as socket:
        limit = Limits().subscriptions
        for i in range(limit):
            await socket.subscribe(f"s{i}", "configmaps", namespace="default", labelSelector=LABEL)
        await socket.subscribe("one-too-many", "pods")
        frames = await socket.until("one-too-many", "ERROR")
        assert status(frames[-1]) == ("one-too-many", "TooManyRequests", 429)
        while len(frames) < limit + 1:
            frames.append(await socket.next())
        others = {(f["id"], f["type"]) for f in frames if f["id"] != "one-too-many"}
        assert others == {(f"s{i}", "SUBSCRIBED") for i in range(limit)}
    # Closed: its watches are gone, and a new socket starts afresh.
    async with opened(atoll, bearer) as socket:
        await socket.subscribe("s0", "namespaces", fieldSelector="metadata.name=default")
        assert names(await socket.until("s0", "SUBSCRIBED"), "s0", "ADDED") == ["default"]


async def test_only_logged_in_users_open_the_socket(atoll: Atoll) -> None:
    bearer = login(atoll)
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url(atoll), headers=headers)
            assert refused.value.status == 401
        # Browsers give the token as a query parameter, or as a subprotocol.
        async with session.ws_connect(f"{ws_url(atoll)}?access_token={bearer}") as ws:
            await Frames(ws).subscribe("q", "namespaces", fieldSelector="metadata.name=default")
            await Frames(ws).until("q", "SUBSCRIBED")
        encoded = base64.urlsafe_b64encode(bearer.encode()).decode().rstrip("=")
        protocols = (f"base64url.bearer.authorization.k8s.io.{encoded}", PROTOCOL)
        async with session.ws_connect(ws_url(atoll), protocols=protocols) as ws:
            assert ws.protocol == PROTOCOL
            await Frames(ws).subscribe("p", "namespaces", fieldSelector="metadata.name=default")
            await Frames(ws).until("p", "SUBSCRIBED")
        # Plain HTTP on the socket's path reaches no other route.
        for path in (PATH, f"{PATH}.example.com", f"{PATH}/x"):
            answer = as_user(bearer).get(f"{atoll.url}{path}", timeout=10)
            assert answer.status_code == 426, (path, answer.text)


# -- in-process, with a fake cluster ----------------------------------------------------

CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True)


class FakeCluster:
    """Lists ``size`` ConfigMaps; its watches send nothing (the first says 410 Expired when
    ``expire_first``) and count themselves open."""

    def __init__(self, size: int = 0, *, expire_first: bool = False) -> None:
        self.size = size
        self.expire = expire_first
        self.open = 0
        self.opened = asyncio.Condition()

    async def discover(self, *, refresh: bool = False) -> list[ResourceType]:
        return [CONFIGMAPS]

    async def list(self, rt: ResourceType, **_: Any) -> dict[str, Any]:
        items = [{"metadata": {"name": f"cm{i}", "namespace": "ns"}} for i in range(self.size)]
        return {"items": items, "metadata": {"resourceVersion": "7"}}

    async def watch_stream(self, rt: ResourceType, **_: Any) -> AsyncGenerator[dict[str, Any]]:
        if self.expire:
            self.expire = False
            raise Expired("too old resource version: 1 (5)")
        async with self.opened:
            self.open += 1
            self.opened.notify_all()
        try:
            await asyncio.Event().wait()  # a quiet cluster
            yield {}
        finally:
            self.open -= 1


async def allow_all(who: Principal, info: RequestInfo) -> Decision:
    return Decision(True)


Messages = asyncio.Queue[dict[str, Any]]


def in_process(
    cluster: FakeCluster, limits: Limits, *, reading: bool = True
) -> tuple[WatchMux, Messages, Messages]:
    """A mux on a socket whose client sends what is put in the first queue and gets what
    the second one holds; unless ``reading``, it reads nothing."""
    incoming: Messages = asyncio.Queue()
    outgoing: Messages = asyncio.Queue()

    async def send(message: dict[str, Any]) -> None:
        outgoing.put_nowait(message)
        if message["type"] == "websocket.send" and not reading:
            await asyncio.Event().wait()

    scope = {"type": "websocket", "path": PATH, "headers": [], "atoll.principal": Principal("dev")}
    socket = WebSocket(scope, incoming.get, send)
    mux = WatchMux(
        socket, clients=lambda _name: cluster, pipeline=Pipeline(authorize=allow_all), limits=limits
    )
    incoming.put_nowait({"type": "websocket.connect"})
    return mux, incoming, outgoing


def subscribe_frame(id_: str, **fields: str) -> dict[str, Any]:
    frame = {"op": "subscribe", "id": id_, "resource": "configmaps", **fields}
    return {"type": "websocket.receive", "text": json.dumps(frame)}


async def sent_frames(outgoing: Messages, count: int) -> list[tuple[str, str]]:
    """The next ``count`` frames sent, as (type, object name)."""
    frames = []
    for _ in range(count):
        message = await asyncio.wait_for(outgoing.get(), WAIT)
        if message["type"] == "websocket.send":
            frame = json.loads(message["text"])
            frames.append((frame["type"], frame.get("object", {}).get("metadata", {}).get("name")))
    return frames


async def test_a_too_old_resource_version_lists_again() -> None:
    cluster = FakeCluster(size=2, expire_first=True)
    mux, incoming, outgoing = in_process(cluster, Limits())
    incoming.put_nowait(subscribe_frame("old", resourceVersion="1"))
    serving = asyncio.ensure_future(mux.serve())
    assert (await outgoing.get())["type"] == "websocket.accept"
    assert await sent_frames(outgoing, 5) == [
        ("SUBSCRIBED", None),
        ("RESYNC", None),
        ("ADDED", "cm0"),
        ("ADDED", "cm1"),
        ("SUBSCRIBED", None),
    ]
    async with cluster.opened:
        await asyncio.wait_for(cluster.opened.wait_for(lambda: cluster.open == 1), WAIT)
    incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(serving, WAIT)
    assert cluster.open == 0


async def test_a_consumer_that_does_not_keep_up_is_closed_with_1013() -> None:
    cluster = FakeCluster(size=10)
    mux, incoming, outgoing = in_process(
        cluster, Limits(queued_frames=2, patience=0.05), reading=False
    )
    incoming.put_nowait(subscribe_frame("many"))
    await asyncio.wait_for(mux.serve(), WAIT)
    sent = [outgoing.get_nowait() for _ in range(outgoing.qsize())]
    assert sent[-1]["type"] == "websocket.close" and sent[-1]["code"] == 1013
    assert cluster.open == 0


async def test_closing_the_socket_cancels_every_watch() -> None:
    cluster = FakeCluster()
    mux, incoming, outgoing = in_process(cluster, Limits())
    for i in range(3):
        incoming.put_nowait(subscribe_frame(f"w{i}", resourceVersion="7"))
    serving = asyncio.ensure_future(mux.serve())
    async with cluster.opened:
        await asyncio.wait_for(cluster.opened.wait_for(lambda: cluster.open == 3), WAIT)
    watching = [t for t in asyncio.all_tasks() if t.get_name().startswith("watch w")]
    assert len(watching) == 3
    incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(serving, WAIT)
    assert cluster.open == 0
    assert all(t.done() for t in watching)
    assert (await outgoing.get())["type"] == "websocket.accept"
    assert await sent_frames(outgoing, 3) == [("SUBSCRIBED", None)] * 3

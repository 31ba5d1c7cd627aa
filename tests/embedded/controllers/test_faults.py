"""The controllers through ``kill -9`` of the whole cluster and a restart on its data directory.

Each test runs a private cluster (``--kubelet off``, every controller), kills it with SIGKILL
at a chosen moment — in the middle of a rolling update, in the middle of a burst of
concurrent creates, right after a foreground delete — restarts it on the same directory and
checks the end state: the rollout completes with one new ReplicaSet and no duplicate or
stray Pods, every acknowledged write is there with its original uid, each Deployment ends
with one ReplicaSet and exactly ``replicas`` Pods (the restarted ReplicaSet controller has
lost its expectations and must not create a Pod twice), and a cascade finishes.

A restart waits for the dead process's controller Lease to expire (15 s, as upstream)
before the controllers run again, hence the generous deadlines after a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.embedded.controllers.faults_support import (
    CrashableCluster,
    PodsSeen,
    controller_uid,
    deployment,
    revision,
    rollout_problems,
)
from tests.embedded.controllers.kubelet_stand_in import (
    KubeletStandIn,
    finish_terminating,
    mark_ready,
    session,
)
from tests.embedded.controllers.rollout_support import Api, Watcher, eventually

NS = "faults"
AFTER_RESTART = 90.0  # the Lease of the killed process expires first (15 s), then work
PODS = f"/api/v1/namespaces/{NS}/pods"
CONFIGMAPS = f"/api/v1/namespaces/{NS}/configmaps"


@pytest.fixture
def crashable(tmp_path: Path) -> Iterator[CrashableCluster]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    cluster = CrashableCluster(data_dir)
    yield cluster
    cluster.stop()


def _apps(plural: str, name: str = "") -> str:
    return f"/apis/apps/v1/namespaces/{NS}/{plural}" + (f"/{name}" if name else "")


def _start(crashable: CrashableCluster) -> Api:
    api = Api(crashable.current)
    api.create("/api/v1/namespaces", {"metadata": {"name": NS}})
    return api


def _restart(crashable: CrashableCluster) -> Api:
    token = crashable.current.token
    proc = crashable.restart()
    assert proc.token == token, "the token is kept in the data directory"
    return Api(proc)


def _live_pods(api: Api) -> list[dict[str, Any]]:
    return [p for p in api.items(PODS) if not p["metadata"].get("deletionTimestamp")]


# -- kill -9 in the middle of a rolling update ------------------------------------------------

REPLICAS = 10
ONE_AT_A_TIME = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def _roll_to_partway(crashable: CrashableCluster, api: Api) -> dict[str, Any]:
    """Change the template and make new Pods Ready by hand until 3-9 of 10 are available.

    With maxUnavailable 0 the rollout advances only as new Pods turn Ready, so it cannot
    finish between two probes: the kill lands partway for certain, while the controllers
    are still answering the last Pods marked Ready.
    """
    change = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}}
    api.merge_patch(_apps("deployments", "roll"), change)

    def partway() -> dict[str, Any] | None:
        mark_ready(crashable.current, NS, http=api.http)
        finish_terminating(crashable.current, NS, api.http)
        for rs in api.items(_apps("replicasets")):
            available = (rs.get("status") or {}).get("availableReplicas", 0)
            if revision(rs) == "2" and 3 <= available < REPLICAS:
                return rs
        return None

    return eventually(partway, timeout=60, what="the rolling update partway")


def _rolled_out(api: Api, new_uid: str) -> dict[str, Any] | None:
    deploy: dict[str, Any] = api.get(_apps("deployments", "roll"))
    pods = api.items(PODS)
    if rollout_problems(deploy) or any(controller_uid(p) != new_uid for p in pods):
        return None
    return deploy


def test_a_rolling_update_completes_after_kill_9(crashable: CrashableCluster) -> None:
    api = _start(crashable)
    api.create(_apps("deployments"), deployment("roll", REPLICAS, strategy=ONE_AT_A_TIME))
    with KubeletStandIn(crashable.current, NS, terminate=True):
        eventually(
            lambda: not rollout_problems(api.get(_apps("deployments", "roll"))),
            timeout=60,
            what="the first rollout",
        )
    [old_set] = api.items(_apps("replicasets"))
    new_set = _roll_to_partway(crashable, api)
    before = PodsSeen()
    before.include(_live_pods(api))
    crashable.kill()

    api = _restart(crashable)
    most_wanted = {"pods": 0}

    def sets_changed(_: str, __: dict[str, Any], sets: dict[str, dict[str, Any]]) -> None:
        wanted = sum(rs["spec"]["replicas"] for rs in sets.values())
        most_wanted["pods"] = max(most_wanted["pods"], wanted)

    new_uid, seen = new_set["metadata"]["uid"], PodsSeen()
    with (
        Watcher(api, _apps("replicasets"), sets_changed),
        Watcher(api, PODS, seen) as pods,
        KubeletStandIn(crashable.current, NS, terminate=True),
    ):
        seen.include(list(pods.objects.values()))
        deploy = eventually(
            lambda: _rolled_out(api, new_uid), timeout=AFTER_RESTART, what="the rollout after"
        )
    assert most_wanted["pods"] <= REPLICAS + 1, "maxSurge 1 was exceeded after the restart"
    assert "successfully rolled out" in crashable.current.kubectl(
        "rollout", "status", "deploy/roll", "-n", NS, "--timeout=10s"
    )
    assert revision(deploy) == "2"
    old_uid = old_set["metadata"]["uid"]
    _assert_two_sets(api, old_uid=old_uid, new_uid=new_uid)
    final = _assert_pods_of(api, new_uid)
    # The new set only grows: its Pods made before the kill are kept, none made in excess.
    kept = before.of(new_uid)
    assert kept and kept <= final, f"made before the kill, then lost: {kept - final}"
    assert seen.of(new_uid) == final, f"made in excess: {seen.of(new_uid) - final}"
    # The old set only shrinks: no Pod of it was made after the restart.
    assert seen.of(old_uid) <= before.of(old_uid), "a Pod of the old template was made"


def _assert_two_sets(api: Api, *, old_uid: str, new_uid: str) -> None:
    """The first template's set, scaled to 0, and the second's, at full size; no other."""
    sets = {rs["metadata"]["uid"]: rs for rs in api.items(_apps("replicasets"))}
    assert set(sets) == {old_uid, new_uid}, "a ReplicaSet was duplicated"
    hashes = {rs["metadata"]["labels"]["pod-template-hash"] for rs in sets.values()}
    assert len(hashes) == 2
    assert (revision(sets[new_uid]), sets[new_uid]["spec"]["replicas"]) == ("2", REPLICAS)
    assert (revision(sets[old_uid]), sets[old_uid]["spec"]["replicas"]) == ("1", 0)


def _assert_pods_of(api: Api, new_uid: str) -> set[str]:
    """``REPLICAS`` Pods of the new template, all of the new set; return their names."""
    pods = api.items(PODS)
    names = [p["metadata"]["name"] for p in pods]
    assert len(names) == REPLICAS == len(set(names))
    for pod in pods:
        assert controller_uid(pod) == new_uid, pod["metadata"]["name"]
        refs = pod["metadata"]["ownerReferences"]
        assert [ref["uid"] for ref in refs] == [new_uid], f"{pod['metadata']['name']}: {refs}"
        assert pod["spec"]["containers"][0]["image"] == "nginx:2"
    return set(names)


# -- kill -9 in the middle of a burst of creates ----------------------------------------------

TOTAL = 220
EVERY_NTH_IS_DEPLOYMENT = 11  # 20 Deployments among 200 ConfigMaps
KILL_AFTER = 100
WORKERS = 16
BURST_REPLICAS = 2


@dataclass
class Burst:
    """Acknowledged creates (path → uid from the 201), and how many got no answer."""

    acknowledged: dict[str, str] = field(default_factory=dict)
    unanswered: int = 0
    killed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _burst_item(index: int) -> tuple[str, dict[str, Any]]:
    if index % EVERY_NTH_IS_DEPLOYMENT == 5:
        name = f"d-{index:03d}"
        return _apps("deployments"), deployment(name, BURST_REPLICAS)
    name = f"cm-{index:03d}"
    return CONFIGMAPS, {"metadata": {"name": name}, "data": {"name": name}}


def _create_burst(crashable: CrashableCluster) -> Burst:
    """POST every item, ``WORKERS`` at a time; SIGKILL after ``KILL_AFTER`` acknowledgements."""
    burst, proc = Burst(), crashable.current
    local, sessions = threading.local(), []

    def create(index: int) -> None:
        if not hasattr(local, "http"):
            local.http = session(proc)
            sessions.append(local.http)
        path, body = _burst_item(index)
        try:
            response = local.http.post(proc.url + path, json=body, timeout=30)
        except requests.RequestException:
            with burst.lock:
                burst.unanswered += 1
            return
        assert response.status_code == 201, response.text
        with burst.lock:
            burst.acknowledged[f"{path}/{body['metadata']['name']}"] = response.json()["metadata"][
                "uid"
            ]
            if len(burst.acknowledged) >= KILL_AFTER and not burst.killed:
                burst.killed = True
                crashable.kill()

    with ThreadPoolExecutor(WORKERS) as pool:
        for done in [pool.submit(create, index) for index in range(TOTAL)]:
            done.result()
    for http in sessions:
        http.close()
    return burst


def _assert_acknowledged_kept(api: Api, burst: Burst) -> None:
    """Every acknowledged create is stored, as the same object (same uid)."""
    stored = {
        f"{path}/{item['metadata']['name']}": item["metadata"]["uid"]
        for path in (CONFIGMAPS, _apps("deployments"))
        for item in api.items(path)
    }
    lost = sorted(set(burst.acknowledged) - set(stored))
    assert lost == [], f"acknowledged but lost after kill -9: {lost}"
    changed = sorted(p for p, uid in burst.acknowledged.items() if stored[p] != uid)
    assert changed == [], f"acknowledged objects with another uid after restart: {changed}"


def _settled(api: Api) -> list[dict[str, Any]] | None:
    """Every Deployment rolled out with its Pods Ready, or None."""
    deploys = api.items(_apps("deployments"))
    for deploy in deploys:
        status = deploy.get("status") or {}
        if rollout_problems(deploy) or status.get("readyReplicas") != BURST_REPLICAS:
            return None
    return deploys


def _assert_one_set_each(api: Api, deploys: list[dict[str, Any]], seen: PodsSeen) -> None:
    """One ReplicaSet per Deployment, each with ``BURST_REPLICAS`` Pods, none made twice."""
    sets = {rs["metadata"]["uid"]: rs for rs in api.items(_apps("replicasets"))}
    owners = sorted(str(controller_uid(rs)) for rs in sets.values())
    assert owners == sorted(d["metadata"]["uid"] for d in deploys), "not one set per Deployment"
    pods = api.items(PODS)
    assert len(pods) == BURST_REPLICAS * len(deploys)
    for rs_uid, rs in sets.items():
        name = rs["metadata"]["name"]
        owned = {p["metadata"]["name"] for p in pods if controller_uid(p) == rs_uid}
        assert len(owned) == BURST_REPLICAS, f"{name}: {owned}"
        assert seen.of(rs_uid) == owned, f"{name}: made in excess: {seen.of(rs_uid) - owned}"


def test_a_burst_of_creates_survives_kill_9(crashable: CrashableCluster) -> None:
    api = _start(crashable)
    # The controllers are leading and busy before the burst starts.
    api.create(_apps("deployments"), deployment("warm", BURST_REPLICAS))
    eventually(lambda: len(api.items(PODS)) == BURST_REPLICAS, timeout=30, what="warm pods")

    burst = _create_burst(crashable)
    assert burst.killed and KILL_AFTER <= len(burst.acknowledged) < TOTAL
    assert burst.unanswered > 0, "nothing was in flight when the server died"
    assert any("/deployments/" in path for path in burst.acknowledged)

    api = _restart(crashable)
    _assert_acknowledged_kept(api, burst)
    seen = PodsSeen()
    with (
        Watcher(api, PODS, seen) as pods,
        KubeletStandIn(crashable.current, NS, terminate=True),
    ):
        seen.include(list(pods.objects.values()))
        deploys = eventually(
            lambda: _settled(api), timeout=AFTER_RESTART, what="every Deployment ready"
        )
    _assert_one_set_each(api, deploys, seen)


# -- kill -9 right after a foreground delete --------------------------------------------------


def test_a_foreground_delete_finishes_after_kill_9(crashable: CrashableCluster) -> None:
    api = _start(crashable)
    api.create(_apps("deployments"), deployment("gone", REPLICAS))
    with KubeletStandIn(crashable.current, NS, terminate=True):
        eventually(
            lambda: not rollout_problems(api.get(_apps("deployments", "gone"))),
            timeout=60,
            what="the rollout",
        )
    response = api.http.delete(
        crashable.current.url + _apps("deployments", "gone"),
        json={"propagationPolicy": "Foreground"},
        timeout=30,
    )
    crashable.kill()
    assert response.status_code in (200, 202), response.text
    assert "foregroundDeletion" in response.json()["metadata"]["finalizers"]

    api = _restart(crashable)

    def gone() -> bool:
        left = api.items(_apps("deployments")) + api.items(_apps("replicasets"))
        return not left and not api.items(PODS)

    with KubeletStandIn(crashable.current, NS, terminate=True):
        eventually(gone, timeout=AFTER_RESTART, what="the deployment, its sets and pods gone")

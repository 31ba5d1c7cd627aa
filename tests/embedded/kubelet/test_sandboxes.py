"""Pod sandboxes: each pod's address, /etc/hosts and /etc/resolv.conf, and the warning when
pods sharing this machine's network declare the same port."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ClusterProcess
from tests.embedded.kubelet.streaming_support import running_pod, sleeper
from tests.waiting import eventually

from atoll.embedded.kubelet.sandboxes import ClusterDnsConfig, hosts_file, resolv_conf

DNS = ClusterDnsConfig(nameserver="10.244.0.1", domain="cluster.local")


def pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web-0", "namespace": "shop"}, "spec": spec}


def test_cluster_first_points_at_the_cluster_dns_with_the_search_path() -> None:
    assert resolv_conf(pod(), DNS, host_network=False) == (
        "nameserver 10.244.0.1\n"
        "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
        "options ndots:5\n"
    )


def test_dns_config_adds_servers_searches_and_options() -> None:
    config = {
        "nameservers": ["192.0.2.53"],
        "searches": ["corp.example"],
        "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
    }
    text = resolv_conf(pod(dnsConfig=config), DNS, host_network=False)
    assert text.splitlines() == [
        "nameserver 10.244.0.1",
        "nameserver 192.0.2.53",
        "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example",
        "options ndots:2 edns0",
    ]
    only = resolv_conf(pod(dnsPolicy="None", dnsConfig=config), DNS, host_network=False)
    assert only.splitlines()[0] == "nameserver 192.0.2.53"
    assert "10.244.0.1" not in only


def test_host_network_pods_use_the_machines_resolver_unless_asked_otherwise() -> None:
    shared = resolv_conf(pod(), DNS, host_network=True)
    assert "10.244.0.1" not in shared
    wanted = resolv_conf(pod(dnsPolicy="ClusterFirstWithHostNet"), DNS, host_network=True)
    assert wanted.startswith("nameserver 10.244.0.1\n")
    no_cluster_dns = resolv_conf(pod(), ClusterDnsConfig(), host_network=False)
    assert "svc.cluster.local" not in no_cluster_dns


def test_hosts_names_the_pod_and_adds_host_aliases() -> None:
    text = hosts_file(
        pod(
            hostname="db-0",
            subdomain="db",
            hostAliases=[{"ip": "192.0.2.7", "hostnames": ["legacy", "legacy.corp"]}],
        ),
        "10.244.0.9",
        domain="cluster.local",
    )
    lines = text.splitlines()
    assert "127.0.0.1\tlocalhost" in lines
    assert "10.244.0.9\tdb-0.db.shop.svc.cluster.local\tdb-0" in lines
    assert lines[-1] == "192.0.2.7\tlegacy\tlegacy.corp"
    assert "10.244.0.9\tweb-0" in hosts_file(pod(), "10.244.0.9", domain="cluster.local")


def test_pods_on_the_host_network_declaring_one_port_get_a_warning(
    cluster: ClusterProcess, namespace: str
) -> None:
    ports = [{"containerPort": 18080, "protocol": "TCP"}]
    for name in ("first", "second"):
        manifest = sleeper(name, ports=ports)
        manifest["spec"]["hostNetwork"] = True
        running_pod(cluster, namespace, manifest)

    def warned() -> list[dict[str, Any]]:
        out = cluster.kubectl("get", "events", "-n", namespace, "-o", "json")
        return [
            e
            for e in json.loads(out)["items"]
            if e["reason"] == "HostPortConflict" and e["involvedObject"]["name"] == "second"
        ]

    (event,) = eventually(warned, what="the HostPortConflict event")
    assert event["type"] == "Warning"
    assert f"pod {namespace}/first" in event["message"] and "18080/TCP" in event["message"]
    found = json.loads(cluster.kubectl("get", "pod", "second", "-n", namespace, "-o", "json"))
    assert found["status"]["podIP"] == found["status"]["hostIP"]  # the machine's own


def test_a_pod_sees_its_own_files_hostname_and_address(
    cluster: ClusterProcess, namespace: str
) -> None:
    name = running_pod(cluster, namespace, sleeper("files"))
    found = json.loads(cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json"))
    ip = found["status"]["podIP"]
    shown = cluster.kubectl(
        "exec",
        "-n",
        namespace,
        name,
        "--",
        "sh",
        "-c",
        "hostname; echo $HOSTNAME; cat /etc/hosts /etc/resolv.conf",
    )
    assert shown.startswith("files\nfiles\n")
    assert f"{ip}\tfiles" in shown
    assert f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local" in shown

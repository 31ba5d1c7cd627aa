"""Field-selector attributes per kind, rendered as kube renders them."""

from __future__ import annotations

from atoll.embedded.apiserver.builtins import field_attrs


def test_common_attributes() -> None:
    obj = {"metadata": {"name": "web", "namespace": "default"}}
    assert field_attrs("apps", "Deployment", obj) == {
        "metadata.name": "web",
        "metadata.namespace": "default",
    }
    assert field_attrs("", "ConfigMap", {}) == {"metadata.name": "", "metadata.namespace": ""}


def test_pod() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "d"},
        "spec": {
            "nodeName": "n1",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "serviceAccountName": "default",
        },
        "status": {"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.5"}]},
    }
    assert field_attrs("", "Pod", pod) == {
        "metadata.name": "p",
        "metadata.namespace": "d",
        "spec.nodeName": "n1",
        "spec.restartPolicy": "Always",
        "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "default",
        "status.phase": "Running",
        "status.nominatedNodeName": "",
        "status.podIP": "10.0.0.5",
    }


def test_core_event() -> None:
    event = {
        "metadata": {"name": "e", "namespace": "d"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "d", "uid": "u"},
        "reason": "Started",
        "source": {"component": "kubelet"},
        "type": "Normal",
    }
    attrs = field_attrs("", "Event", event)
    assert attrs["involvedObject.kind"] == "Pod"
    assert attrs["involvedObject.uid"] == "u"
    assert attrs["involvedObject.fieldPath"] == ""
    assert (attrs["reason"], attrs["source"], attrs["type"]) == ("Started", "kubelet", "Normal")
    assert attrs["reportingComponent"] == ""


def test_events_k8s_io_event() -> None:
    event = {"regarding": {"kind": "Node", "name": "n1"}, "reportingController": "kubelet"}
    attrs = field_attrs("events.k8s.io", "Event", event)
    assert attrs["regarding.kind"] == "Node"
    assert attrs["reportingController"] == "kubelet"
    assert "involvedObject.kind" not in attrs


def test_typed_values() -> None:
    assert (
        field_attrs("", "Node", {"spec": {"unschedulable": True}})["spec.unschedulable"] == "true"
    )
    assert field_attrs("", "Node", {})["spec.unschedulable"] == "false"
    assert field_attrs("apps", "ReplicaSet", {"status": {"replicas": 3}})["status.replicas"] == "3"
    assert field_attrs("", "ReplicationController", {})["status.replicas"] == "0"
    assert field_attrs("batch", "Job", {"status": {"succeeded": 1}})["status.successful"] == "1"
    assert field_attrs("", "Secret", {"type": "Opaque"})["type"] == "Opaque"
    namespace = field_attrs(
        "", "Namespace", {"metadata": {"name": "ns"}, "status": {"phase": "Active"}}
    )
    assert (namespace["status.phase"], namespace["name"]) == ("Active", "ns")


def test_supported_keys_from_an_empty_object() -> None:
    assert set(field_attrs("", "Pod", {})) >= {"spec.nodeName", "status.phase", "status.podIP"}

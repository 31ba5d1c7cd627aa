"""API defaulting of workloads and other kinds, as kube-apiserver 1.20 applies it."""

from __future__ import annotations

import copy
from typing import Any

from atoll.embedded.apiserver.builtins import default


def _template(labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels or {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.19"}]},
    }


def _defaulted(group: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    default(group, kind, obj)
    return obj


def test_minimal_deployment() -> None:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": _template()},
    }
    spec = _defaulted("apps", "Deployment", obj)["spec"]
    assert spec["replicas"] == 1
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Always"
    assert pod["dnsPolicy"] == "ClusterFirst"
    assert pod["schedulerName"] == "default-scheduler"
    assert pod["securityContext"] == {}
    assert pod["terminationGracePeriodSeconds"] == 30
    assert "enableServiceLinks" not in pod  # a Pod-only default
    assert "serviceAccountName" not in pod  # admission only touches Pods
    container = pod["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"


def test_recreate_strategy_gets_no_rolling_update() -> None:
    obj = {"spec": {"strategy": {"type": "Recreate"}, "template": _template()}}
    assert _defaulted("apps", "Deployment", obj)["spec"]["strategy"] == {"type": "Recreate"}


def test_explicit_values_are_kept() -> None:
    obj = {"spec": {"replicas": 0, "revisionHistoryLimit": 0, "template": _template()}}
    spec = _defaulted("apps", "Deployment", obj)["spec"]
    assert spec["replicas"] == 0
    assert spec["revisionHistoryLimit"] == 0


def test_defaulting_is_idempotent() -> None:
    obj = {"spec": {"selector": {"matchLabels": {"app": "web"}}, "template": _template()}}
    once = copy.deepcopy(_defaulted("apps", "Deployment", obj))
    assert _defaulted("apps", "Deployment", obj) == once


def test_kubectl_run_pod() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "nginx", "labels": {"run": "nginx"}},
        "spec": {
            "containers": [{"name": "nginx", "image": "nginx", "resources": {}}],
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
        },
        "status": {},
    }
    spec = _defaulted("", "Pod", pod)["spec"]
    assert spec["containers"][0]["imagePullPolicy"] == "Always"  # no tag means latest
    assert spec["enableServiceLinks"] is True
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    assert spec["priority"] == 0
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert [(t["key"], t["tolerationSeconds"]) for t in spec["tolerations"]] == [
        ("node.kubernetes.io/not-ready", 300),
        ("node.kubernetes.io/unreachable", 300),
    ]


def test_pod_service_account_mirrors_legacy_field() -> None:
    pod = {"spec": {"serviceAccount": "builder", "containers": []}}
    spec = _defaulted("", "Pod", pod)["spec"]
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "builder"


def test_pod_tolerating_everything_gets_no_default_tolerations() -> None:
    pod = {"spec": {"containers": [], "tolerations": [{"operator": "Exists"}]}}
    assert _defaulted("", "Pod", pod)["spec"]["tolerations"] == [{"operator": "Exists"}]


def test_pod_requests_default_to_limits() -> None:
    pod = {
        "spec": {
            "containers": [
                {"name": "a", "image": "a", "resources": {"limits": {"cpu": "1"}}},
                {
                    "name": "b",
                    "image": "b",
                    "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "500m"}},
                },
            ]
        }
    }
    containers = _defaulted("", "Pod", pod)["spec"]["containers"]
    assert containers[0]["resources"]["requests"] == {"cpu": "1"}
    assert containers[1]["resources"]["requests"] == {"cpu": "500m"}


def test_image_pull_policy_by_tag() -> None:
    images = {
        "nginx": "Always",
        "nginx:latest": "Always",
        "nginx:1.19": "IfNotPresent",
        "localhost:5000/nginx": "Always",
        "localhost:5000/nginx:2": "IfNotPresent",
        "nginx@sha256:" + "a" * 64: "IfNotPresent",
    }
    for image, policy in images.items():
        pod = {"spec": {"containers": [{"name": "c", "image": image}]}}
        assert _defaulted("", "Pod", pod)["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_container_details() -> None:
    container = {
        "name": "c",
        "image": "app:1",
        "ports": [{"containerPort": 80}],
        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5},
    }
    pod = {"spec": {"initContainers": [copy.deepcopy(container)], "containers": [container]}}
    spec = _defaulted("", "Pod", pod)["spec"]
    for defaulted in (spec["containers"][0], spec["initContainers"][0]):
        assert defaulted["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
        assert defaulted["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
        assert defaulted["livenessProbe"] == {
            "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
            "timeoutSeconds": 1,
            "periodSeconds": 10,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
        assert defaulted["readinessProbe"]["periodSeconds"] == 5


def test_volumes() -> None:
    pod = {
        "spec": {
            "containers": [],
            "volumes": [
                {"name": "scratch"},
                {"name": "cfg", "configMap": {"name": "cfg"}},
                {"name": "sec", "secret": {"secretName": "s", "defaultMode": 256}},
                {"name": "host", "hostPath": {"path": "/tmp"}},
            ],
        }
    }
    volumes = _defaulted("", "Pod", pod)["spec"]["volumes"]
    assert volumes[0] == {"name": "scratch", "emptyDir": {}}
    assert volumes[1]["configMap"]["defaultMode"] == 420
    assert volumes[2]["secret"]["defaultMode"] == 256
    assert volumes[3]["hostPath"] == {"path": "/tmp", "type": ""}


def test_replica_set_and_replication_controller() -> None:
    rs = _defaulted("apps", "ReplicaSet", {"spec": {"template": _template()}})
    assert rs["spec"]["replicas"] == 1
    rc = _defaulted("", "ReplicationController", {"spec": {"template": _template({"app": "x"})}})
    assert rc["spec"]["selector"] == {"app": "x"}
    assert rc["metadata"]["labels"] == {"app": "x"}
    assert rc["spec"]["replicas"] == 1


def test_stateful_set() -> None:
    obj = {
        "spec": {
            "template": _template(),
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}],
        }
    }
    spec = _defaulted("apps", "StatefulSet", obj)["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["replicas"] == 1
    assert spec["revisionHistoryLimit"] == 10
    claim = spec["volumeClaimTemplates"][0]
    assert claim["spec"]["volumeMode"] == "Filesystem"
    assert claim["status"] == {"phase": "Pending"}


def test_daemon_set() -> None:
    spec = _defaulted("apps", "DaemonSet", {"spec": {"template": _template()}})["spec"]
    assert spec["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert spec["revisionHistoryLimit"] == 10


def test_job_counts_and_generated_selector() -> None:
    job = {
        "metadata": {"name": "pi", "uid": "1234"},
        "spec": {"template": _template({"app": "pi"})},
    }
    defaulted = _defaulted("batch", "Job", job)
    spec = defaulted["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert defaulted["metadata"]["labels"] == {"app": "pi"}
    assert spec["selector"] == {"matchLabels": {"controller-uid": "1234"}}
    assert spec["template"]["metadata"]["labels"] == {
        "app": "pi",
        "controller-uid": "1234",
        "job-name": "pi",
    }
    assert spec["template"]["spec"]["restartPolicy"] == "Always"  # as in kube; validation refuses


def test_job_parallelism_only() -> None:
    job = {
        "metadata": {"name": "j", "uid": "u"},
        "spec": {"parallelism": 3, "template": _template()},
    }
    spec = _defaulted("batch", "Job", job)["spec"]
    assert "completions" not in spec
    assert spec["parallelism"] == 3


def test_job_manual_selector_is_left_alone() -> None:
    job = {
        "metadata": {"name": "j", "uid": "u"},
        "spec": {
            "manualSelector": True,
            "selector": {"matchLabels": {"a": "b"}},
            "template": _template(),
        },
    }
    spec = _defaulted("batch", "Job", job)["spec"]
    assert spec["selector"] == {"matchLabels": {"a": "b"}}
    assert "controller-uid" not in spec["template"]["metadata"]["labels"]


def test_cron_job() -> None:
    obj = {"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": _template()}}}}
    spec = _defaulted("batch", "CronJob", obj)["spec"]
    assert spec["concurrencyPolicy"] == "Allow"
    assert spec["suspend"] is False
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 1)
    job_spec = spec["jobTemplate"]["spec"]
    assert "backoffLimit" not in job_spec  # kube does not default a JobTemplateSpec's JobSpec
    assert job_spec["template"]["spec"]["dnsPolicy"] == "ClusterFirst"


def test_service() -> None:
    svc = {
        "spec": {"ports": [{"port": 80}, {"port": 443, "targetPort": "https", "protocol": "UDP"}]}
    }
    spec = _defaulted("", "Service", svc)["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"] == [
        {"port": 80, "protocol": "TCP", "targetPort": 80},
        {"port": 443, "targetPort": "https", "protocol": "UDP"},
    ]
    assert "externalTrafficPolicy" not in spec
    assert "clusterIP" not in spec  # allocation is the store's


def test_service_node_port_and_client_ip() -> None:
    svc = {"spec": {"type": "NodePort", "sessionAffinity": "ClientIP", "ports": [{"port": 80}]}}
    spec = _defaulted("", "Service", svc)["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_namespace() -> None:
    ns = _defaulted("", "Namespace", {"metadata": {"name": "team"}})
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}


def test_secret_type_and_string_data() -> None:
    secret = {"data": {"a": "YQ=="}, "stringData": {"b": "hello"}}
    defaulted = _defaulted("", "Secret", secret)
    assert defaulted["type"] == "Opaque"
    assert "stringData" not in defaulted
    assert defaulted["data"] == {"a": "YQ==", "b": "aGVsbG8="}


def test_volumes_and_claims() -> None:
    pvc = _defaulted("", "PersistentVolumeClaim", {"spec": {}})
    assert pvc["spec"]["volumeMode"] == "Filesystem"
    assert pvc["status"]["phase"] == "Pending"
    pv = _defaulted("", "PersistentVolume", {"spec": {}})
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["spec"]["volumeMode"] == "Filesystem"
    assert pv["status"]["phase"] == "Pending"


def test_storage_and_priority_classes() -> None:
    sc = _defaulted("storage.k8s.io", "StorageClass", {"provisioner": "x"})
    assert (sc["reclaimPolicy"], sc["volumeBindingMode"]) == ("Delete", "Immediate")
    pc = _defaulted("scheduling.k8s.io", "PriorityClass", {"value": 10})
    assert pc["preemptionPolicy"] == "PreemptLowerPriority"


def test_hpa_v2_default_metric_and_behavior() -> None:
    hpa = {
        "apiVersion": "autoscaling/v2",
        "spec": {"maxReplicas": 3, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}},
    }
    spec = _defaulted("autoscaling", "HorizontalPodAutoscaler", hpa)["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        }
    ]
    assert spec["behavior"]["scaleUp"]["policies"][0] == {
        "type": "Pods",
        "value": 4,
        "periodSeconds": 15,
    }
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 60
    assert spec["behavior"]["scaleDown"]["selectPolicy"] == "Max"


def test_hpa_v1_only_min_replicas() -> None:
    hpa = {"apiVersion": "autoscaling/v1", "spec": {"maxReplicas": 3}}
    assert _defaulted("autoscaling", "HorizontalPodAutoscaler", hpa)["spec"] == {
        "maxReplicas": 3,
        "minReplicas": 1,
    }


def test_network_policy_types() -> None:
    only_ingress = _defaulted("networking.k8s.io", "NetworkPolicy", {"spec": {"podSelector": {}}})
    assert only_ingress["spec"]["policyTypes"] == ["Ingress"]
    both = _defaulted(
        "networking.k8s.io",
        "NetworkPolicy",
        {"spec": {"egress": [{"ports": [{"port": 53}]}]}},
    )
    assert both["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert both["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP"


def test_rbac_binding_api_groups() -> None:
    binding = {
        "roleRef": {"kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa"}, {"kind": "User", "name": "u"}],
    }
    defaulted = _defaulted("rbac.authorization.k8s.io", "RoleBinding", binding)
    assert defaulted["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert [s["apiGroup"] for s in defaulted["subjects"]] == ["", "rbac.authorization.k8s.io"]


def test_endpoints_limit_range_node_and_ingress() -> None:
    ep = _defaulted("", "Endpoints", {"subsets": [{"ports": [{"port": 80}]}]})
    assert ep["subsets"][0]["ports"][0]["protocol"] == "TCP"
    lr = _defaulted(
        "", "LimitRange", {"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}}
    )
    assert lr["spec"]["limits"][0]["default"] == {"cpu": "2"}
    assert lr["spec"]["limits"][0]["defaultRequest"] == {"cpu": "2"}
    node = _defaulted("", "Node", {"status": {"capacity": {"cpu": "4"}}})
    assert node["status"]["allocatable"] == {"cpu": "4"}
    beta = {
        "apiVersion": "networking.k8s.io/v1beta1",
        "spec": {"rules": [{"http": {"paths": [{"path": "/"}]}}]},
    }
    path = _defaulted("networking.k8s.io", "Ingress", beta)["spec"]["rules"][0]["http"]["paths"][0]
    assert path["pathType"] == "ImplementationSpecific"


def test_unknown_kinds_and_bad_shapes_are_ignored() -> None:
    obj: dict[str, Any] = {"spec": "nonsense"}
    default("example.com", "Widget", obj)
    assert obj == {"spec": "nonsense"}
    default("apps", "Deployment", {"spec": {"template": None}})


_CONTAINER = {
    "name": "c",
    "image": "app",
    "ports": [{"containerPort": 8080}],
    "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
    "readinessProbe": {"httpGet": {"port": 8080}},
    "lifecycle": {"preStop": {"httpGet": {"port": 8080}}},
    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
}
_POD_SPEC = {
    "containers": [_CONTAINER],
    "volumes": [
        {"name": "a"},
        {"name": "b", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        {
            "name": "c",
            "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]},
        },
    ],
}
_TEMPLATE = {"metadata": {"labels": {"app": "x"}}, "spec": _POD_SPEC}
_SAMPLES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("", "v1", "Pod", {"spec": _POD_SPEC}),
    ("", "v1", "PodTemplate", {"template": _TEMPLATE}),
    ("", "v1", "ReplicationController", {"spec": {"template": _TEMPLATE}}),
    ("apps", "v1", "Deployment", {"spec": {"template": _TEMPLATE}}),
    ("apps", "v1", "ReplicaSet", {"spec": {"template": _TEMPLATE}}),
    ("apps", "v1", "DaemonSet", {"spec": {"template": _TEMPLATE}}),
    (
        "apps",
        "v1",
        "StatefulSet",
        {"spec": {"template": _TEMPLATE, "volumeClaimTemplates": [{"metadata": {"name": "d"}}]}},
    ),
    ("batch", "v1", "Job", {"metadata": {"uid": "u"}, "spec": {"template": _TEMPLATE}}),
    ("batch", "v1beta1", "CronJob", {"spec": {"jobTemplate": {"spec": {"template": _TEMPLATE}}}}),
    ("", "v1", "Service", {"spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP"}}),
    ("", "v1", "Secret", {"stringData": {"a": "b"}}),
    ("", "v1", "Namespace", {}),
    ("", "v1", "PersistentVolumeClaim", {}),
    ("", "v1", "PersistentVolume", {}),
    ("", "v1", "Node", {"status": {"capacity": {"cpu": "2"}}}),
    ("", "v1", "Endpoints", {"subsets": [{"ports": [{"port": 1}]}]}),
    ("", "v1", "LimitRange", {"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}}),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        {"apiVersion": "autoscaling/v2", "spec": {"behavior": {}}},
    ),
    ("autoscaling", "v1", "HorizontalPodAutoscaler", {"apiVersion": "autoscaling/v1"}),
    ("networking.k8s.io", "v1", "NetworkPolicy", {"spec": {"egress": [{"ports": [{}]}]}}),
    ("discovery.k8s.io", "v1", "EndpointSlice", {"ports": [{}]}),
    ("storage.k8s.io", "v1", "StorageClass", {}),
    ("scheduling.k8s.io", "v1", "PriorityClass", {}),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        {
            "roleRef": {"kind": "ClusterRole", "name": "r"},
            "subjects": [{"kind": "Group", "name": "g"}],
        },
    ),
]


def test_defaulted_objects_fit_their_schemas() -> None:
    from atoll.embedded.apiserver.builtins import type_errors, unknown_fields

    for group, version, kind, sample in _SAMPLES:
        obj = copy.deepcopy(sample)
        default(group, kind, obj)
        assert unknown_fields(group, version, kind, obj) == [], kind
        assert type_errors(group, version, kind, obj) == [], kind


def test_quantities_come_out_canonical() -> None:
    pod = {
        "apiVersion": "v1",
        "spec": {
            "overhead": {"cpu": 0.25},
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "resources": {
                        "limits": {"cpu": 0.5, "memory": "1.5Gi"},
                        "requests": {"cpu": "0.0001"},
                    },
                }
            ],
            "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "0.5Gi"}}],
        },
    }
    spec = _defaulted("", "Pod", pod)["spec"]
    assert spec["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "1536Mi"},
        "requests": {"cpu": "1m", "memory": "1536Mi"},
    }
    assert spec["overhead"] == {"cpu": "250m"}
    assert spec["volumes"][0]["emptyDir"] == {"sizeLimit": "512Mi"}
    quota = _defaulted(
        "", "ResourceQuota", {"spec": {"hard": {"pods": 10, "requests.cpu": "2000"}}}
    )
    assert quota["spec"]["hard"] == {"pods": "10", "requests.cpu": "2k"}
    hpa = {
        "apiVersion": "autoscaling/v2",
        "spec": {
            "metrics": [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "m"},
                        "target": {"type": "AverageValue", "averageValue": 1.5},
                    },
                }
            ]
        },
    }
    target = _defaulted("autoscaling", "HorizontalPodAutoscaler", hpa)["spec"]["metrics"][0][
        "pods"
    ]["target"]
    assert target["averageValue"] == "1500m"
    bad = {"spec": {"containers": [{"resources": {"limits": {"cpu": "lots"}}}]}}
    assert _defaulted("", "Pod", bad)["spec"]["containers"][0]["resources"]["limits"] == {
        "cpu": "lots"
    }

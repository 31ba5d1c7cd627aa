"""Defaulting of PodSpecs, wherever they appear (Pods and every workload's pod template).

This is kube 1.20's ``SetObjectDefaults_*`` for PodSpec: dnsPolicy, restartPolicy,
schedulerName, securityContext and terminationGracePeriodSeconds; per container (init,
regular and ephemeral) imagePullPolicy, termination message path/policy, port protocols,
probe timings, HTTP probe scheme and path, ``fieldRef.apiVersion``; per volume the default
``emptyDir`` and file modes. Clients print these (``kubectl describe`` shows ``Port: 80/TCP``)
and kubectl's own tests assert them.

A few defaults only ever appear on Pods, not templates: ``enableServiceLinks`` and requests
copied from limits (SetDefaults_Pod), and what 1.20's default admission plugins add:
``serviceAccountName``/``serviceAccount`` ``default`` (ServiceAccount), ``priority: 0``
(Priority) and the 300 s not-ready/unreachable tolerations (DefaultTolerationSeconds).
Job templates get ``restartPolicy: Always`` like any other, exactly as in kube, where Job
validation then rejects it unless the user chose OnFailure or Never.
"""

from __future__ import annotations

from typing import Any

__all__ = ["default_pod", "default_pod_spec", "default_pod_template"]

_HANDLER_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_DEFAULT_TOLERATION_KEYS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
_VOLUME_SOURCES_WITH_MODE = ("secret", "configMap", "downwardAPI", "projected")


def _dict(parent: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = parent.get(key)
    return value if isinstance(value, dict) else None


def _dicts(parent: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = parent.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _image_tag(image: str) -> str:
    """The tag of an image reference (``latest`` when there is none and no digest)."""
    if "@" in image:
        return ""
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def _default_handler(handler: dict[str, Any] | None) -> None:
    if handler is None:
        return
    http = _dict(handler, "httpGet")
    if http is not None:
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")


def _default_probe(probe: dict[str, Any] | None) -> None:
    if probe is None:
        return
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        if not probe.get(key):
            probe[key] = value
    _default_handler(probe)


def _default_field_ref(holder: dict[str, Any] | None) -> None:
    if holder is not None and (ref := _dict(holder, "fieldRef")) is not None:
        ref.setdefault("apiVersion", "v1")


def _default_container(container: dict[str, Any]) -> None:
    if not container.get("imagePullPolicy"):
        tag = _image_tag(str(container.get("image") or ""))
        container["imagePullPolicy"] = "Always" if tag == "latest" else "IfNotPresent"
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    for port in _dicts(container, "ports"):
        port.setdefault("protocol", "TCP")
    for env in _dicts(container, "env"):
        _default_field_ref(_dict(env, "valueFrom"))
    for probe in _HANDLER_PROBES:
        _default_probe(_dict(container, probe))
    lifecycle = _dict(container, "lifecycle")
    if lifecycle is not None:
        _default_handler(_dict(lifecycle, "postStart"))
        _default_handler(_dict(lifecycle, "preStop"))


def _default_volume(volume: dict[str, Any]) -> None:
    sources = [key for key in volume if key != "name"]
    if not sources:
        volume["emptyDir"] = {}
    for key in _VOLUME_SOURCES_WITH_MODE:
        source = _dict(volume, key)
        if source is not None:
            source.setdefault("defaultMode", 420)
    if (host_path := _dict(volume, "hostPath")) is not None:
        host_path.setdefault("type", "")
    if (downward := _dict(volume, "downwardAPI")) is not None:
        for item in _dicts(downward, "items"):
            _default_field_ref(item)
    if (projected := _dict(volume, "projected")) is not None:
        _default_projections(projected)


def _default_projections(projected: dict[str, Any]) -> None:
    for source in _dicts(projected, "sources"):
        token = _dict(source, "serviceAccountToken")
        if token is not None:
            token.setdefault("expirationSeconds", 3600)
        downward = _dict(source, "downwardAPI")
        if downward is not None:
            for item in _dicts(downward, "items"):
                _default_field_ref(item)


def default_pod_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_PodSpec and everything nested in a PodSpec, in place."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    if not spec.get("schedulerName"):
        spec["schedulerName"] = "default-scheduler"
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in _dicts(spec, key):
            _default_container(container)
    for volume in _dicts(spec, "volumes"):
        _default_volume(volume)


def default_pod_template(template: Any) -> None:
    """Defaults of a PodTemplateSpec's ``spec`` (no Pod-only defaults)."""
    if isinstance(template, dict):
        spec = template.get("spec")
        if isinstance(spec, dict):
            default_pod_spec(spec)


def _requests_from_limits(container: dict[str, Any]) -> None:
    resources = _dict(container, "resources")
    limits = _dict(resources, "limits") if resources is not None else None
    if resources is None or not limits:
        return
    requests = resources.get("requests")
    if not isinstance(requests, dict):
        requests = resources["requests"] = {}
    for name, value in limits.items():
        requests.setdefault(name, value)


def _tolerates(toleration: Any, key: str) -> bool:
    """Whether a toleration already covers NoExecute taints with ``key`` (as the plugin checks)."""
    if not isinstance(toleration, dict):
        return False
    return toleration.get("key") in (key, "", None) and toleration.get("effect") in (
        "NoExecute",
        "",
        None,
    )


def _default_tolerations(spec: dict[str, Any]) -> None:
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    added = [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        for key in _DEFAULT_TOLERATION_KEYS
        if not any(_tolerates(t, key) for t in tolerations)
    ]
    if added:
        spec["tolerations"] = [*tolerations, *added]


def default_pod(pod: dict[str, Any]) -> None:
    """All defaults of a Pod: its PodSpec, SetDefaults_Pod and the default admission plugins."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    for key in ("initContainers", "containers"):
        for container in _dicts(spec, key):
            _requests_from_limits(container)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork") is True:
        for key in ("initContainers", "containers"):
            for container in _dicts(spec, key):
                for port in _dicts(container, "ports"):
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")
    default_pod_spec(spec)
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = account
    if spec.get("priority") is None and not spec.get("priorityClassName"):
        spec["priority"] = 0
    _default_tolerations(spec)

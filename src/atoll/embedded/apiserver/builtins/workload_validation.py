"""Validation of workload controllers: Deployment, ReplicaSet, ReplicationController,
StatefulSet, DaemonSet, Job and CronJob (kube 1.20's apps and batch validation).

The checks every one shares: a non-empty selector that matches the template's labels
(``spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector`
does not match template `labels```), a valid pod template with the restart policy the
controller supports, and non-negative counts. On update, apps/v1 selectors are immutable, a
StatefulSet may only change replicas, template and updateStrategy, and a Job its parallelism
and deadlines, never its template or selector.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atoll.embedded.apiserver.builtins.checks import (
    GoValue,
    as_list,
    as_map,
    as_str,
    go_label_selector,
    go_string_map,
    immutable,
    int_or_percent_errors,
    label_selector_errors,
    non_negative,
    percent_over_100,
    selector_matches,
)
from atoll.embedded.apiserver.builtins.cron import schedule_error
from atoll.embedded.apiserver.builtins.pod_validation import pod_template_errors
from atoll.errors import FieldError

__all__ = [
    "cron_job_errors",
    "daemon_set_errors",
    "deployment_errors",
    "job_errors",
    "replica_set_errors",
    "replication_controller_errors",
    "stateful_set_errors",
]

Obj = Mapping[str, Any]

_STS_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'template', and "
    "'updateStrategy' are forbidden"
)


def _spec(obj: Obj) -> Obj:
    return as_map(obj.get("spec"))


def _template_labels(spec: Obj) -> Obj:
    return as_map(as_map(as_map(spec.get("template")).get("metadata")).get("labels"))


def _go_labels(labels: Obj) -> GoValue:
    return GoValue(go_string_map(labels) if labels else "map[string]string(nil)")


def _selector_errors(spec: Obj, *, noun: str, required: bool = True) -> list[FieldError]:
    """Selector present, well-formed, non-empty, and matching the template's labels."""
    selector = spec.get("selector")
    if selector is None:
        return [FieldError.required("spec.selector")] if required else []
    selector = as_map(selector)
    errors = label_selector_errors("spec.selector", selector)
    if not as_map(selector.get("matchLabels")) and not as_list(selector.get("matchExpressions")):
        errors.append(
            FieldError.invalid(
                "spec.selector",
                go_label_selector(selector),
                f"empty selector is invalid for {noun}",
            )
        )
    elif not errors and not selector_matches(selector, _template_labels(spec)):
        errors.append(_mismatch(spec))
    return errors


def _mismatch(spec: Obj) -> FieldError:
    return FieldError.invalid(
        "spec.template.metadata.labels",
        _go_labels(_template_labels(spec)),
        "`selector` does not match template `labels`",
    )


def _always_restart(spec: Obj, controller: str) -> list[FieldError]:
    template_spec = as_map(as_map(spec.get("template")).get("spec"))
    errors: list[FieldError] = []
    policy = template_spec.get("restartPolicy")
    if policy and policy != "Always":
        errors.append(
            FieldError.not_supported("spec.template.spec.restartPolicy", policy, ("Always",))
        )
    deadline = template_spec.get("activeDeadlineSeconds")
    if deadline is not None:
        errors.append(
            FieldError.invalid(
                "spec.template.spec.activeDeadlineSeconds",
                deadline,
                f"activeDeadlineSeconds in {controller} is not Supported",
            )
        )
    return errors


def _counts(spec: Obj, *names: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for name in names:
        errors += non_negative(f"spec.{name}", spec.get(name))
    return errors


def _selector_immutable(obj: Obj, old: Obj | None) -> list[FieldError]:
    if old is None:
        return []
    return immutable("spec.selector", _spec(obj).get("selector"), old=_spec(old).get("selector"))


def _percent_value(value: Any) -> int:
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return int(value[:-1])
    return value if isinstance(value, int) else 0


def _strategy_errors(strategy: Obj) -> list[FieldError]:
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            return [
                FieldError.forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            ]
        return []
    if kind != "RollingUpdate":
        shown = GoValue(
            f'apps.DeploymentStrategy{{Type:"{as_str(kind)}", '
            "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}"
        )
        return [FieldError.not_supported("spec.strategy", shown, ("Recreate", "RollingUpdate"))]
    rolling = as_map(rolling)
    path = "spec.strategy.rollingUpdate"
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errors = int_or_percent_errors(f"{path}.maxUnavailable", unavailable)
    errors += int_or_percent_errors(f"{path}.maxSurge", surge)
    if _percent_value(unavailable) == 0 and _percent_value(surge) == 0:
        errors.append(
            FieldError.invalid(
                f"{path}.maxUnavailable",
                GoValue(str(unavailable)),
                "may not be 0 when `maxSurge` is 0",
            )
        )
    return errors + percent_over_100(f"{path}.maxUnavailable", unavailable)


def deployment_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = _spec(obj)
    errors = _counts(spec, "replicas")
    errors += _selector_errors(spec, noun="deployment")
    errors += pod_template_errors(spec.get("template"), "spec.template")
    errors += _always_restart(spec, "ReplicaSet")
    errors += _strategy_errors(as_map(spec.get("strategy")))
    errors += _counts(spec, "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds")
    deadline, ready = spec.get("progressDeadlineSeconds"), spec.get("minReadySeconds") or 0
    if isinstance(deadline, int) and isinstance(ready, int) and deadline <= ready:
        errors.append(
            FieldError.invalid(
                "spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"
            )
        )
    return errors + _selector_immutable(obj, old)


def replica_set_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = _spec(obj)
    errors = _counts(spec, "replicas", "minReadySeconds")
    errors += _selector_errors(spec, noun="deployment")  # sic: kube says "deployment" here
    errors += pod_template_errors(spec.get("template"), "spec.template")
    errors += _always_restart(spec, "ReplicaSet")
    return errors + _selector_immutable(obj, old)


def replication_controller_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = _spec(obj)
    errors = _counts(spec, "replicas", "minReadySeconds")
    selector = as_map(spec.get("selector"))
    if not selector:
        errors.append(FieldError.required("spec.selector"))
    else:
        errors += label_selector_errors("spec.selector", {"matchLabels": selector})
        if not selector_matches({"matchLabels": selector}, _template_labels(spec)):
            errors.append(_mismatch(spec))
    errors += pod_template_errors(spec.get("template"), "spec.template")
    if spec.get("template") is not None:
        errors += _always_restart(spec, "ReplicationController")
    return errors


def _sts_strategy_errors(spec: Obj) -> list[FieldError]:
    strategy = as_map(spec.get("updateStrategy"))
    kind, rolling = strategy.get("type"), strategy.get("rollingUpdate")
    path = "spec.updateStrategy"
    if not kind:
        return [FieldError.required(path)]
    if kind == "OnDelete" and rolling is not None:
        return [
            FieldError.invalid(
                f"{path}.rollingUpdate",
                GoValue("apps.RollingUpdateStatefulSetStrategy{...}"),
                "only allowed for updateStrategy 'RollingUpdate'",
            )
        ]
    if kind == "RollingUpdate":
        return non_negative(f"{path}.rollingUpdate.partition", as_map(rolling).get("partition"))
    if kind != "OnDelete":
        return [
            FieldError.invalid(
                path,
                GoValue(f'apps.StatefulSetUpdateStrategy{{Type:"{kind}"}}'),
                "must be 'RollingUpdate' or 'OnDelete'",
            )
        ]
    return []


def stateful_set_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = _spec(obj)
    errors: list[FieldError] = []
    policy = spec.get("podManagementPolicy")
    if not policy:
        errors.append(FieldError.required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errors.append(
            FieldError.invalid(
                "spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"
            )
        )
    errors += _sts_strategy_errors(spec)
    errors += _counts(spec, "replicas", "revisionHistoryLimit")
    errors += _selector_errors(spec, noun="statefulset")
    claims = [
        as_str(as_map(as_map(c).get("metadata")).get("name"))
        for c in as_list(spec.get("volumeClaimTemplates"))
    ]
    errors += pod_template_errors(spec.get("template"), "spec.template", extra_volumes=claims)
    errors += _always_restart(spec, "StatefulSet")
    if old is not None:
        mutable = ("replicas", "template", "updateStrategy")
        fixed_new = {k: v for k, v in spec.items() if k not in mutable}
        fixed_old = {k: v for k, v in _spec(old).items() if k not in mutable}
        if fixed_new != fixed_old:
            errors.append(FieldError.forbidden("spec", _STS_FORBIDDEN))
    return errors


def _daemon_strategy_errors(strategy: Obj) -> list[FieldError]:
    kind = strategy.get("type")
    path = "spec.updateStrategy"
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        shown = GoValue(f'apps.DaemonSetUpdateStrategy{{Type:"{as_str(kind)}"}}')
        return [FieldError.not_supported(path, shown, ("RollingUpdate", "OnDelete"))]
    rolling = strategy.get("rollingUpdate")
    if rolling is None:
        return [FieldError.required(f"{path}.rollingUpdate")]
    unavailable = as_map(rolling).get("maxUnavailable")
    surge = as_map(rolling).get("maxSurge")
    errors = int_or_percent_errors(f"{path}.rollingUpdate.maxUnavailable", unavailable)
    if _percent_value(unavailable) == 0 and _percent_value(surge) == 0:
        errors.append(
            FieldError.invalid(
                f"{path}.rollingUpdate.maxUnavailable", GoValue(str(unavailable)), "cannot be 0"
            )
        )
    return errors + percent_over_100(f"{path}.rollingUpdate.maxUnavailable", unavailable)


def daemon_set_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = _spec(obj)
    errors = _selector_errors(spec, noun="daemonset")
    errors += pod_template_errors(spec.get("template"), "spec.template")
    errors += _always_restart(spec, "DaemonSet")
    errors += _counts(spec, "minReadySeconds", "revisionHistoryLimit")
    errors += _daemon_strategy_errors(as_map(spec.get("updateStrategy")))
    return errors + _selector_immutable(obj, old)


def _job_spec_errors(spec: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for name in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ):
        errors += non_negative(f"{path}.{name}", spec.get(name))
    errors += pod_template_errors(spec.get("template"), f"{path}.template")
    policy = as_map(as_map(spec.get("template")).get("spec")).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        errors.append(
            FieldError.not_supported(
                f"{path}.template.spec.restartPolicy", policy or "", ("OnFailure", "Never")
            )
        )
    return errors


def _generated_selector_errors(obj: Obj) -> list[FieldError]:
    spec, metadata = _spec(obj), as_map(obj.get("metadata"))
    if spec.get("manualSelector") is True or spec.get("selector") is None:
        return []
    uid, name = as_str(metadata.get("uid")), as_str(metadata.get("name"))
    errors = [FieldError.required("metadata.uid")] if not uid else []
    labels = _template_labels(spec)
    for key, expected in (("controller-uid", uid), ("job-name", name)):
        where = f"spec.template.metadata.labels[{key}]"
        if key not in labels:
            errors.append(FieldError.required(where, expected))
        elif labels[key] != expected:
            errors.append(FieldError.invalid(where, _go_labels(labels), f"must be '{expected}'"))
    selector = as_map(spec.get("selector"))
    if not selector_matches(selector, {"controller-uid": uid, "job-name": name}):
        errors.append(
            FieldError.invalid(
                "spec.selector", go_label_selector(selector), "`selector` not auto-generated"
            )
        )
    return errors


def job_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = _spec(obj)
    errors = _generated_selector_errors(obj) + _job_spec_errors(spec, "spec")
    if spec.get("selector") is None:
        errors.append(FieldError.required("spec.selector"))
    else:
        selector = as_map(spec.get("selector"))
        errors += label_selector_errors("spec.selector", selector)
        if not selector_matches(selector, _template_labels(spec)):
            errors.append(_mismatch(spec))
    if old is not None:
        before = _spec(old)
        errors += immutable(
            "spec.completions", spec.get("completions"), old=before.get("completions")
        )
        errors += immutable("spec.selector", spec.get("selector"), old=before.get("selector"))
        if spec.get("template") != before.get("template"):
            errors.append(
                FieldError.invalid(
                    "spec.template", GoValue("core.PodTemplateSpec{...}"), "field is immutable"
                )
            )
    return errors


def cron_job_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = _spec(obj)
    errors: list[FieldError] = []
    name = as_str(as_map(obj.get("metadata")).get("name"))
    if len(name) > 52:
        errors.append(
            FieldError.invalid("metadata.name", name, "must be no more than 52 characters")
        )
    schedule = as_str(spec.get("schedule"))
    if not schedule:
        errors.append(FieldError.required("spec.schedule"))
    elif (problem := schedule_error(schedule)) is not None:
        errors.append(FieldError.invalid("spec.schedule", schedule, problem))
    errors += _counts(
        spec, "startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"
    )
    policy = spec.get("concurrencyPolicy")
    if not policy:
        errors.append(FieldError.required("spec.concurrencyPolicy"))
    elif policy not in ("Allow", "Forbid", "Replace"):
        errors.append(
            FieldError.not_supported(
                "spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace")
            )
        )
    job_spec = as_map(as_map(spec.get("jobTemplate")).get("spec"))
    errors += _job_spec_errors(job_spec, "spec.jobTemplate.spec")
    if job_spec.get("selector") is not None:
        errors.append(
            FieldError.invalid(
                "spec.jobTemplate.spec.selector",
                go_label_selector(as_map(job_spec.get("selector"))),
                "`selector` will be auto-generated",
            )
        )
    if job_spec.get("manualSelector") is True:
        errors.append(
            FieldError.not_supported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false"))
        )
    return errors

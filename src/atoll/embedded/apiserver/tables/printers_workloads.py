"""Tables of the workload kinds: apps (Deployment, ReplicaSet, StatefulSet, DaemonSet,
ControllerRevision) and batch (Job, CronJob), as kube-apiserver 1.20 prints them.

``spec.replicas`` is read as 1 when missing and a CronJob's ``suspend`` as false: the server
defaults both before storing, so that is what a real server would print.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables.ages import age, between, parse_timestamp
from atoll.embedded.apiserver.tables.columns import (
    AGE,
    CONTAINERS,
    IMAGES,
    NAME,
    Column,
    Printer,
    field,
)
from atoll.embedded.apiserver.tables.fields import (
    integer,
    items,
    mapping,
    optional_boolean,
    optional_integer,
    optional_mapping,
    present,
    text,
)
from atoll.embedded.apiserver.tables.labels import (
    InvalidSelectorError,
    format_label_selector,
    format_labels,
    selector_string,
)
from atoll.embedded.apiserver.tables.pods import layout_containers

READY = Column("Ready", description="Number of the pod with ready state")


def _name(obj: Mapping[str, Any]) -> str:
    return text(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return age(text(obj, "metadata", "creationTimestamp"), now)


def _replicas(obj: Mapping[str, Any]) -> int:
    desired = optional_integer(obj, "spec", "replicas")
    return 1 if desired is None else desired


def _template(obj: Mapping[str, Any]) -> tuple[str, str]:
    return layout_containers(mapping(obj, "spec", "template", "spec"))


def _selector(obj: Mapping[str, Any], *path: str) -> str:
    return format_label_selector(optional_mapping(obj, *path))


# --- Deployment, ReplicaSet, StatefulSet --------------------------------------------------------


def _deployment_cells(deployment: Mapping[str, Any], now: datetime) -> list[Any]:
    status = mapping(deployment, "status")
    try:
        selector = selector_string(optional_mapping(deployment, "spec", "selector"))
    except InvalidSelectorError:
        selector = "<invalid>"
    return [
        _name(deployment),
        f"{integer(status, 'readyReplicas')}/{_replicas(deployment)}",
        integer(status, "updatedReplicas"),
        integer(status, "availableReplicas"),
        _age(deployment, now),
        *_template(deployment),
        selector,
    ]


DEPLOYMENT = Printer(
    (
        NAME,
        READY,
        field("Up-to-date", "DeploymentStatus.updatedReplicas"),
        field("Available", "DeploymentStatus.availableReplicas"),
        AGE,
        CONTAINERS,
        IMAGES,
        field("Selector", "DeploymentSpec.selector", priority=1),
    ),
    _deployment_cells,
)


def _replica_set_cells(replica_set: Mapping[str, Any], now: datetime) -> list[Any]:
    return [
        _name(replica_set),
        _replicas(replica_set),
        integer(replica_set, "status", "replicas"),
        integer(replica_set, "status", "readyReplicas"),
        _age(replica_set, now),
        *_template(replica_set),
        _selector(replica_set, "spec", "selector"),
    ]


REPLICA_SET = Printer(
    (
        NAME,
        field("Desired", "ReplicaSetSpec.replicas", type="integer"),
        field("Current", "ReplicaSetStatus.replicas", type="integer"),
        field("Ready", "ReplicaSetStatus.readyReplicas", type="integer"),
        AGE,
        CONTAINERS,
        IMAGES,
        field("Selector", "ReplicaSetSpec.selector", priority=1),
    ),
    _replica_set_cells,
)

STATEFUL_SET = Printer(
    (NAME, READY, AGE, CONTAINERS, IMAGES),
    lambda sts, now: [
        _name(sts),
        f"{integer(sts, 'status', 'readyReplicas')}/{_replicas(sts)}",
        _age(sts, now),
        *_template(sts),
    ],
)

# --- DaemonSet, ControllerRevision --------------------------------------------------------------


def _daemon_set_cells(daemon_set: Mapping[str, Any], now: datetime) -> list[Any]:
    status = mapping(daemon_set, "status")
    return [
        _name(daemon_set),
        integer(status, "desiredNumberScheduled"),
        integer(status, "currentNumberScheduled"),
        integer(status, "numberReady"),
        integer(status, "updatedNumberScheduled"),
        integer(status, "numberAvailable"),
        format_labels(mapping(daemon_set, "spec", "template", "spec", "nodeSelector")),
        _age(daemon_set, now),
        *_template(daemon_set),
        _selector(daemon_set, "spec", "selector"),
    ]


DAEMON_SET = Printer(
    (
        NAME,
        field("Desired", "DaemonSetStatus.desiredNumberScheduled", type="integer"),
        field("Current", "DaemonSetStatus.currentNumberScheduled", type="integer"),
        field("Ready", "DaemonSetStatus.numberReady", type="integer"),
        field("Up-to-date", "DaemonSetStatus.updatedNumberScheduled", type="integer"),
        field("Available", "DaemonSetStatus.numberAvailable", type="integer"),
        field("Node Selector", "PodSpec.nodeSelector"),
        AGE,
        CONTAINERS,
        IMAGES,
        field("Selector", "DaemonSetSpec.selector", priority=1),
    ),
    _daemon_set_cells,
)


def controller_name(obj: Mapping[str, Any]) -> str:
    """``<kind>.<group>/<name>`` of the controlling owner, lower-cased kind; ``<none>`` if none."""
    for owner in items(obj, "metadata", "ownerReferences"):
        if owner.get("controller") is True:
            api_version = text(owner, "apiVersion")
            group = api_version.split("/")[0] if api_version.count("/") == 1 else ""
            kind = text(owner, "kind")
            qualified = f"{kind}.{group}" if group else kind
            return (
                f"{qualified.lower()}/{text(owner, 'name')}" if qualified else text(owner, "name")
            )
    return "<none>"


CONTROLLER_REVISION = Printer(
    (
        NAME,
        Column("Controller", description="Controller of the object"),
        field("Revision", "ControllerRevision.revision"),
        AGE,
    ),
    lambda revision, now: [
        _name(revision),
        controller_name(revision),
        integer(revision, "revision"),
        _age(revision, now),
    ],
)

# --- Job, CronJob -------------------------------------------------------------------------------


def job_completions(job: Mapping[str, Any]) -> str:
    succeeded = integer(job, "status", "succeeded")
    completions = optional_integer(job, "spec", "completions")
    if completions is not None:
        return f"{succeeded}/{completions}"
    parallelism = integer(job, "spec", "parallelism")
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def job_duration(job: Mapping[str, Any], now: datetime) -> str:
    """Start to completion, or start to now while running; empty before the job starts."""
    start = text(job, "status", "startTime")
    if parse_timestamp(start) is None:
        return ""
    if present(job, "status", "completionTime"):
        return between(start, text(job, "status", "completionTime"))
    return age(start, now)


def _job_cells(job: Mapping[str, Any], now: datetime) -> list[Any]:
    return [
        _name(job),
        job_completions(job),
        job_duration(job, now),
        _age(job, now),
        *_template(job),
        _selector(job, "spec", "selector"),
    ]


JOB = Printer(
    (
        NAME,
        field("Completions", "JobStatus.succeeded"),
        Column("Duration", description="Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        field("Selector", "JobSpec.selector", priority=1),
    ),
    _job_cells,
)


def _cron_job_cells(cron_job: Mapping[str, Any], now: datetime) -> list[Any]:
    suspend = optional_boolean(cron_job, "spec", "suspend")
    last_schedule = text(cron_job, "status", "lastScheduleTime")
    job_spec = mapping(cron_job, "spec", "jobTemplate", "spec")
    return [
        _name(cron_job),
        text(cron_job, "spec", "schedule"),
        "True" if suspend else "False",
        len(items(cron_job, "status", "active")),
        age(last_schedule, now) if present(cron_job, "status", "lastScheduleTime") else "<none>",
        _age(cron_job, now),
        *layout_containers(mapping(job_spec, "template", "spec")),
        format_label_selector(optional_mapping(job_spec, "selector")),
    ]


CRON_JOB = Printer(
    (
        NAME,
        field("Schedule", "CronJobSpec.schedule"),
        field("Suspend", "CronJobSpec.suspend", type="boolean"),
        field("Active", "CronJobStatus.active", type="integer"),
        field("Last Schedule", "CronJobStatus.lastScheduleTime"),
        AGE,
        CONTAINERS,
        IMAGES,
        field("Selector", "JobSpec.selector", priority=1),
    ),
    _cron_job_cells,
)

PRINTERS = {
    ("apps", "Deployment"): DEPLOYMENT,
    ("apps", "ReplicaSet"): REPLICA_SET,
    ("apps", "StatefulSet"): STATEFUL_SET,
    ("apps", "DaemonSet"): DAEMON_SET,
    ("apps", "ControllerRevision"): CONTROLLER_REVISION,
    ("batch", "Job"): JOB,
    ("batch", "CronJob"): CRON_JOB,
    # extensions/v1beta1 still names these kinds; their objects print the same way.
    ("extensions", "Deployment"): DEPLOYMENT,
    ("extensions", "ReplicaSet"): REPLICA_SET,
    ("extensions", "DaemonSet"): DAEMON_SET,
}

"""What one container instance starts with: its command line, and the ``Launch`` that
hands it to a runtime.

The command follows Kubernetes' rules over the image's: ``command`` replaces the
ENTRYPOINT (and drops its CMD), ``args`` replace the CMD; ``$(VAR)`` references are expanded
from the container's environment. The environment starts with ``HOSTNAME`` (the pod's
hostname, as container runtimes set it; the pod's own variables win). Mounts list the
pod's /etc files first, so a volume mounted at the same path wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from atoll.kube.quantities import quantity_value

from .env import expand
from .podhost import ImageInfo
from .runtime import Launch, Mount, OnOutput, StartError
from .sandboxes import PodSandbox

__all__ = ["command_line", "container_launch", "pod_hostname"]

Object = dict[str, Any]


def pod_hostname(pod: Object) -> str:
    return str((pod.get("spec") or {}).get("hostname") or pod["metadata"]["name"])


def command_line(spec: Object, env: Mapping[str, str], image: ImageInfo | None) -> list[str]:
    command = [expand(c, dict(env)) for c in spec.get("command") or []]
    args = [expand(a, dict(env)) for a in spec.get("args") or []]
    if image is not None:
        argv = [*(command or image.entrypoint), *(args or ([] if command else image.cmd))]
    else:
        argv = [*command, *args]
    if not argv:
        raise StartError("CreateContainerError", "no command specified and no image entrypoint")
    return argv


def container_launch(
    pod: Object,
    spec: Object,
    *,
    instance: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    image: ImageInfo | None,
    sandbox: PodSandbox,
    volumes: Sequence[Mount],
    state_dir: Path,
    termination_log: Path,
    on_output: OnOutput,
) -> Launch:
    """The Launch of container ``spec`` of ``pod`` (``instance``: unique on this node;
    ``argv`` from ``command_line``, ``env`` with ``HOSTNAME``)."""
    limits = (spec.get("resources") or {}).get("limits") or {}
    return Launch(
        name=instance,
        argv=argv,
        env=env,
        working_dir=spec.get("workingDir") or (image.working_dir if image else ""),
        state_dir=state_dir,
        on_output=on_output,
        rootfs=image.rootfs if image else None,
        mounts=[*sandbox.mounts, *volumes],
        memory_limit=quantity_value(limits.get("memory")),
        cpu_limit_millis=quantity_value(limits.get("cpu"), milli=True),
        user=image.user if image else "",
        termination_log=(
            termination_log,
            spec.get("terminationMessagePath") or "/dev/termination-log",
        ),
        labels={"hostname": pod_hostname(pod)},
        stdin=bool(spec.get("stdin")),
        netns=sandbox.netns,
        tty=bool(spec.get("tty")),
    )

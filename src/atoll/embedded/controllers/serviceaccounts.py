"""The service account controller: a ``default`` ServiceAccount in every active namespace.

Pods name ``default`` when they name no service account, so every namespace gets one as it
is created, and gets it back if it is deleted — kube-controller-manager's
``serviceaccount`` controller. A Terminating namespace is left alone (the API server would
refuse the write anyway).

No token Secrets are made. kube 1.20 makes them only when the controller manager has a
service-account signing key; kubectl's own test set-up runs without one, and its secret
tests assert that a new namespace holds no Secrets. Kubernetes stopped making them in 1.24.
"""

from __future__ import annotations

import logging

from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import AlreadyExists, Forbidden, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import Informer

from . import ControllerOptions

__all__ = ["CONTROLLERS", "DEFAULT_NAME", "SERVICE_ACCOUNTS", "ServiceAccountController"]

logger = logging.getLogger(__name__)

NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)
SERVICE_ACCOUNTS = ResourceType("", "v1", "serviceaccounts", "ServiceAccount", True)
DEFAULT_NAME = "default"


def _active(namespace: Object) -> bool:
    meta = namespace.get("metadata") or {}
    phase = (namespace.get("status") or {}).get("phase")
    return not meta.get("deletionTimestamp") and phase != "Terminating"


class ServiceAccountController:
    """Keys are namespace names; each reconcile makes sure ``<namespace>/default`` exists."""

    name = "serviceaccount"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._namespaces: Informer = ctx.informers.informer(NAMESPACES)
        self._accounts: Informer = ctx.informers.informer(SERVICE_ACCOUNTS)
        self._namespaces.add_handler(
            on_add=self._namespace_changed,
            on_update=lambda _old, new: self._namespace_changed(new),
        )
        self._accounts.add_handler(on_delete=self._account_deleted)

    def _namespace_changed(self, namespace: Object) -> None:
        if _active(namespace):
            self._ctx.enqueue(namespace)

    def _account_deleted(self, account: Object) -> None:
        meta = account.get("metadata") or {}
        if meta.get("name") == DEFAULT_NAME and meta.get("namespace"):
            self._ctx.queue.add(str(meta["namespace"]))

    async def reconcile(self, key: str) -> Result:
        namespace = self._namespaces.get(key)
        if namespace is None or not _active(namespace):
            return Result()
        if self._accounts.get(f"{key}/{DEFAULT_NAME}") is not None:
            return Result()
        account = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": DEFAULT_NAME, "namespace": key},
        }
        try:
            await self._ctx.client.create(SERVICE_ACCOUNTS, account)
        except AlreadyExists:
            return Result()  # our cache lags behind the write that made it
        except (NotFound, Forbidden) as exc:  # the namespace went, or began terminating
            logger.debug("namespace %s: no default service account: %s", key, exc.message)
            return Result()
        logger.debug("namespace %s: created the default service account", key)
        return Result()


def _service_account_controller(options: ControllerOptions) -> Controller:
    return ServiceAccountController(options)


CONTROLLERS = [_service_account_controller]

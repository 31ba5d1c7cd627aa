"""The users controller: no plain-text password stays stored, and every user has a state.

A User written to the cluster directly (``kubectl apply``, say) may carry a plain-text
``spec.password``; the controller replaces it with its argon2id hash and marks the User
``iam.atoll.io/password-encrypted: "true"`` — within moments, as KubeSphere's user
controller does. A User without ``status.state`` becomes ``Active`` (so a new user can log
in at once); ``Disabled`` is left for an administrator to set and clear.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from atoll.controllers.results import Result
from atoll.controllers.runtime import ControllerContext
from atoll.errors import Conflict, NotFound
from atoll.kube.client import Object
from atoll.kube.informers import Informer

from .admin import USERS
from .passwords import ENCRYPTED_ANNOTATION, hash_password

__all__ = ["UserController", "needs_hashing"]

logger = logging.getLogger(__name__)


def needs_hashing(user: Object) -> bool:
    annotations = (user.get("metadata") or {}).get("annotations") or {}
    password = (user.get("spec") or {}).get("password")
    return bool(password) and annotations.get(ENCRYPTED_ANNOTATION) != "true"


class UserController:
    name = "iam-users"

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._users: Informer = ctx.informers.informer(USERS)
        self._users.add_handler(on_add=ctx.enqueue, on_update=lambda _old, new: ctx.enqueue(new))

    async def reconcile(self, key: str) -> Result:
        user = self._users.get(key)
        if user is None:
            return Result()
        try:
            if needs_hashing(user):
                await self._hash(user)
                return Result()  # the update brings the user back for its state
            if not (user.get("status") or {}).get("state"):
                now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                status = {"state": "Active", "lastTransitionTime": now}
                await self._ctx.client.replace_status(USERS, {**user, "status": status})
        except Conflict:
            return Result(requeue=True)  # changed meanwhile: look again at the newest
        except NotFound:
            return Result()
        return Result()

    async def _hash(self, user: Object) -> None:
        meta = dict(user["metadata"])
        meta["annotations"] = {**(meta.get("annotations") or {}), ENCRYPTED_ANNOTATION: "true"}
        spec = {**user["spec"], "password": hash_password(str(user["spec"]["password"]))}
        await self._ctx.client.replace(USERS, {**user, "metadata": meta, "spec": spec})
        logger.info("user %s: a plain-text password was replaced by its hash", meta["name"])

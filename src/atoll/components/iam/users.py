"""The users controller: no plain-text password stays stored, and every user has a state.

A User written to the cluster directly (``kubectl apply``, say) may carry a plain-text
``spec.password``; the controller replaces it with its argon2id hash and marks the User
``iam.atoll.io/password-encrypted: "true"`` — within moments, as KubeSphere's user
controller does. A User without ``status.state`` becomes ``Active`` (so a new user can log
in at once); ``Disabled`` is left for an administrator to set and clear. Each user has the
platform role its label ``iam.atoll.io/globalrole`` names (``platform-regular`` without one)
through one GlobalRoleBinding, which the controller keeps and which goes with the user.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from atoll.controllers.leadership import format_time
from atoll.controllers.results import Result
from atoll.controllers.runtime import ControllerContext
from atoll.errors import AlreadyExists, Conflict, NotFound
from atoll.kube.client import Object
from atoll.kube.informers import Informer

from .admin import USERS
from .authorizing import GLOBAL_ROLE_BINDINGS
from .labels import USER_LABEL, label_value
from .passwords import ENCRYPTED_ANNOTATION, hash_password
from .roles import DEFAULT_GLOBAL_ROLE, GLOBAL_ROLE_LABEL, global_role_binding

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
        self._bindings: Informer = ctx.informers.informer(GLOBAL_ROLE_BINDINGS)
        self._bindings.add_indexer(USER_LABEL, _user_label)
        self._bindings.add_handler(
            on_delete=lambda binding: self._user_changed(binding),
            on_update=lambda _old, new: self._user_changed(new),
        )

    def _user_changed(self, binding: Object) -> None:
        if _user_label(binding):  # one of ours: look again at its user
            for subject in binding.get("subjects") or ():
                if subject.get("kind") == "User" and subject.get("name"):
                    self._ctx.queue.add(str(subject["name"]))

    async def reconcile(self, key: str) -> Result:
        user = self._users.get(key)
        if user is None:
            return Result()
        try:
            if needs_hashing(user):
                await self._hash(user)
                return Result()  # the update brings the user back for its state
            if not (user.get("status") or {}).get("state"):
                now = format_time(datetime.now(UTC))
                status = {"state": "Active", "lastTransitionTime": now}
                await self._ctx.client.replace_status(USERS, {**user, "status": status})
                return Result()
            await self._bind_global_role(user)
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

    async def _bind_global_role(self, user: Object) -> None:
        meta = user["metadata"]
        role = (meta.get("labels") or {}).get(GLOBAL_ROLE_LABEL) or DEFAULT_GLOBAL_ROLE
        wanted = global_role_binding(user, role)
        have = {
            b["metadata"]["name"]: b
            for b in self._bindings.by_index(USER_LABEL, label_value(meta["name"]))
        }
        for name in have.keys() - {wanted["metadata"]["name"]}:
            with contextlib.suppress(NotFound):
                await self._ctx.client.delete(GLOBAL_ROLE_BINDINGS, name)
        if wanted["metadata"]["name"] not in have:
            with contextlib.suppress(AlreadyExists):
                await self._ctx.client.create(GLOBAL_ROLE_BINDINGS, wanted)


def _user_label(obj: Object) -> list[str]:
    value = ((obj.get("metadata") or {}).get("labels") or {}).get(USER_LABEL)
    return [str(value)] if value else []

"""The ``admin`` user: created at first start, a platform administrator.

Its password comes from ``ATOLL_ADMIN_PASSWORD`` (``ServerSettings.admin_password``); without
one it is generated and told once through ``tell`` (the console, never the log), and the
User is annotated ``iam.atoll.io/password-change-required: "true"``, for the console to ask
for a new one at first login. An existing admin is left as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from atoll.errors import AlreadyExists, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType

from .authorizing import GLOBAL_ROLE_BINDINGS
from .crds import GROUP, VERSION
from .passwords import ENCRYPTED_ANNOTATION, generate_password, hash_password
from .roles import GLOBAL_ROLE_LABEL, global_role_binding

__all__ = ["ADMIN", "CHANGE_REQUIRED_ANNOTATION", "USERS", "ensure_admin"]

USERS = ResourceType(GROUP, VERSION, "users", "User", False)
ADMIN = "admin"
CHANGE_REQUIRED_ANNOTATION = "iam.atoll.io/password-change-required"


async def ensure_admin(
    client: KubeClient, *, password: str | None, tell: Callable[[str], None]
) -> None:
    with contextlib.suppress(NotFound):
        await _bind(client, await client.get(USERS, ADMIN))
        return
    generated = password is None
    chosen = generate_password() if password is None else password
    annotations = {ENCRYPTED_ANNOTATION: "true"}
    if generated:
        annotations[CHANGE_REQUIRED_ANNOTATION] = "true"
    user = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "User",
        "metadata": {
            "name": ADMIN,
            "annotations": annotations,
            "labels": {GLOBAL_ROLE_LABEL: "platform-admin"},
        },
        "spec": {"email": "admin@atoll.local", "password": hash_password(chosen)},
    }
    try:
        created = await client.create(USERS, user)
    except AlreadyExists:
        return  # another replica made it first: its password stands
    await _bind(client, created)
    if generated:
        tell(f"admin password (shown once; change it at first login): {chosen}")


async def _bind(client: KubeClient, admin: Object) -> None:
    """The admin's platform role at once (the users controller keeps it from then on), so
    the admin can act as soon as Atoll is ready."""
    with contextlib.suppress(AlreadyExists):
        await client.create(GLOBAL_ROLE_BINDINGS, global_role_binding(admin, "platform-admin"))

"""From an external identity to an Atoll user, and its groups.

A mapped user carries the labels ``iam.atoll.io/identity-provider: <provider>`` and
``iam.atoll.io/origin-uid: <uid, as a label value>`` (the full uid in the annotation of the
same name), as KubeSphere marks its own. With ``mapping_method: auto`` the first log-in
makes the user (named after the provider's user name, made a valid name); with ``lookup``
an administrator makes and labels it beforehand. A name already taken by another user is
never reused for an identity: the log-in is refused instead.

Groups: an Atoll Group lists the provider groups it stands for in ``spec.providerGroups``
(``"<provider>:<group>"``). At each log-in the user's GroupBindings that this provider made
(labelled ``iam.atoll.io/identity-provider``) are brought in step with the groups the
provider reported; bindings an administrator made are left alone.
"""

from __future__ import annotations

import contextlib
import re

from atoll.errors import AlreadyExists, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import Informer

from ..admin import USERS
from ..crds import GROUP, VERSION
from ..labels import PROVIDER_LABEL, USER_LABEL, label_value
from . import ExternalIdentity, NotMapped

__all__ = [
    "GROUPS",
    "GROUP_BINDINGS",
    "GROUP_LABEL",
    "ORIGIN_UID",
    "PROVIDER_LABEL",
    "IdentityMapper",
    "user_name_for",
]

GROUPS = ResourceType(GROUP, VERSION, "groups", "Group", False)
GROUP_BINDINGS = ResourceType(GROUP, VERSION, "groupbindings", "GroupBinding", False)
ORIGIN_UID = "iam.atoll.io/origin-uid"
GROUP_LABEL = "iam.atoll.io/group"
_INVALID = re.compile(r"[^a-z0-9.-]+")


def user_name_for(username: str) -> str:
    """A valid Atoll user name (a label value: 63 lower-case letters, digits, '-' or '.')."""
    name = _INVALID.sub("-", username.lower()).strip("-.")[:63].strip("-.")
    return name or "user"


def _labels(obj: Object) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


class IdentityMapper:
    def __init__(
        self, client: KubeClient, users: Informer, groups: Informer, bindings: Informer
    ) -> None:
        self._client = client
        self._users = users
        self._groups = groups
        self._bindings = bindings

    def _mapped(self, identity: ExternalIdentity) -> Object | None:
        uid = label_value(identity.uid)
        for user in self._users.list():
            labels = _labels(user)
            if labels.get(PROVIDER_LABEL) == identity.provider and labels.get(ORIGIN_UID) == uid:
                return user
        return None

    async def user_for(self, identity: ExternalIdentity, mapping_method: str) -> str:
        """The Atoll user ``identity`` is; made first with ``auto``."""
        found = self._mapped(identity)
        if found is not None:
            return str(found["metadata"]["name"])
        if mapping_method != "auto":
            raise NotMapped(
                f"no Atoll user is mapped to {identity.username!r} of {identity.provider}; "
                "an administrator must make one"
            )
        name = user_name_for(identity.username)
        user = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "User",
            "metadata": {
                "name": name,
                "labels": {
                    PROVIDER_LABEL: identity.provider,
                    ORIGIN_UID: label_value(identity.uid),
                },
                "annotations": {ORIGIN_UID: identity.uid},
            },
            "spec": {"email": identity.email, "displayName": identity.display_name},
        }
        try:
            await self._client.create(USERS, user)
        except AlreadyExists:
            taken = await self._client.get(USERS, name)
            labels = _labels(taken)
            if labels.get(PROVIDER_LABEL) != identity.provider or labels.get(
                ORIGIN_UID
            ) != label_value(identity.uid):
                raise NotMapped(f"the user name {name!r} is taken by another user") from None
        return name

    async def sync_groups(self, username: str, identity: ExternalIdentity) -> list[str]:
        """Bring the user's provider-made GroupBindings in step; the Atoll groups it has."""
        reported = {f"{identity.provider}:{group}" for group in identity.groups}
        wanted = {
            str(group["metadata"]["name"])
            for group in self._groups.list()
            if reported & set((group.get("spec") or {}).get("providerGroups") or ())
        }
        user_label = label_value(username)
        have = {
            _labels(b).get(GROUP_LABEL, ""): b
            for b in self._bindings.list()
            if _labels(b).get(USER_LABEL) == user_label
            and _labels(b).get(PROVIDER_LABEL) == identity.provider
        }
        for group, binding in have.items():
            if group not in wanted:
                with contextlib.suppress(NotFound):
                    await self._client.delete(GROUP_BINDINGS, binding["metadata"]["name"])
        for group in wanted - have.keys():
            binding = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "GroupBinding",
                "metadata": {
                    "name": f"{group}-{username}"[:253],
                    "labels": {
                        GROUP_LABEL: label_value(group),
                        USER_LABEL: user_label,
                        PROVIDER_LABEL: identity.provider,
                    },
                },
                "groupRef": {"apiGroup": GROUP, "kind": "Group", "name": group},
                "users": [username],
            }
            with contextlib.suppress(AlreadyExists):
                await self._client.create(GROUP_BINDINGS, binding)
        return sorted(wanted)

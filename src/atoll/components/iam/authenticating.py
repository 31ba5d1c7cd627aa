"""Who a bearer token stands for, and revoking tokens, with no state in the server.

An access token is good while it verifies (signature, expiry, kind), its user exists and
is not ``Disabled``, and its id is not revoked. The principal's groups are the Atoll groups
GroupBindings put the user in, read when each request is authenticated. Users and
revocations come from informers on the host cluster, so a disabled user's tokens stop
working on every replica as soon as the watch brings the change (well within the 10 s the
issue allows), and a token revoked on one replica is refused by all.

Revoked token ids live in one ConfigMap, ``kube-system/atoll-revoked-tokens``: its keys are
token ids and its values their expiry (unix seconds); entries past their expiry are dropped
on each write, so it stays as small as the tokens still alive.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from atoll.errors import AlreadyExists, Conflict, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import Informer, InformerFactory
from atoll.server.access import Principal

from .admin import USERS
from .identity.mapping import GROUP_BINDINGS
from .tokens import InvalidToken, TokenIssuer

__all__ = ["REVOKED", "TokenAuthenticator", "is_revoked", "revoke"]

logger = logging.getLogger(__name__)

CONFIG_MAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True)
REVOKED = ("kube-system", "atoll-revoked-tokens")
AUTHENTICATED = "system:authenticated"
_MEMBER = "member"


def _members(binding: Object) -> list[str]:
    return [str(u) for u in binding.get("users") or () if u]


class TokenAuthenticator:
    def __init__(self, factory: InformerFactory, issuer: TokenIssuer) -> None:
        self.issuer = issuer
        self._users: Informer = factory.informer(USERS)
        self._memberships: Informer = factory.informer(GROUP_BINDINGS)
        self._memberships.add_indexer(_MEMBER, _members)
        self._revoked: Informer = factory.informer(CONFIG_MAPS, namespace=REVOKED[0])

    @property
    def synced(self) -> bool:
        return all(i.has_synced for i in (self._users, self._revoked, self._memberships))

    def groups_of(self, name: str) -> tuple[str, ...]:
        """The Atoll groups the user is in (GroupBindings naming it)."""
        found = {
            str(((b.get("groupRef") or {}).get("name")) or "")
            for b in self._memberships.by_index(_MEMBER, name)
        }
        return tuple(sorted(g for g in found if g))

    def revoked(self, token_id: str) -> bool:
        found = self._revoked.get(f"{REVOKED[0]}/{REVOKED[1]}")
        return found is not None and token_id in (found.get("data") or {})

    async def __call__(self, token: str) -> Principal | None:
        try:
            claims = self.issuer.verify(token, "access")
        except InvalidToken:
            return None
        if self.revoked(str(claims.get("jti", ""))):
            return None
        name = str(claims["sub"])
        user = self._users.get(name)
        if user is None or (user.get("status") or {}).get("state") == "Disabled":
            return None
        return Principal(name, (AUTHENTICATED, *self.groups_of(name)))


async def revoke(client: KubeClient, claims: dict[str, Any]) -> None:
    """Record the token with these claims as revoked until it would have expired anyway."""
    namespace, name = REVOKED
    token_id, expires = str(claims.get("jti", "")), int(claims.get("exp", 0))
    if not token_id:
        return
    for _ in range(10):
        now = int(time.time())
        try:
            found = await client.get(CONFIG_MAPS, name, namespace=namespace)
        except NotFound:
            fresh = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace},
                "data": {token_id: str(expires)},
            }
            try:
                await client.create(CONFIG_MAPS, fresh)
                return
            except AlreadyExists:
                continue
        data = {k: v for k, v in (found.get("data") or {}).items() if _alive(v, now)}
        data[token_id] = str(expires)
        try:
            await client.replace(CONFIG_MAPS, {**found, "data": data})
            return
        except Conflict:
            continue  # another revocation landed meanwhile: merge with it
    logger.warning("revoking a token kept conflicting; it expires on its own at %d", expires)


async def is_revoked(client: KubeClient, token_id: str) -> bool:
    """Whether the token ``token_id`` is revoked, read from the store (not an informer): a
    refresh token is used rarely, and one revoked by logging out must not be good for the
    moment the watch takes to bring the revocation."""
    try:
        found = await client.get(CONFIG_MAPS, REVOKED[1], namespace=REVOKED[0])
    except NotFound:
        return False
    return token_id in (found.get("data") or {})


def _alive(value: str, now: int) -> bool:
    try:
        return int(value) > now
    except ValueError:
        return False

"""Identity providers: who a person is according to a directory (LDAP) or an OpenID
Connect provider, and which Atoll user that makes them.

A provider answers with an ``ExternalIdentity``; ``mapping.IdentityMapper`` turns it into
an Atoll user (made at first log-in with ``mapping_method: auto``, or found among users an
administrator labelled with ``lookup``) and keeps the user's Atoll groups in step with the
provider's groups. Providers are configured in ``ServerSettings.identity_providers`` and
listed at ``GET /oauth/providers`` for the console's log-in page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["ExternalIdentity", "NotMapped", "PasswordProvider", "ProviderUnavailable"]


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    provider: str  # the provider's name in the settings
    uid: str  # stable at the provider: an LDAP entry's DN (or entryUUID), an OIDC ``sub``
    username: str  # what the person is called there; the Atoll user's name when made
    email: str = ""
    display_name: str = ""
    groups: tuple[str, ...] = ()  # the provider's group names


class ProviderUnavailable(Exception):
    """The provider could not be asked (down, misconfigured): a 503, not a wrong password."""


class NotMapped(Exception):
    """The identity is genuine but has no Atoll user (``lookup``), or its name is taken."""


class PasswordProvider(Protocol):
    """A provider that checks a user name and password itself (LDAP)."""

    name: str
    mapping_method: str

    async def authenticate(self, username: str, password: str) -> ExternalIdentity | None:
        """The identity, or None for a wrong user name or password; raises
        ``ProviderUnavailable`` when the provider cannot be asked."""
        ...

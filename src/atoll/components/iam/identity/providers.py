"""The identity providers of the settings, made into what logs people in."""

from __future__ import annotations

from collections.abc import Sequence

from atoll.settings import IdentityProvider, LdapProvider, OidcProvider

from . import PasswordProvider

__all__ = ["listing", "password_providers"]


def password_providers(configured: Sequence[IdentityProvider]) -> list[PasswordProvider]:
    """The providers that check passwords themselves (LDAP), in the settings' order."""
    made: list[PasswordProvider] = []
    for provider in configured:
        if isinstance(provider, LdapProvider):
            from .ldap import LdapPasswordProvider  # only when one is configured

            made.append(LdapPasswordProvider(provider))
    return made


def listing(configured: Sequence[IdentityProvider]) -> list[dict[str, str]]:
    """What the console's log-in page shows: each provider, and where an OIDC log-in starts."""
    items = []
    for provider in configured:
        item = {
            "name": provider.name,
            "type": provider.type,
            "mappingMethod": provider.mapping_method,
        }
        if isinstance(provider, OidcProvider):
            item["loginURL"] = f"/oauth/authorize?provider={provider.name}"
        items.append(item)
    return items

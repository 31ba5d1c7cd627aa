"""Log-in against an LDAP directory, as KubeSphere's LDAP identity provider does.

A log-in is four steps on the directory: the manager binds (or nobody, anonymously), the
user's entry is searched for (exactly one must match the name typed), a second connection
binds as that entry with the password typed (the directory checks it, so Atoll never sees
a hash), and the user's groups are searched for. An empty password is refused before the
directory is asked: LDAP calls a simple bind with a DN and no password an "unauthenticated
bind" and many servers answer it with success, which must never count as a log-in.

``ldap3`` is pure Python and synchronous, so each log-in runs in a worker thread, with
short timeouts: a directory that does not answer makes a 503 in seconds, not a hung
request. What reaches the user or the log when the directory cannot be asked names the
provider and the failure, never a password.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ldap3 import SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from atoll.settings import LdapProvider

from . import ExternalIdentity, ProviderUnavailable

__all__ = ["LdapPasswordProvider"]

logger = logging.getLogger(__name__)

TIMEOUT = 5  # seconds to connect, and to wait for each answer (ldap3 wants an int)
_ENTRY_UUID = "entryUUID"  # an operational attribute (RFC 4530): returned only when asked for
_PLACEHOLDER = re.compile(r"\{(dn|username)\}")


def _fill_filter(template: str, **values: str) -> str:
    """``template`` with ``{dn}`` and ``{username}`` replaced by the values, escaped for a
    filter (RFC 4515), in one pass: a value is never searched for further placeholders."""
    return _PLACEHOLDER.sub(lambda m: escape_filter_chars(values[m[1]]), template)


def _values(attributes: Mapping[str, Any], name: str) -> list[str]:
    """An attribute's values in a search result (ldap3 gives a list, or a bare value when
    it knows the attribute to be single-valued)."""
    value = attributes.get(name)
    values = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in values if v not in (None, "")]


def _first(attributes: Mapping[str, Any], name: str) -> str:
    values = _values(attributes, name)
    return values[0] if values else ""


def _reason(error: Exception) -> str:
    """The text of an error; ldap3 nests its causes' texts as the reprs of tuples."""
    text = str(error)
    for _ in range(3):
        try:
            inner = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            break
        if not isinstance(inner, tuple | list) or not inner or not isinstance(inner[0], str):
            break
        text = inner[0]
    return text or type(error).__name__


def _entries(connection: Connection) -> list[tuple[str, Mapping[str, Any]]]:
    """The entries (DN, attributes) of the last search; referrals are left out."""
    return [
        (str(item["dn"]), item.get("attributes") or {})
        for item in connection.response or ()
        if item.get("type") == "searchResEntry"
    ]


class LdapPasswordProvider:
    """A ``PasswordProvider`` over one configured LDAP directory."""

    def __init__(self, settings: LdapProvider) -> None:
        self.name = settings.name
        self.mapping_method: str = settings.mapping_method
        self._settings = settings

    async def authenticate(self, username: str, password: str) -> ExternalIdentity | None:
        if not username or not password:  # never an unauthenticated bind
            return None
        return await asyncio.to_thread(self._authenticate, username, password)

    def _authenticate(self, username: str, password: str) -> ExternalIdentity | None:
        try:
            with self._as_manager() as manager:
                found = self._user_entry(manager, username)
                if found is None:
                    return None
                dn, attributes = found
                if not self._binds_as(dn, password):
                    return None
                groups = self._groups(manager, dn, username)
        except (LDAPException, OSError) as error:
            raise self._unavailable(error, password) from None
        settings = self._settings
        return ExternalIdentity(
            provider=self.name,
            uid=_first(attributes, _ENTRY_UUID) or dn,
            username=username,
            email=_first(attributes, settings.mail_attribute),
            display_name=_first(attributes, settings.display_name_attribute),
            groups=tuple(groups),
        )

    def _manager(self) -> tuple[str | None, str | None]:
        settings = self._settings
        if not settings.manager_dn:
            return None, None  # an anonymous search
        secret = settings.manager_password
        return settings.manager_dn, secret.get_secret_value() if secret is not None else ""

    def _server(self) -> Server:
        settings = self._settings
        tls = Tls(
            validate=ssl.CERT_REQUIRED,
            ca_certs_file=str(settings.ca_file) if settings.ca_file is not None else None,
        )
        return Server(
            settings.url,
            get_info="NO_INFO",
            tls=tls,
            connect_timeout=TIMEOUT,
            mode="IP_SYSTEM_DEFAULT",
        )

    @contextmanager
    def _connection(self, user: str | None, password: str | None) -> Iterator[Connection]:
        """An open connection (upgraded with StartTLS when configured) that binds as
        ``user``, or anonymously; unbound at the end."""
        connection = Connection(
            self._server(),
            user=user,
            password=password,
            authentication="SIMPLE" if user else "ANONYMOUS",
            auto_bind="NONE",
            auto_referrals=False,  # never carry a password to a server a referral names
            read_only=True,
            receive_timeout=TIMEOUT,
        )
        try:
            connection.open()
            if self._settings.start_tls:
                connection.start_tls()
            yield connection
        finally:
            # After a failure the socket may be gone: the failure, not the unbind, is news.
            with contextlib.suppress(LDAPException, OSError):
                connection.unbind()

    @contextmanager
    def _as_manager(self) -> Iterator[Connection]:
        """Bound as the manager: a refused bind is a misconfiguration (a 503), not a
        wrong password typed by a user."""
        with self._connection(*self._manager()) as connection:
            if not connection.bind():
                raise _BindRefused(f"the manager's bind: {connection.result['description']}")
            yield connection

    def _binds_as(self, dn: str, password: str) -> bool:
        """Whether the directory accepts ``password`` for the entry ``dn``."""
        with self._connection(dn, password) as connection:
            accepted = bool(connection.bind())
            if not accepted:
                why = connection.result["description"]
                logger.info("LDAP %s refused the bind of %s: %s", self.name, dn, why)
            return accepted

    def _user_entry(
        self, connection: Connection, username: str
    ) -> tuple[str, Mapping[str, Any]] | None:
        settings = self._settings
        connection.search(
            settings.user_search_base,
            _fill_filter(settings.user_search_filter, username=username),
            search_scope=SUBTREE,
            attributes=[settings.mail_attribute, settings.display_name_attribute, _ENTRY_UUID],
            size_limit=2,  # one is an answer; two are enough to know it is not one
        )
        entries = _entries(connection)
        if len(entries) != 1:
            if len(entries) > 1:
                logger.warning("LDAP %s: several entries match %r", self.name, username)
            return None
        return entries[0]

    def _groups(self, connection: Connection, dn: str, username: str) -> Sequence[str]:
        settings = self._settings
        if not settings.group_search_base:
            return ()
        connection.search(
            settings.group_search_base,
            _fill_filter(settings.group_search_filter, dn=dn, username=username),
            search_scope=SUBTREE,
            attributes=[settings.group_name_attribute],
        )
        names = {
            name
            for _, attributes in _entries(connection)
            for name in _values(attributes, settings.group_name_attribute)
        }
        return sorted(names)

    def _unavailable(self, error: Exception, password: str) -> ProviderUnavailable:
        reason = _reason(error)
        for secret in (password, self._manager()[1]):
            if secret:
                reason = reason.replace(secret, "***")
        logger.warning("LDAP %s (%s) cannot be asked: %s", self.name, self._settings.url, reason)
        return ProviderUnavailable(f"the LDAP directory {self.name} cannot be asked: {reason}")


class _BindRefused(LDAPException):
    """The manager's bind was refused: the provider is misconfigured."""

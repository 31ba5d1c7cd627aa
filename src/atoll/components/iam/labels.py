"""The labels the iam component puts on objects, and how a name becomes a label value.

Users, their bindings, login records and mapped identities are found by label; a value
that cannot be a label value (a long user name, an LDAP DN) is replaced by a stable digest,
so the lookup still works.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["PROVIDER_LABEL", "USER_LABEL", "label_value"]

USER_LABEL = "iam.atoll.io/user"  # on bindings and login records: whose they are
PROVIDER_LABEL = "iam.atoll.io/identity-provider"  # on mapped users and their group bindings
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def label_value(text: str) -> str:
    """``text`` if it is a valid label value, else a stable digest of it."""
    if _LABEL_VALUE.match(text):
        return text
    return "h-" + hashlib.sha256(text.encode()).hexdigest()[:40]

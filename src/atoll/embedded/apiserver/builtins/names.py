"""Name and key syntax of Kubernetes 1.20, with apimachinery's exact messages.

Every ``is_*`` / ``*_errors`` function returns the list of problems (empty when valid), as
apimachinery's ``IsDNS1123Subdomain`` and friends do, so a caller can wrap each message in a
:class:`~atoll.errors.FieldError` for its own field path. Clients and kubectl's own tests match
these texts, regex and examples included, hence the odd spacing of ``'my-name',  or``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

__all__ = [
    "NAME_RULES",
    "config_map_key_errors",
    "dns1035_label_errors",
    "dns1123_label_errors",
    "dns1123_subdomain_errors",
    "env_var_name_errors",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "label_value_errors",
    "max_len_error",
    "name_errors",
    "path_segment_errors",
    "percent_errors",
    "port_name_errors",
    "port_number_errors",
    "qualified_name_errors",
    "regex_error",
    "wildcard_dns1123_subdomain_errors",
]

_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL_FMT + r"(\." + _LABEL_FMT + ")*"
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _QNAME_FMT + ")?"
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_ENV_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_PERCENT_FMT = "[0-9]+%"
_WILDCARD_FMT = r"\*\." + _SUBDOMAIN_FMT

_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character"
)
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character"
)
_QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
_WILDCARD_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
    "alphanumeric character"
)


def _full(fmt: str) -> re.Pattern[str]:
    return re.compile("^" + fmt + r"\Z")


_LABEL_RE = _full(_LABEL_FMT)
_SUBDOMAIN_RE = _full(_SUBDOMAIN_FMT)
_DNS1035_RE = _full(_DNS1035_FMT)
_QNAME_RE = _full(_QNAME_FMT)
_LABEL_VALUE_RE = _full(_LABEL_VALUE_FMT)
_CONFIG_KEY_RE = _full(_CONFIG_KEY_FMT)
_ENV_RE = _full(_ENV_FMT)
_PERCENT_RE = _full(_PERCENT_FMT)
_WILDCARD_RE = _full(_WILDCARD_FMT)


@functools.cache  # the messages are constants, asked for on every check of every write
def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """apimachinery's RegexError, including its ``', '`` + ``' or '`` joins."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    text = msg + " (e.g. "
    for i, example in enumerate(examples):
        if i:
            text += " or "
        text += f"'{example}', "
    return text + f"regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def _check(value: str, pattern: re.Pattern[str], *, limit: int, message: str) -> list[str]:
    errors = [max_len_error(limit)] if len(value) > limit else []
    if not pattern.match(value):
        errors.append(message)
    return errors


def dns1123_label_errors(value: str) -> list[str]:
    return _check(
        value,
        _LABEL_RE,
        limit=63,
        message=regex_error(_LABEL_MSG, _LABEL_FMT, "my-name", "123-abc"),
    )


def dns1123_subdomain_errors(value: str) -> list[str]:
    message = regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN_FMT, "example.com")
    return _check(value, _SUBDOMAIN_RE, limit=253, message=message)


def dns1035_label_errors(value: str) -> list[str]:
    message = regex_error(_DNS1035_MSG, _DNS1035_FMT, "my-name", "abc-123")
    return _check(value, _DNS1035_RE, limit=63, message=message)


def wildcard_dns1123_subdomain_errors(value: str) -> list[str]:
    message = regex_error(_WILDCARD_MSG, _WILDCARD_FMT, "*.example.com")
    return _check(value, _WILDCARD_RE, limit=253, message=message)


def is_dns1123_label(value: str) -> bool:
    return not dns1123_label_errors(value)


def is_dns1123_subdomain(value: str) -> bool:
    return not dns1123_subdomain_errors(value)


def is_dns1035_label(value: str) -> bool:
    return not dns1035_label_errors(value)


def qualified_name_errors(key: str) -> list[str]:
    """IsQualifiedName: ``[prefix/]name`` as used by label keys, annotations, finalizers."""
    errors: list[str] = []
    parts = key.split("/")
    example = regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
    if len(parts) > 2:
        return [
            f"a qualified name {example} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend("prefix part " + msg for msg in dns1123_subdomain_errors(prefix))
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + max_len_error(63))
    if not _QNAME_RE.match(name):
        errors.append("name part " + example)
    return errors


def label_value_errors(value: str) -> list[str]:
    message = regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
    return _check(value, _LABEL_VALUE_RE, limit=63, message=message)


def config_map_key_errors(key: str) -> list[str]:
    """IsConfigMapKey: keys of ConfigMap/Secret data."""
    message = regex_error(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
        _CONFIG_KEY_FMT,
        "key.name",
        "KEY_NAME",
        "key-name",
    )
    errors = _check(key, _CONFIG_KEY_RE, limit=253, message=message)
    if key == ".":
        errors.append("must not be '.'")
    elif key == "..":
        errors.append("must not be '..'")
    elif key.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def env_var_name_errors(name: str) -> list[str]:
    message = regex_error(
        "a valid environment variable name must consist of alphabetic characters, digits, "
        "'_', '-', or '.', and must not start with a digit",
        _ENV_FMT,
        "my.env-name",
        "MY_ENV.NAME",
        "MyEnvName1",
    )
    errors = [] if _ENV_RE.match(name) else [message]
    if name == ".":
        errors.append("must not be '.'")
    elif name == "..":
        errors.append("must not be '..'")
    elif name.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def port_name_errors(name: str) -> list[str]:
    """IsValidPortName (an IANA_SVC_NAME)."""
    errors = [max_len_error(15)] if len(name) > 15 else []
    if not re.fullmatch("[-a-z0-9]+", name):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", name):
        errors.append("must contain at least one letter or number (a-z, 0-9)")
    if "--" in name:
        errors.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def port_number_errors(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else ["must be between 1 and 65535, inclusive"]


def percent_errors(value: str) -> list[str]:
    if _PERCENT_RE.match(value):
        return []
    return [
        regex_error(
            "a valid percent string must be a numeric string followed by an ending '%'",
            _PERCENT_FMT,
            "1%",
            "93%",
        )
    ]


def path_segment_errors(name: str, *, prefix: bool = False) -> list[str]:
    """IsValidPathSegmentName (RBAC names and other names only used as URL path segments)."""
    errors: list[str] = []
    if not prefix and name in (".", ".."):
        errors.append(f"may not be '{name}'")
    errors.extend(f"may not contain '{bad}'" for bad in ("/", "%") if bad in name)
    return errors


def _mask_trailing_dash(name: str) -> str:
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name


NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "subdomain": dns1123_subdomain_errors,
    "label": dns1123_label_errors,
    "dns1035": dns1035_label_errors,
    "path_segment": path_segment_errors,
    "path": path_segment_errors,
}


def name_errors(name: str, rule: str, *, prefix: bool = False) -> list[str]:
    """Problems of ``name`` under ``rule``: subdomain, label, dns1035 or path_segment (alias
    path); unknown rules mean subdomain. ``prefix=True`` checks a ``generateName``, whose
    trailing dash is fine.
    """
    if rule in ("path_segment", "path"):
        return path_segment_errors(name, prefix=prefix)
    check = NAME_RULES.get(rule, dns1123_subdomain_errors)
    return check(_mask_trailing_dash(name) if prefix else name)

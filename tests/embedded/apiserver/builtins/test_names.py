"""Name syntax and apimachinery's messages, regex and examples included."""

from __future__ import annotations

import pytest

from atoll.embedded.apiserver.builtins import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    label_value_errors,
    name_errors,
    qualified_name_errors,
)
from atoll.embedded.apiserver.builtins.names import (
    config_map_key_errors,
    env_var_name_errors,
    percent_errors,
    port_name_errors,
    port_number_errors,
    wildcard_dns1123_subdomain_errors,
)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.mark.parametrize("name", ["a", "web", "web-1", "a.b.c", "1abc", "x" * 253])
def test_valid_subdomains(name: str) -> None:
    assert is_dns1123_subdomain(name)


@pytest.mark.parametrize("name", ["", "Bad_Name", "-a", "a-", "a..b", ".a", "A", "x" * 254])
def test_invalid_subdomains(name: str) -> None:
    assert not is_dns1123_subdomain(name)


def test_subdomain_message() -> None:
    assert name_errors("Bad_Name", "subdomain") == [SUBDOMAIN_MSG]
    assert name_errors("a" * 254, "subdomain") == ["must be no more than 253 characters"]


def test_labels() -> None:
    assert is_dns1123_label("my-name") and is_dns1123_label("123-abc")
    assert not is_dns1123_label("a.b")
    assert not is_dns1123_label("x" * 64)
    assert name_errors("a.b", "label") == [LABEL_MSG]
    assert name_errors("x" * 64, "label") == ["must be no more than 63 characters"]


def test_dns1035_labels() -> None:
    assert is_dns1035_label("my-svc")
    assert not is_dns1035_label("1svc")
    assert name_errors("1svc", "dns1035") == [DNS1035_MSG]


def test_path_segment_names() -> None:
    assert name_errors("system:controller:deployment", "path_segment") == []
    assert name_errors("a/b", "path") == ["may not contain '/'"]
    assert name_errors("..", "path_segment") == ["may not be '..'"]
    assert name_errors("50%", "path_segment") == ["may not contain '%'"]


def test_generate_name_may_end_with_dash() -> None:
    assert name_errors("web-", "subdomain", prefix=True) == []
    assert name_errors("web-", "subdomain") == [SUBDOMAIN_MSG]
    assert name_errors("Web-", "subdomain", prefix=True) == [SUBDOMAIN_MSG]


def test_qualified_names() -> None:
    assert qualified_name_errors("app") == []
    assert qualified_name_errors("example.com/app_Name.1") == []
    assert qualified_name_errors("/app") == ["prefix part must be non-empty"]
    assert qualified_name_errors("example.com/") == [
        "name part must be non-empty",
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
        "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
        "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]
    assert qualified_name_errors("a/b/c")[0].startswith("a qualified name must consist of")
    assert qualified_name_errors("Bad_Prefix/x")[0].startswith(
        "prefix part a lowercase RFC 1123 subdomain"
    )
    assert qualified_name_errors("x" * 64) == ["name part must be no more than 63 characters"]


def test_label_values() -> None:
    assert label_value_errors("") == []
    assert label_value_errors("my_value.1") == []
    assert label_value_errors("-bad") == [
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    ]
    assert label_value_errors("x" * 64)[0] == "must be no more than 63 characters"


def test_other_syntaxes() -> None:
    assert config_map_key_errors("app.properties") == []
    assert config_map_key_errors("..data") == ["must not start with '..'"]
    assert config_map_key_errors("a b")[0].startswith("a valid config key must consist of")
    assert env_var_name_errors("MY_VAR.1") == []
    assert env_var_name_errors("1VAR")[0].startswith("a valid environment variable name")
    assert port_name_errors("http") == []
    assert port_name_errors("HTTP") == [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must contain at least one letter or number (a-z, 0-9)",
    ]
    assert port_name_errors("a--b-") == [
        "must not contain consecutive hyphens",
        "must not begin or end with a hyphen",
    ]
    assert port_number_errors(0) == ["must be between 1 and 65535, inclusive"]
    assert percent_errors("25%") == []
    assert percent_errors("25")[0].startswith("a valid percent string must be a numeric string")
    assert wildcard_dns1123_subdomain_errors("*.example.com") == []
    assert wildcard_dns1123_subdomain_errors("*.*.com") != []

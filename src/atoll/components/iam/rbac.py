"""Kubernetes RBAC's rule and subject matching, over Atoll's ``RequestInfo``.

A rule is a Kubernetes ``PolicyRule``: verbs, and either API groups, resources (``pods``,
``pods/log``, ``*``, ``pods/*``, ``*/scale``) and optional resource names, or non-resource
URLs (exact, or a prefix ending in ``*``). A subject is a ``User`` or a ``Group``, as in
RBAC; service accounts are not Atoll users. The semantics are RBAC's own (``rbac/v1``'s
``RuleAllows``), so a role written for Kubernetes means the same thing in Atoll.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from atoll.server.access import Principal, RequestInfo

__all__ = ["any_rule_allows", "rule_allows", "subject_keys", "subjects_of"]


def _has(values: Iterable[str], wanted: str) -> bool:
    return any(v == "*" or v == wanted for v in values)


def _resource_matches(resources: Iterable[str], resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for entry in resources:
        if entry in ("*", combined):
            return True
        if subresource and (entry == f"{resource}/*" or entry == f"*/{subresource}"):
            return True
    return False


def _url_matches(urls: Iterable[str], path: str) -> bool:
    for url in urls:
        if url == "*" or url == path:
            return True
        if url.endswith("*") and path.startswith(url[:-1]):
            return True
    return False


def rule_allows(rule: Mapping[str, Any], info: RequestInfo) -> bool:
    if not _has(rule.get("verbs") or (), info.verb):
        return False
    if not info.resource_request:
        return _url_matches(rule.get("nonResourceURLs") or (), info.path)
    if not _has(rule.get("apiGroups") or (), info.api_group):
        return False
    if not _resource_matches(rule.get("resources") or (), info.resource, info.subresource):
        return False
    names = rule.get("resourceNames") or ()
    return not names or info.name in names


def any_rule_allows(role: Mapping[str, Any] | None, info: RequestInfo) -> bool:
    return role is not None and any(rule_allows(r, info) for r in role.get("rules") or ())


def subject_keys(who: Principal) -> list[str]:
    """The index keys a binding for ``who`` is found under."""
    return [f"User:{who.name}", *(f"Group:{g}" for g in who.groups)]


def subjects_of(binding: Mapping[str, Any]) -> list[str]:
    """Index function: ``User:<name>`` / ``Group:<name>`` for each subject of a binding."""
    keys = []
    for subject in binding.get("subjects") or ():
        kind = subject.get("kind")
        if kind in ("User", "Group"):
            keys.append(f"{kind}:{subject.get('name', '')}")
    return keys

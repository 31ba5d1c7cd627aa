"""Validation of a CRD's ``spec.conversion`` (strategy None or Webhook).

kube validates the internal form, so errors name ``spec.conversion.webhookClientConfig`` and
``spec.conversion.conversionReviewVersions`` even though v1 nests them under ``webhook``.
Atoll stores webhook settings but does not call conversion webhooks itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from atoll.errors import FieldError

from ._names import dns1035_label_errors, dns1123_subdomain_errors
from ._values import index, mapping

__all__ = ["conversion_errors"]

_PATH = "spec.conversion"
_REVIEW_VERSIONS = ("v1", "v1beta1")


def conversion_errors(spec: Mapping[str, Any]) -> list[FieldError]:
    conversion = spec.get("conversion")
    if conversion is None:
        return []
    if not isinstance(conversion, Mapping):
        return [FieldError.invalid(_PATH, conversion, "must be a JSON object")]
    strategy = conversion.get("strategy")
    errors = []
    if strategy != "None" and spec.get("preserveUnknownFields") is True:
        detail = "must be None if spec.preserveUnknownFields is true"
        errors.append(FieldError.invalid(f"{_PATH}.strategy", strategy, detail))
    if not strategy:
        errors.append(FieldError.required(f"{_PATH}.strategy"))
    elif strategy not in ("None", "Webhook"):
        errors.append(FieldError.not_supported(f"{_PATH}.strategy", strategy, ("None", "Webhook")))
    webhook = mapping(conversion.get("webhook")) or {}
    client = webhook.get("clientConfig")
    review = webhook.get("conversionReviewVersions")
    if strategy == "Webhook":
        errors += _client_errors(client)
        errors += _review_version_errors(review)
        return errors
    detail = "should not be set when strategy is not set to Webhook"
    if client is not None:
        errors.append(FieldError.forbidden(f"{_PATH}.webhookClientConfig", detail))
    if review:
        errors.append(FieldError.forbidden(f"{_PATH}.conversionReviewVersions", detail))
    return errors


def _client_errors(client: Any) -> list[FieldError]:
    path = f"{_PATH}.webhookClientConfig"
    if client is None:
        return [FieldError.required(path, "required when strategy is set to Webhook")]
    if not isinstance(client, Mapping):
        return [FieldError.invalid(path, client, "must be a JSON object")]
    url, service = client.get("url"), client.get("service")
    if (url is None) == (service is None):
        return [FieldError.required(path, "exactly one of url or service is required")]
    if url is not None:
        return _url_errors(url, f"{path}.url")
    return _service_errors(service, f"{path}.service")


def _url_errors(url: Any, path: str) -> list[FieldError]:
    if not isinstance(url, str):
        return [FieldError.invalid(path, url, "must be a string")]
    try:
        parts = urlsplit(url)
    except ValueError as error:
        return [FieldError.invalid(path, url, f"host must be a valid URL: {error}")]
    problems = []
    if parts.scheme != "https":
        problems.append("'https' is the only allowed URL scheme")
    if not parts.hostname:
        problems.append("host must be specified")
    if parts.username or parts.password:
        problems.append("user information is not permitted in the URL")
    if parts.fragment:
        problems.append("fragments are not permitted in the URL")
    if parts.query:
        problems.append("query parameters are not permitted in the URL")
    return [FieldError.invalid(path, url, problem) for problem in problems]


def _service_errors(service: Any, path: str) -> list[FieldError]:
    if not isinstance(service, Mapping):
        return [FieldError.invalid(path, service, "must be a JSON object")]
    errors = []
    for field, check in (
        ("name", dns1123_subdomain_errors),
        ("namespace", dns1123_subdomain_errors),
    ):
        value = service.get(field)
        if not value:
            errors.append(FieldError.required(f"{path}.{field}", f"service {field} is required"))
        elif not isinstance(value, str) or check(value):
            errors.append(FieldError.invalid(f"{path}.{field}", value, "must be a valid DNS name"))
    port = service.get("port")
    if port is not None and (
        not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536
    ):
        detail = "port is not valid: must be between 1 and 65535, inclusive"
        errors.append(FieldError.invalid(f"{path}.port", port, detail))
    webhook_path = service.get("path")
    if webhook_path is not None and not (
        isinstance(webhook_path, str) and webhook_path.startswith("/")
    ):
        errors.append(FieldError.invalid(f"{path}.path", webhook_path, "must start with a '/'"))
    return errors


def _review_version_errors(versions: Any) -> list[FieldError]:
    path = f"{_PATH}.conversionReviewVersions"
    if not versions:
        return [FieldError.required(path)]
    if not isinstance(versions, list):
        return [FieldError.invalid(path, versions, "must be a list")]
    errors = []
    seen: set[str] = set()
    for i, version in enumerate(versions):
        if not isinstance(version, str):
            errors.append(FieldError.invalid(index(path, i), version, "must be a string"))
            continue
        if version in seen:
            errors.append(FieldError.invalid(index(path, i), version, "duplicate version"))
            continue
        seen.add(version)
        errors += [
            FieldError.invalid(index(path, i), version, p) for p in dns1035_label_errors(version)
        ]
    if not seen & set(_REVIEW_VERSIONS):
        detail = f"must include at least one of {', '.join(_REVIEW_VERSIONS)}"
        errors.append(FieldError.invalid(path, versions, detail))
    return errors

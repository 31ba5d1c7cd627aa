"""Label maps and label selectors rendered the way the Go printers render them.

Three renderings exist upstream and the printers mix them, so all three are kept apart:

- ``format_labels``: a plain map (``spec.selector`` of a Service or an RC), ``<none>`` if empty;
- ``selector_string``: ``LabelSelectorAsSelector(s).String()``, ``""`` for an empty or missing
  selector (the Deployment Selector column);
- ``format_label_selector``: the same with ``<none>`` for empty and ``<error>`` for a selector that
  does not convert (every other Selector column).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atoll.embedded.apiserver.tables.fields import items, mapping, strings, text


class InvalidSelectorError(ValueError):
    """A label selector with an unknown operator or values that do not fit its operator."""


def format_labels(labels: Mapping[str, Any]) -> str:
    """``k=v`` pairs sorted by key, joined by commas; ``<none>`` when there are none."""
    pairs = [f"{key}={value}" for key, value in sorted(labels.items()) if isinstance(value, str)]
    return ",".join(pairs) or "<none>"


def _requirement(expression: Mapping[str, Any]) -> tuple[str, str]:
    key, operator = text(expression, "key"), text(expression, "operator")
    values = sorted(strings(expression, "values"))
    if operator in ("In", "NotIn"):
        if not values:
            raise InvalidSelectorError(f"{operator} requires one or more values")
        word = "in" if operator == "In" else "notin"
        return key, f"{key} {word} ({','.join(values)})"
    if operator in ("Exists", "DoesNotExist"):
        if values:
            raise InvalidSelectorError(f"{operator} takes no values")
        return key, key if operator == "Exists" else f"!{key}"
    raise InvalidSelectorError(f"{operator!r} is not a valid pod selector operator")


def selector_string(selector: Mapping[str, Any] | None) -> str:
    """The selector as Go's ``labels.Selector.String()``: requirements sorted by key.

    Raises ``InvalidSelectorError`` where ``LabelSelectorAsSelector`` returns an error.
    """
    if selector is None:
        return ""
    requirements = [
        (key, f"{key}={value}")
        for key, value in mapping(selector, "matchLabels").items()
        if isinstance(value, str)
    ]
    requirements += [_requirement(expr) for expr in items(selector, "matchExpressions")]
    # Go sorts requirements by key only; a stable sort keeps label terms before expressions.
    requirements.sort(key=lambda requirement: requirement[0])
    return ",".join(rendered for _, rendered in requirements)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the selector string, ``<none>`` or ``<error>``."""
    try:
        return selector_string(selector) or "<none>"
    except InvalidSelectorError:
        return "<error>"

"""Quantity parsing: kube's suffixes, exponents, signs and error texts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atoll.kube.quantities import (
    FORMAT_ERROR,
    SUFFIX_ERROR,
    QuantityError,
    canonical_quantity,
    parse_quantity,
    quantity_error,
    quantity_value,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", "0"),
        ("1", "1"),
        ("100m", "0.1"),
        ("1500m", "1.5"),
        ("0.5", "0.5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("+2", "2"),
        ("-2", "-2"),
        ("1k", "1000"),
        ("1M", "1000000"),
        ("1G", "1000000000"),
        ("1T", "1e12"),
        ("1P", "1e15"),
        ("1E", "1e18"),
        ("1n", "1e-9"),
        ("1u", "1e-6"),
        ("1Ki", "1024"),
        ("1Mi", "1048576"),
        ("1.5Gi", "1610612736"),
        ("1Ti", str(2**40)),
        ("1Pi", str(2**50)),
        ("1Ei", str(2**60)),
        ("2e3", "2000"),
        ("2E3", "2000"),
        ("25e-1", "2.5"),
        ("1e+2", "100"),
        (" 64Mi ", "67108864"),
    ],
)
def test_parses(text: str, value: str) -> None:
    assert parse_quantity(text) == Decimal(value)


@pytest.mark.parametrize(("number", "value"), [(2, "2"), (0, "0"), (0.25, "0.25")])
def test_json_numbers_are_quantities(number: float, value: str) -> None:
    assert parse_quantity(number) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", FORMAT_ERROR),
        ("abc", FORMAT_ERROR),
        ("1.2.3", FORMAT_ERROR),
        ("1Kib", FORMAT_ERROR),
        ("Mi", FORMAT_ERROR),
        ("1 Mi", FORMAT_ERROR),
        ("1e", SUFFIX_ERROR),
        ("1Ki5", SUFFIX_ERROR),
        ("1mi", SUFFIX_ERROR),
    ],
)
def test_rejects_with_kube_message(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as caught:
        parse_quantity(text)
    assert str(caught.value) == message
    assert quantity_error(text) == message


def test_format_error_quotes_kube_regex() -> None:
    assert FORMAT_ERROR == (
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


def test_quantity_error_for_non_scalars() -> None:
    assert quantity_error("500m") is None
    assert quantity_error(True) == FORMAT_ERROR
    assert quantity_error({"a": 1}) == FORMAT_ERROR
    with pytest.raises(QuantityError):
        parse_quantity(True)


def test_exact_arithmetic() -> None:
    assert parse_quantity("100m") + parse_quantity("200m") == parse_quantity("300m")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("500m", "500m"),
        ("0.5", "500m"),
        (0.5, "500m"),
        (2, "2"),
        ("2000", "2k"),
        ("1000m", "1"),
        ("1.5", "1500m"),
        ("0", "0"),
        ("0.0001", "100u"),
        ("1Gi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("0.5Gi", "512Mi"),
        ("1.5Ki", "1536"),
        ("-1.5Gi", "-1536Mi"),
        ("1e3", "1e3"),
        ("129e6", "129e6"),
        ("3e-2", "30e-3"),
        ("128974848", "128974848"),
        ("1E", "1E"),
    ],
)
def test_canonical_forms(value: str | float, text: str) -> None:
    assert canonical_quantity(value) == text


def test_resource_lists_round_up_to_milli() -> None:
    assert canonical_quantity("0.0001", milli=True) == "1m"
    assert canonical_quantity("1.0001m", milli=True) == "2m"
    assert canonical_quantity("1.0001m") == "1000100n"


def test_quantity_value_rounds_up_as_apimachinery() -> None:
    assert quantity_value("128Mi") == 134217728
    assert quantity_value("250m", milli=True) == 250
    assert quantity_value("2", milli=True) == 2000
    assert quantity_value("0.5m", milli=True) == 1  # MilliValue rounds up
    assert quantity_value("1500m") == 2  # Value rounds up
    assert quantity_value(None) is None

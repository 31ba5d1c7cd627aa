"""Kubernetes resource quantities (``500m``, ``1.5Gi``, ``2e3``) as exact decimals.

Quantities appear in container resources, quotas, limit ranges, volumes and HPA metrics.
The scheduler, quota and validation code all need the same arithmetic, so it lives here,
at the bottom layer. Values are returned as :class:`decimal.Decimal` (never float), so
``0.1 + 0.2`` style rounding can never make a request look larger than a limit.

The grammar and error texts follow apimachinery's ``resource.ParseQuantity``:

- an optionally signed decimal number (``1``, ``1.5``, ``.5``, ``-2``),
- then one suffix: binary ``Ki Mi Gi Ti Pi Ei`` (powers of 1024), decimal SI
  ``n u m k M G T P E`` (powers of 1000; ``m`` is milli, ``M`` mega), or a decimal exponent
  ``e3`` / ``E-2``.

JSON numbers are accepted too: kube-apiserver decodes ``cpu: 2`` exactly like ``cpu: "2"``.
:func:`canonical_quantity` renders a value the way kube-apiserver returns it (``0.5`` →
``500m``, ``1.5Gi`` → ``1536Mi``, ``2000`` → ``2k``), which clients with strictly typed
models (the ``kubernetes`` package's pydantic models want strings) depend on.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_UP, Decimal, InvalidOperation

__all__ = [
    "FORMAT_ERROR",
    "SUFFIX_ERROR",
    "QuantityError",
    "canonical_quantity",
    "parse_quantity",
    "quantity_error",
    "quantity_value",
]

#: apimachinery's ErrFormatWrong, word for word.
FORMAT_ERROR = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
#: apimachinery's ErrSuffix.
SUFFIX_ERROR = "unable to parse quantity's suffix"

_SHAPE = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*[-+]?[0-9]*)$")

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_EXPONENT = re.compile(r"^[eE]([-+]?[0-9]+)$")


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity; ``str(err)`` is kube's message."""


def _multiplier(suffix: str) -> Decimal:
    if suffix in _BINARY:
        return Decimal(2) ** _BINARY[suffix]
    if suffix in _DECIMAL:
        return Decimal(10) ** _DECIMAL[suffix]
    exponent = _EXPONENT.match(suffix)
    if exponent is None:
        raise QuantityError(SUFFIX_ERROR)
    return Decimal(10) ** int(exponent.group(1))


def parse_quantity(value: str | int | float) -> Decimal:
    """The exact value of a quantity: ``parse_quantity("100m") == Decimal("0.1")``.

    Raises :class:`QuantityError` with kube-apiserver's wording for malformed input.
    """
    if isinstance(value, bool):
        raise QuantityError(FORMAT_ERROR)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = value.strip()
    shape = _SHAPE.match(text)
    if not text or shape is None:
        raise QuantityError(FORMAT_ERROR)
    sign, whole, fraction, suffix = shape.groups()
    if not whole and fraction is None:
        raise QuantityError(FORMAT_ERROR)
    try:
        number = Decimal(f"{whole or '0'}.{fraction}" if fraction else whole or "0")
    except InvalidOperation as err:  # pragma: no cover - the regex admits only digits
        raise QuantityError(FORMAT_ERROR) from err
    result = number * _multiplier(suffix)
    return -result if sign == "-" else result


def quantity_value(value: object, *, milli: bool = False) -> int | None:
    """A quantity as a whole number of units (or thousandths), rounded up as apimachinery's
    ``Value()``/``MilliValue()`` do; None for None (a resource with no limit)."""
    if value is None:
        return None
    amount = parse_quantity(str(value)) * (1000 if milli else 1)
    return int(amount.to_integral_value(rounding=ROUND_CEILING))


def quantity_error(value: object) -> str | None:
    """kube's decode error for ``value`` as a quantity, or None when it parses."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return FORMAT_ERROR
    try:
        parse_quantity(value)
    except QuantityError as err:
        return str(err)
    return None


_SI_SUFFIXES = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}
_BINARY_SUFFIXES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_NANO = Decimal("1e-9")
_MILLI = Decimal("1e-3")


def _format_of(value: str | int | float) -> str:
    """kube's format of a quantity: BinarySI, DecimalExponent or DecimalSI."""
    shape = _SHAPE.match(value.strip()) if isinstance(value, str) else None
    suffix = shape.group(4) if shape is not None else ""
    if suffix in _BINARY:
        return "BinarySI"
    return "DecimalExponent" if suffix[:1] in ("e", "E") and suffix != "E" else "DecimalSI"


def _decimal_text(amount: Decimal, *, exponent_form: bool) -> str:
    sign, digits, exponent = amount.normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = int("".join(map(str, digits)))
    shift = exponent % 3  # lower the exponent to a multiple of three
    mantissa, exponent = mantissa * 10**shift, exponent - shift
    prefix = "-" if sign else ""
    if exponent_form:
        return f"{prefix}{mantissa}" + (f"e{exponent}" if exponent else "")
    suffix = _SI_SUFFIXES.get(exponent)
    return f"{prefix}{mantissa}" + (suffix if suffix is not None else f"e{exponent}")


def _binary_text(amount: Decimal) -> str | None:
    if -1024 < amount < 1024 or amount != amount.to_integral_value():
        return None  # shown in decimal, as kube does to avoid rounding
    number, power = abs(int(amount)), 0
    while number % 1024 == 0 and power < len(_BINARY_SUFFIXES) - 1:
        number, power = number // 1024, power + 1
    return ("-" if amount < 0 else "") + f"{number}{_BINARY_SUFFIXES[power]}"


def canonical_quantity(value: str | int | float, *, milli: bool = False) -> str:
    """The canonical text of a quantity (Quantity.String()), keeping its format.

    Values are rounded up (away from zero) to nano units, as kube's parser does, or to milli
    units with ``milli=True``, as kube's defaulting does for resource lists.
    """
    amount = parse_quantity(value)
    amount = amount.quantize(_MILLI if milli else _NANO, rounding=ROUND_UP)
    if amount == 0:
        return "0"
    form = _format_of(value)
    if form == "BinarySI" and (binary := _binary_text(amount)) is not None:
        return binary
    return _decimal_text(amount, exponent_form=form == "DecimalExponent")

"""Measured quantities that are linear combinations of combined values (issue 20).

An estimate need not measure one combined value: it may measure Σ_c a_c x̄_c — a total beside
the bins of a distribution (``sum_of``), a bin of a coarser measurement that spans several
combined bins (its width-weighted mean), any fixed linear combination. Such a combination is
a *linear quantity*, named, with its coefficients over the combined observables and the
estimates that measure it::

    {"total": {"sum_of": ["bin0", "bin1", "bin2"], "measured_by": ["ATLAS:total"]}}
    {"b01": {"coefficients": {"bin0": 0.25, "bin1": 0.75}, "measured_by": ["CMS:bin0"]}}

In the χ² (method.md, "Linear maps") the prediction of such an estimate is Σ_c a_c x̄_c: the
χ² stays quadratic for Neyman with absolute sources, solved exactly by one linear solve. The
combined value of the quantity itself (``report=True``, the default) is reported beside the
observables, with its covariance and correlations to every one of them.

This module only validates what the user wrote (:func:`linear_quantities`); names are
resolved by the combiner. It knows nothing of files, fits or results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .exceptions import InvalidArgument

__all__ = ["LinearQuantity", "linear_quantities"]

_KEYS = ("sum_of", "coefficients", "measured_by", "report")


@dataclass(frozen=True)
class LinearQuantity:
    """A combined linear quantity Σ_c a_c x̄_c.

    Attributes
    ----------
    coefficients:
        ``{observable: a_c}`` over combined observables.
    measured_by:
        The estimates (``"measurement:estimate"`` or unique bare names) that measure it.
    report:
        Whether the combined quantity is reported with the result (value, error, covariance
        and correlations to the observables).
    """

    coefficients: Mapping[str, float]
    measured_by: tuple[str, ...] = ()
    report: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "coefficients", dict(self.coefficients))
        object.__setattr__(self, "measured_by", tuple(self.measured_by))


def _quantity(name: str, spec: Any) -> LinearQuantity:
    where = f"linear quantity {name!r}"
    if isinstance(spec, LinearQuantity):
        return spec
    if not isinstance(spec, Mapping):
        raise InvalidArgument(
            f"{where}: give a mapping with 'sum_of' or 'coefficients' (and 'measured_by'), not "
            f"{type(spec).__name__}"
        )
    unknown = [k for k in spec if k not in _KEYS]
    if unknown:
        raise InvalidArgument(f"{where}: unknown keys {unknown}; the keys are {list(_KEYS)}")
    if ("sum_of" in spec) == ("coefficients" in spec):
        raise InvalidArgument(f"{where}: give exactly one of 'sum_of' and 'coefficients'")
    if "sum_of" in spec:
        members = spec["sum_of"]
        if isinstance(members, str) or not isinstance(members, Sequence) or not members:
            raise InvalidArgument(f"{where}: 'sum_of' is a non-empty list of observables")
        if len(set(map(str, members))) != len(members):
            raise InvalidArgument(f"{where}: 'sum_of' lists an observable twice")
        coefficients = {str(m): 1.0 for m in members}
    else:
        given = spec["coefficients"]
        if not isinstance(given, Mapping) or not given:
            raise InvalidArgument(
                f"{where}: 'coefficients' is a non-empty mapping {{observable: number}}"
            )
        coefficients = {}
        for k, v in given.items():
            try:
                a = float(v)
            except (TypeError, ValueError):
                raise InvalidArgument(
                    f"{where}: the coefficient of {k!r} is not a number: {v!r}"
                ) from None
            if not math.isfinite(a):
                raise InvalidArgument(f"{where}: the coefficient of {k!r} is {a}")
            coefficients[str(k)] = a
        if not any(coefficients.values()):
            raise InvalidArgument(f"{where}: every coefficient is zero")
    by = spec.get("measured_by", ())
    if isinstance(by, str):
        by = [by]
    if not isinstance(by, Sequence):
        raise InvalidArgument(f"{where}: 'measured_by' is a list of estimates")
    report = spec.get("report", True)
    if not isinstance(report, bool):
        raise InvalidArgument(f"{where}: 'report' is true or false, not {report!r}")
    return LinearQuantity(coefficients, tuple(str(e) for e in by), report)


def linear_quantities(linear: Mapping[str, Any] | None) -> dict[str, LinearQuantity]:
    """Validate ``{name: {sum_of | coefficients, measured_by, report}}`` (or
    :class:`LinearQuantity` values) into ``{name: LinearQuantity}``."""
    if not linear:
        return {}
    if not isinstance(linear, Mapping):
        raise InvalidArgument(
            f"linear must be a mapping {{name: {{sum_of: [...], measured_by: [...]}}}}, not "
            f"{type(linear).__name__}"
        )
    out = {}
    for name, spec in linear.items():
        name = str(name)
        if ":" in name:
            raise InvalidArgument(f"linear quantity name {name!r} must not contain ':'")
        out[name] = _quantity(name, spec)
    return out


def __dir__() -> list[str]:
    return list(__all__)

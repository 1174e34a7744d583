"""JSON output of a combination, documented by the schema ``hepcombine/schemas/result.json``.

:func:`result_to_dict` gives a JSON-ready ``dict``; :func:`dumps` the text. Every non-finite
number (a failed or skipped profile interval, the p-value for ndf = 0) becomes ``null``, so the
text is always valid JSON (``json.dumps(..., allow_nan=False)`` enforces it).

Layout (all mappings keyed by name; see the schema for every field)::

    {"hepcombine_version", "chi2_definition", "method",
     "combined": {NAME: {"value", "error", "interval": [low, high], "interval_status"}},
     "chi2", "ndf", "pvalue",
     "correlation": {"names", "matrix"}, "covariance": {...}, "full_correlation": {...},
     "correlation_assumptions": {...},
     "sources": {SOURCE: {"pull", "constraint"}},
     "breakdown": {COMPONENT: {NAME: sigma}}, "impacts": {GROUP: {NAME: sigma}},
     "weights": {NAME: {"measurement:estimate": w}},
     "spectators": {"measurement:estimate": {"value", "error"}},
     "correlation_repairs": [{"a", "b", "assumed", "used"}],
     "normalised": null | {"values": {NAME: v}, "errors": {NAME: e}, "covariance": {...}},
     "differential": {"bins": [NAME, ...], "binning": {"low", "high", "name", "label", "unit",
                      "is_index", "centers"?}, "quantity": {"label", "unit", "qualifiers"}}}

``"differential"`` is there only for a differential combination (schema version 1.1; version 1
files are version 1.1 files without it). With errors on errors (schema version 1.2) there are also
``"errors_on_errors": [{"entry", "kind", "eps", "sources", "n", "variance_factor"}]``,
``"bartlett": {"profile": {NAME: b}, "chi2", "applied", "goodness_of_fit", "pvalue"}`` and, per
combined value, ``"delta_chi2"``: the level of its ``"interval"`` (1, or b with ``--bartlett``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._version import __version__

if TYPE_CHECKING:
    from ..blue.result import BlueResult
    from ..differential import DifferentialResult
    from ..result import CombinationResult
    from ..scan import ScanResult

__all__ = [
    "SCHEMA_VERSION",
    "blue_to_dict",
    "differential_to_dict",
    "dumps",
    "finite_or_none",
    "load_schema",
    "result_to_dict",
    "scans_to_dict",
]

#: Version of the layout documented in ``schemas/result.json`` (results without errors on
#: errors are written as version 1.1, which they are).
SCHEMA_VERSION = "1.2"


def _f(value: Any) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def finite_or_none(obj: Any) -> Any:
    """A copy of ``obj`` (nested dicts, lists, tuples, numbers, numpy scalars/arrays) with every
    non-finite float replaced by ``None`` and numpy types converted to Python ones."""
    if isinstance(obj, dict):
        return {str(k): finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        if all(type(v) is float for v in obj):  # fast path: rows of matrices
            if all(map(math.isfinite, obj)):
                return list(obj)
            return [v if math.isfinite(v) else None for v in obj]
        return [finite_or_none(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, str | bytes):  # numpy array or scalar
        return finite_or_none(obj.tolist())
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj


def differential_to_dict(differential: DifferentialResult) -> dict[str, Any]:
    """The ``"differential"`` entry: the bins (observables in bin order), their binning and
    what the values are."""
    q = differential.quantity
    return {
        "bins": list(differential.observables),
        "binning": differential.binning.to_dict(),
        "quantity": {
            "label": q.label,
            "unit": q.unit,
            "qualifiers": [
                {"name": x.name, "value": x.value, "unit": x.unit} for x in q.qualifiers
            ],
        },
    }


def result_to_dict(
    result: CombinationResult,
    *,
    normalised: Any = None,
    config: str | None = None,
    differential: DifferentialResult | None = None,
) -> dict[str, Any]:
    """The JSON-ready content of ``result`` (layout in the module docstring and the schema).

    ``normalised``: ``(values, covariance)`` of the normalised distribution, as for
    :func:`hepcombine.outputs.text.format_result`; ``config``: the configuration file, recorded
    as ``"config"``; ``differential``: the result as a distribution (its bins, binning and
    quantity are recorded as ``"differential"``).
    """
    from .text import normalised_arrays

    combined = {}
    for o in result.observables:
        lo, hi = result.intervals[o] if result.has_interval(o) else (math.nan, math.nan)
        combined[o] = {
            "value": _f(result.values[o]),
            "error": _f(result.errors[o]),
            "interval": [_f(lo), _f(hi)],
            "interval_status": str(result.interval_status[o]),
        }
        if result.errors_on_errors:
            combined[o]["delta_chi2"] = _f(result.interval_levels[o])
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION if result.errors_on_errors else "1.1",
        "hepcombine_version": __version__,
        **({} if config is None else {"config": str(config)}),
        "chi2_definition": result.chi2_definition,
        "method": result.method,
        "combined": combined,
        "chi2": _f(result.chi2),
        "ndf": int(result.ndf),
        "pvalue": _f(result.pvalue),
        "correlation": result.correlation.to_dict(),
        "covariance": result.covariance.to_dict(),
        "full_correlation": result.full_correlation.to_dict(),
        "correlation_assumptions": result.correlation_assumptions.to_dict(),
        "sources": {
            s: {"pull": _f(result.pulls[s]), "constraint": _f(result.constraints[s])}
            for s in result.pulls
        },
        "breakdown": result.breakdown.to_dict(),
        "impacts": result.impacts.to_dict(),
        "weights": result.weights.to_dict(),
        "spectators": {
            s: {"value": _f(v), "error": _f(e)} for s, (v, e) in result.spectators.items()
        },
        "correlation_repairs": [
            {"a": a, "b": b, "assumed": _f(assumed), "used": _f(used)}
            for (a, b), (assumed, used) in result.correlation_repairs.items()
        ],
        "normalised": None,
    }
    if normalised is not None:
        vals, cov = normalised_arrays(result, normalised)
        names = list(result.observables)
        out["normalised"] = {
            "values": dict(zip(names, vals, strict=True)),
            "errors": {n: math.sqrt(max(cov[i][i], 0.0)) for i, n in enumerate(names)},
            "covariance": {"names": names, "matrix": cov},
        }
    if differential is not None:
        out["differential"] = differential_to_dict(differential)
    if result.errors_on_errors:
        out["errors_on_errors"] = [t.to_dict() for t in result.errors_on_errors]
        out["bartlett"] = None if result.bartlett is None else result.bartlett.to_dict()
    return finite_or_none(out)


def scans_to_dict(
    scans: Sequence[ScanResult], chi2_definition: str, *, config: str | None = None
) -> dict[str, Any]:
    """The JSON-ready content of correlation scans (each :meth:`ScanResult.to_dict
    <hepcombine.scan.ScanResult.to_dict>`)."""

    out: dict[str, Any] = {"hepcombine_version": __version__}
    if config is not None:
        out["config"] = str(config)
    out["chi2_definition"] = chi2_definition
    out["scans"] = [s.to_dict() for s in scans]
    return finite_or_none(out)


def blue_to_dict(result: BlueResult, **extra: Any) -> dict[str, Any]:
    """The JSON-ready content of a BLUE result (by name; NaN as ``None``); ``extra`` entries
    (e.g. the input files) are added at the top level."""

    obs = list(result.observables)
    out: dict[str, Any] = {
        "hepcombine_version": __version__,
        "method": result.method,
        "combined": {o: {"value": result.values[o], "error": result.errors[o]} for o in obs},
        "breakdown": {o: result.breakdown.column(o) for o in obs},
        "weights": result.weights.to_dict(),
        "chi2": result.chi2,
        "ndf": result.ndf,
        "pvalue": result.pvalue,
        "correlation": result.correlation.to_dict(),
        "covariance": result.covariance.to_dict(),
        **extra,
    }
    return finite_or_none(out)


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """JSON text of ``data`` with non-finite numbers as ``null`` (never ``NaN``)."""
    return (
        json.dumps(finite_or_none(data), indent=indent, allow_nan=False, ensure_ascii=False) + "\n"
    )


def load_schema() -> dict[str, Any]:
    """The JSON schema (Draft 2020-12) of :func:`result_to_dict`'s output."""
    from importlib import resources

    text = resources.files("hepcombine").joinpath("schemas/result.json").read_text()
    return json.loads(text)


def __dir__() -> list[str]:
    return list(__all__)

"""Write combinations and their inputs as YODA text (Rivet reference data).

:func:`combination_object` makes the combined distribution a
:class:`~hepcombine.inputs.yoda.YodaObject` with one error source per component of the
uncertainty breakdown (``errors="breakdown"``: ``stat`` and ``sys,<component>``, symmetric; they
add up in quadrature to the symmetric error, which is what Rivet compares with), or with the
total only (``errors="profile"``: the asymmetric 68 % profile interval; ``"hesse"``: the
symmetric error). :func:`measurement_objects` makes the input measurements objects on the same
bins, for comparison (statistical error and each source's up and down shift as the measurement
gives them). :func:`format_yoda` writes objects as text:

* ``format="yoda2"`` (Rivet 4): ``ESTIMATE1D_V3`` blocks (``Edges(A1)``, ``ErrorLabels``, one
  row per bin with the flow bins, ``MaskedBins`` for gaps between bins), or
  ``BINNEDESTIMATE<S>_V3`` with the observables' names as the axis for a combination that is not
  a distribution;
* ``format="yoda1"`` (Rivet 3): ``SCATTER2D_V2`` blocks with the breakdown in the
  ``ErrorBreakdown`` annotation and the point errors their quadrature sum.

Numbers are written with the shortest text that reads back to the same double (``repr``), so
:func:`hepcombine.inputs.yoda.read_yoda` gives back exactly what was written. YODA holds no
correlations between bins: the covariance of the combination goes to the JSON, ROOT and HEPData
outputs (and the HS3 file, :mod:`hepcombine.outputs.hs3`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..binning import Binning, Quantity, as_1d
from ..exceptions import IntervalError, OutputError
from ..inputs.yoda import YodaObject

if TYPE_CHECKING:
    from ..result import CombinationResult
    from ..spec import CombinationSpec

__all__ = [
    "combination_object",
    "combination_yoda",
    "format_yoda",
    "measurement_objects",
]

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
Errors = Literal["breakdown", "profile", "hesse"]
Format = Literal["yoda2", "yoda1"]
_FORMATS = ("yoda2", "yoda1")


# ---------------------------------------------------------------------- objects
def _kind(binning: Binning | None, fmt: str) -> str:
    if fmt == "yoda1":
        return "SCATTER2D"
    return "BINNEDESTIMATE<S>" if binning is None else "ESTIMATE1D"


def _object(
    path: str,
    values: FloatArray,
    errors: dict[str, tuple[FloatArray, FloatArray]],
    binning: Binning | None,
    names: Sequence[str],
    title: str,
    fmt: str,
    extra: Mapping[str, Any] = (),  # type: ignore[assignment]
) -> YodaObject:
    if fmt not in _FORMATS:
        raise OutputError(f"format must be one of {list(_FORMATS)}, not {fmt!r}")
    if not path.startswith("/") or any(c.isspace() for c in path):
        raise OutputError(f"a YODA path starts with '/' and has no spaces, not {path!r}")
    kind = _kind(binning, fmt)
    annotations: dict[str, Any] = {
        "Path": path,
        "Title": title,
        "Type": {"ESTIMATE1D": "Estimate1D", "BINNEDESTIMATE<S>": "BinnedEstimate<s>"}.get(
            kind, "Scatter2D"
        ),
        **dict(extra),
    }
    if binning is None:
        binning_out = Binning.index(len(values))
        labels = tuple(names)
    else:
        binning_out, labels = binning, ()
    for lab, (u, d) in errors.items():
        if not (np.all(np.isfinite(u)) and np.all(np.isfinite(d))):
            raise OutputError(f"{path}: the error {lab!r} is not finite in every bin")
    if not np.all(np.isfinite(values)):
        raise OutputError(f"{path}: a value is not finite")
    return YodaObject(
        path, kind, 3 if fmt == "yoda2" else 2, annotations, binning_out, values, errors, labels
    )


def _components(
    result: CombinationResult, obs: Sequence[str]
) -> dict[str, tuple[FloatArray, FloatArray]]:
    table = result.breakdown
    if not table.rows:
        raise OutputError(
            "the result has no uncertainty breakdown (combined with decompositions=False); "
            "write errors='profile' or 'hesse'"
        )
    out: dict[str, tuple[FloatArray, FloatArray]] = {}
    for comp in table.rows:
        sigma = np.array([table[comp, o] for o in obs])
        negative = np.flatnonzero(sigma < 0)
        if negative.size:
            raise OutputError(
                f"the breakdown component {comp!r} has a negative variance (σ = "
                f"{sigma[negative[0]]:.4g} for {obs[negative[0]]!r}): it cannot be a YODA error "
                "source (Rivet adds sources in quadrature); write the total instead "
                "(errors='profile' or 'hesse', on the command line --yoda-errors)"
            )
        out["stat" if comp == "stat" else f"sys,{comp}"] = (sigma, -sigma)
    return out


def combination_object(
    result: CombinationResult,
    observables: Sequence[str] | None = None,
    *,
    binning: Binning | None = None,
    quantity: Quantity | None = None,
    path: str = "/REF/HEPCOMBINE/combined",
    errors: Errors = "breakdown",
    format: Format = "yoda2",
    title: str = "",
) -> YodaObject:
    """The combined values as a YODA object.

    Parameters
    ----------
    result:
        The combination.
    observables:
        The observables in bin order (default: all, in the result's order).
    binning:
        Their bins (a distribution); ``None``: the observables' names are the bins (a
        ``BINNEDESTIMATE<S>`` in YODA 2, numbered points in YODA 1).
    quantity:
        What the values are (its title is the object's ``Title`` unless ``title`` is given).
    path:
        The object's path; Rivet reference data live at ``/REF/<ANALYSIS>/<name>``.
    errors:
        ``"breakdown"`` (one source per breakdown component; raises
        :class:`~hepcombine.exceptions.OutputError` for a component with a negative variance),
        ``"profile"`` (the profile interval as the only, asymmetric, source ``total``; raises
        :class:`~hepcombine.exceptions.IntervalError` where an observable has none) or
        ``"hesse"`` (the symmetric error as ``total``).
    format:
        ``"yoda2"`` or ``"yoda1"`` (see the module docstring).
    """
    obs = list(result.observables if observables is None else observables)
    values = np.array([result.values[o] for o in obs])
    if errors == "breakdown":
        errs = _components(result, obs)
        how = "uncertainty breakdown (stat and sys,<component>; quadrature sum = symmetric error)"
    elif errors == "profile":
        bad = [o for o in obs if not result.has_interval(o)]
        if bad:
            raise IntervalError(
                f"no valid profile interval for {bad[:5]}: write errors='hesse' or 'breakdown'"
            )
        lo = np.array([result.intervals[o][0] for o in obs])
        hi = np.array([result.intervals[o][1] for o in obs])
        errs = {"total": (hi - values, lo - values)}
        how = "68% profile-likelihood interval (Delta chi2 = 1)"
    elif errors == "hesse":
        e = np.array([result.errors[o] for o in obs])
        errs = {"total": (e, -e)}
        how = "symmetric (Hesse) error"
    else:
        raise OutputError(f"errors must be 'breakdown', 'profile' or 'hesse', not {errors!r}")
    if binning is not None and binning.n_bins != len(obs):
        raise OutputError(f"{len(obs)} observables but the binning has {binning.n_bins} bins")
    q = quantity or Quantity()
    extra = {
        "IsRef": 1,
        "HepcombineErrors": how,
        "HepcombineChi2": f"{result.chi2:.6g} / {result.ndf} ({result.chi2_definition})",
    }
    return _object(
        path, values, errs, binning, obs, title or q.title or "combination", format, extra
    )


def _input_bins(
    spec: CombinationSpec, observables: Sequence[str]
) -> dict[str, list[tuple[int, int]]]:
    """Per measurement, ``[(position of its estimate, bin)]`` in bin order, for measurements
    whose every estimate is one bin of its own."""
    refs: dict[str, str] = {}
    if spec.observables:
        for o, members in spec.observables.items():
            for r in members:
                refs[r] = o
    position = {o: i for i, o in enumerate(observables)}
    out: dict[str, list[tuple[int, int]]] = {}
    for mname, m in spec.measurements.items():
        pairs: list[tuple[int, int]] = []
        for k, e in enumerate(m.estimate_names):
            target: str | None = refs.get(f"{mname}:{e}") if spec.observables else e
            if target is None or target not in position:
                pairs = []
                break
            pairs.append((k, position[target]))
        if not pairs or len({b for _, b in pairs}) != len(pairs):
            log.warning(
                "measurement %r: its estimates are not one bin each of the combination; it is "
                "left out of the YODA file",
                mname,
            )
            continue
        out[mname] = sorted(pairs, key=lambda p: p[1])
    return out


def measurement_objects(
    spec: CombinationSpec,
    observables: Sequence[str],
    *,
    binning: Binning | None = None,
    analysis: str = "HEPCOMBINE",
    format: Format = "yoda2",
) -> list[YodaObject]:
    """The input measurements of ``spec`` as YODA objects ``/REF/<analysis>/<measurement>`` on
    the bins of the combination (``observables`` in bin order, their ``binning``), for
    comparison: the statistical error (``stat``, √diag of the statistical covariance) and each
    source's up and down shift as written in the measurement (relative sources at the measured
    value). A measurement with correlated statistical uncertainties or its own constraints on its
    sources (a Hessian input) says so in the annotation ``HepcombineNote``: YODA holds neither.
    Measurements whose estimates are not one bin each are left out (logged)."""
    out = []
    for mname, pairs in _input_bins(spec, observables).items():
        m = spec.measurements[mname]
        rows = [k for k, _ in pairs]
        bins = [b for _, b in pairs]
        cov = m.stat_covariance[np.ix_(rows, rows)]
        errs: dict[str, tuple[FloatArray, FloatArray]] = {}
        s = np.sqrt(np.diag(cov))
        errs["stat"] = (s, -s)
        for j, src in enumerate(m.source_names):
            errs[src] = (m.shifts_up[rows, j].copy(), m.shifts_down[rows, j].copy())
        notes = []
        if np.any(np.abs(cov - np.diag(np.diag(cov))) > 1e-12 * np.max(np.abs(cov))):
            notes.append("statistical correlations between bins are not represented")
        if np.any(m.source_information != 0):
            notes.append(
                "the measurement's own constraints on its sources (Hessian input) are not "
                "represented; the errors are the conditional shifts"
            )
        extra: dict[str, Any] = {"HepcombineInput": mname}
        if notes:
            extra["HepcombineNote"] = "; ".join(notes)
        sub = binning.select(bins) if binning is not None else None
        names = [observables[b] for b in bins]
        out.append(
            _object(
                f"/REF/{analysis}/{mname}",
                m.estimates[rows].copy(),
                errs,
                sub,
                names,
                f"input {mname}",
                format,
                extra,
            )
        )
    return out


def combination_yoda(
    result: CombinationResult,
    spec: CombinationSpec,
    *,
    analysis: str = "HEPCOMBINE",
    errors: Errors = "breakdown",
    format: Format = "yoda2",
    inputs: bool = True,
) -> str:
    """The YODA text of a combination of ``spec``: the combined distribution
    ``/REF/<analysis>/combined`` (:func:`combination_object`, on the specification's bins for a
    differential specification) and, with ``inputs``, the input measurements
    (:func:`measurement_objects`)."""
    from .combination import differential_result

    if not analysis or any(c.isspace() or c == "/" for c in analysis):
        raise OutputError(f"the analysis name {analysis!r} must be one word without '/'")
    dr = differential_result(result, spec)
    if dr is not None:
        obs = list(dr.observables)
        binning: Binning | None = as_1d(dr.binning)
        quantity = dr.quantity
    else:
        obs, binning, quantity = list(result.observables), None, None
    objects = [
        combination_object(
            result,
            obs,
            binning=binning,
            quantity=quantity,
            path=f"/REF/{analysis}/combined",
            errors=errors,
            format=format,
        )
    ]
    if inputs:
        objects += measurement_objects(spec, obs, binning=binning, analysis=analysis, format=format)
    return format_yoda(objects)


# ---------------------------------------------------------------------- text
def _num(v: float) -> str:
    return repr(float(v)) if math.isfinite(v) else ("nan" if math.isnan(v) else repr(float(v)))


def _yaml(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(
        value, default_flow_style=True, width=math.inf, allow_unicode=True, sort_keys=False
    )
    text = text.strip()
    if text.endswith("\n..."):
        text = text[:-4].strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return text


def _annotation_lines(annotations: Mapping[str, Any]) -> list[str]:
    out = []
    for key in sorted(annotations):
        if not key or any(c.isspace() for c in key) or ":" in key:
            raise OutputError(f"annotation key {key!r} must be one word without ':'")
        value = annotations[key]
        if value is None or value == "":
            out.append(f"{key}:")
        elif key == "Variations" and value == [""]:
            out.append('Variations: [""]')
        else:
            out.append(f"{key}: {_yaml(value)}")
    return out


def _estimate_text(obj: YodaObject) -> list[str]:
    assert obj.binning is not None
    labels = list(obj.errors)
    lines = [f"BEGIN YODA_{obj.kind}_V3 {obj.path}", *_annotation_lines(obj.annotations), "---"]
    n_cols = 2 * len(labels)
    empty = "\t".join(["nan", *(["---"] * n_cols)])
    masked: list[int] = []
    if obj.bin_labels:
        lines.append(f"Edges(A1): [{', '.join(json.dumps(s) for s in obj.bin_labels)}]")
        where = list(range(len(obj.values)))
        n_rows = len(obj.values)
        first = [empty]  # the "otherflow" bin
        last: list[str] = []
    else:
        b = obj.binning
        if b.is_contiguous:
            edges, where_arr = b.edges, np.arange(b.n_bins)
        else:
            edges, where_arr = b.filled_edges()
        where = [int(w) for w in where_arr]
        n_rows = len(edges) - 1
        masked = [i + 1 for i in range(n_rows) if i not in set(where)]
        lines.append(f"Edges(A1): [{', '.join(_num(e) for e in edges)}]")
        first, last = [empty], [empty]
    if masked:
        lines.append(f"MaskedBins: [{', '.join(str(m) for m in masked)}]")
    lines.append(f"ErrorLabels: [{', '.join(json.dumps(lab) for lab in labels)}]")
    head = "\t".join(
        ["# value", *(f"err{s}({k + 1})" for k in range(len(labels)) for s in ("Dn", "Up"))]
    )
    lines.append(head)
    rows = [empty] * n_rows
    for i, row in enumerate(where):
        cells = [_num(obj.values[i])]
        for lab in labels:
            u, d = obj.errors[lab]
            cells += [_num(d[i]), _num(u[i])]
        rows[row] = "\t".join(cells)
    lines += first + rows + last
    lines.append(f"END YODA_{obj.kind}_V3")
    return lines


def _scatter_text(obj: YodaObject) -> list[str]:
    assert obj.binning is not None
    b = obj.binning
    x = b.bin_centers
    if b.is_index and b.centers is not None:  # points without bins
        low = high = x
    else:
        low, high = b.low, b.high
    breakdown = {
        i: {lab: {"dn": float(d[i]), "up": float(u[i])} for lab, (u, d) in obj.errors.items()}
        for i in range(len(obj.values))
    }
    annotations = {**obj.annotations, "ErrorBreakdown": breakdown, "Variations": [""]}
    lines = [
        f"BEGIN YODA_SCATTER2D_V{obj.version} {obj.path}",
        *_annotation_lines(annotations),
        "---",
    ]
    lines.append("# xval\t xerr-\t xerr+\t yval\t yerr-\t yerr+\t")
    for i in range(len(obj.values)):
        dn = math.sqrt(sum(float(d[i]) ** 2 for _, d in obj.errors.values()))
        up = math.sqrt(sum(float(u[i]) ** 2 for u, _ in obj.errors.values()))
        cells = [x[i], x[i] - low[i], high[i] - x[i], obj.values[i], dn, up]
        lines.append("\t".join(_num(c) for c in cells))
    lines.append(f"END YODA_SCATTER2D_V{obj.version}")
    return lines


def format_yoda(objects: Iterable[YodaObject]) -> str:
    """YODA text of ``objects`` (estimates as ``_V3`` blocks, scatters as ``SCATTER2D_V2``);
    a path may appear once."""
    blocks = []
    seen: set[str] = set()
    for obj in objects:
        if obj.path in seen:
            raise OutputError(f"two YODA objects have the path {obj.path!r}")
        seen.add(obj.path)
        if obj.kind in (
            "ESTIMATE1D",
            "BINNEDESTIMATE<D>",
            "BINNEDESTIMATE<S>",
            "BINNEDESTIMATE<I>",
        ):
            blocks.append("\n".join(_estimate_text(obj)))
        elif obj.kind == "SCATTER2D":
            blocks.append("\n".join(_scatter_text(obj)))
        else:
            raise OutputError(
                f"{obj.path}: a {obj.kind} cannot be written (estimates and scatters only)"
            )
    return "\n\n".join(blocks) + "\n"


def __dir__() -> list[str]:
    return list(__all__)

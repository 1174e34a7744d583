"""Plain-text reports: the content of Convino's ``result.txt`` and the BLUE summary.

:func:`format_blue` is the text of a BLUE result (``hepcombine blue``). :func:`format_result` turns a :class:`~hepcombine.result.CombinationResult` into fixed-width
text. Every row and column is labelled by name. Sections, in order:

1. header (version, χ² definition, method, configuration file and measurements if a
   specification is given);
   then, when given, the normalised values and their covariance (first, as convino prints
   them);
2. combined values: value, asymmetric (profile-likelihood, Δχ² = 1) errors, symmetric (Hesse)
   error and the status of the interval;
3. correlation and covariance of the combined values;
4. χ²_min, ndf and p-value;
5. spectators (estimates combined with nothing);
6. pre-fit (assumed) correlations of the sources: only the non-trivial part, i.e. the matrix of
   the sources that have a non-zero assumed correlation with another source when there are at
   most :data:`MAX_MATRIX` of them, otherwise the list of pairs;
7. post-fit correlations of the sources: the matrix for at most :data:`MAX_MATRIX` sources,
   otherwise the pairs with ``|ρ| ≥`` :data:`PAIR_THRESHOLD` (largest first);
8. pulls and constraints of the sources;
9. the uncertainty breakdown, whose components add up in quadrature to the total exactly for a
   quadratic χ² (Neyman, absolute symmetric sources; see :func:`is_quadratic`) and
   approximately otherwise (the decomposition of the χ² linearised at the minimum); the report
   prints the quadrature sum next to the total and says which case it is;
10. Convino's impacts, a separate table that does not add up;
11. the weights of the inputs (for at most :data:`MAX_MATRIX` observables; all of them are in
    the JSON output);
12. repaired correlation assumptions, if any.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..exceptions import InvalidArgument

if TYPE_CHECKING:
    from ..blue.result import BlueResult
    from ..result import CombinationResult
    from ..spec import CombinationSpec

__all__ = [
    "MAX_MATRIX",
    "PAIR_THRESHOLD",
    "format_blue",
    "format_result",
    "is_quadratic",
    "normalised_arrays",
]

#: Largest number of rows/columns printed as a matrix; larger sets are printed as pairs.
MAX_MATRIX = 12
#: Post-fit correlations of the sources below this magnitude are not listed as pairs.
PAIR_THRESHOLD = 0.05
_LINE_WIDTH = 110
_RULE = "=" * 78


def _num(value: float, spec: str = ".6g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return format(value, spec)


def _grid(
    rows: Sequence[str],
    columns: Sequence[str],
    entry: Any,
    spec: str | Sequence[str] = ".6g",
    *,
    corner: str = "",
) -> list[str]:
    """A fixed-width table, rows and columns labelled by name; ``entry(i, j)`` gives a number.

    Columns that do not fit into the line width continue in further blocks below."""
    specs = [spec] * len(columns) if isinstance(spec, str) else list(spec)
    cells = [
        [_num(float(entry(i, j)), specs[j]) for j in range(len(columns))] for i in range(len(rows))
    ]
    row_w = max([len(corner), *map(len, rows)]) if rows else len(corner)
    widths = [
        max(len(c), *(len(cells[i][j]) for i in range(len(rows))), 9) if rows else len(c)
        for j, c in enumerate(columns)
    ]
    out: list[str] = []
    start = 0
    while start < len(columns):
        stop, width = start, row_w + 2
        while stop < len(columns) and (stop == start or width + widths[stop] + 2 <= _LINE_WIDTH):
            width += widths[stop] + 2
            stop += 1
        if start:
            out.append("")
        out.append(
            f"  {corner:<{row_w}}"
            + "".join(f"  {columns[j]:>{widths[j]}}" for j in range(start, stop))
        )
        for i, r in enumerate(rows):
            out.append(
                f"  {r:<{row_w}}"
                + "".join(f"  {cells[i][j]:>{widths[j]}}" for j in range(start, stop))
            )
        start = stop
    return out


def _section(title: str) -> list[str]:
    return ["", title, "-" * len(title)]


def _pairs(names: Sequence[str], matrix: Any, threshold: float) -> list[tuple[str, str, float]]:
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            rho = float(matrix[i][j])
            if abs(rho) >= threshold and rho != 0.0:
                out.append((names[i], names[j], rho))
    return out


def _pair_lines(pairs: list[tuple[str, str, float]], limit: int | None = None) -> list[str]:
    if not pairs:
        return ["  (none)"]
    shown = pairs if limit is None else pairs[:limit]
    wa = max(len(a) for a, _, _ in shown)
    wb = max(len(b) for _, b, _ in shown)
    lines = [f"  {a:<{wa}}  ~  {b:<{wb}}  {rho:+.4f}" for a, b, rho in shown]
    if limit is not None and len(pairs) > limit:
        lines.append(f"  … and {len(pairs) - limit} more pairs (all are in the JSON output)")
    return lines


def normalised_arrays(
    result: CombinationResult, normalised: Any
) -> tuple[list[float], list[list[float]]]:
    """``(values, covariance)`` as lists in the order of ``result.observables`` from what a
    caller passes as ``normalised``: a pair ``(values, covariance)`` whose values are a
    sequence or a mapping by observable and whose covariance is an array-like or a
    :class:`~hepcombine.result.NamedMatrix`."""
    values, cov = normalised
    names = list(result.observables)
    if isinstance(values, Mapping):
        vals = [float(values[n]) for n in names]
    else:
        vals = [float(v) for v in values]
    if hasattr(cov, "names") and hasattr(cov, "sub"):
        matrix = cov.sub(names).matrix.tolist()
    else:
        matrix = [[float(x) for x in row] for row in cov]
    if len(vals) != len(names) or len(matrix) != len(names):
        raise InvalidArgument(
            f"normalised values/covariance have {len(vals)}/{len(matrix)} entries for "
            f"{len(names)} observables"
        )
    return vals, matrix


def is_quadratic(result: CombinationResult) -> bool:
    """Whether ``result`` comes from a quadratic χ² (Neyman with absolute symmetric sources),
    i.e. its profile intervals are exact (``interval_status`` ``"exact"`` everywhere): only then
    does the breakdown add up in quadrature exactly."""
    return all(s == "exact" for s in result.interval_status.values())


def _stat_label(spec: CombinationSpec | None) -> str:
    """``stat`` or, when the configuration names a stat-only impacts group, ``stat [group]``."""
    named = [] if spec is None else spec.stat_groups()
    return f"stat [{', '.join(named)}]" if named else "stat"


def format_result(
    result: CombinationResult,
    *,
    spec: CombinationSpec | None = None,
    normalised: Any = None,
) -> str:
    """The Convino-style ``result.txt`` content of ``result`` (see the module docstring).

    ``spec`` adds the configuration file and the measurements to the header and labels the
    statistical component with the name of a stat-only impacts group. ``normalised`` is
    ``(values, covariance)`` of the normalised distribution (see :func:`normalised_arrays`).
    """

    obs = list(result.observables)
    lines = [_RULE, f"hepcombine {__version__}: result of the combination", _RULE]
    lines.append(f"χ² definition: {result.chi2_definition} (minimum by {result.method})")
    if spec is not None:
        if spec.source:
            lines.append(f"configuration: {spec.source}")
        for mname, m in spec.measurements.items():
            lines.append(
                f"measurement {mname}: {len(m.estimate_names)} estimate(s), "
                f"{len(m.source_names)} source(s)"
            )
        for o, refs in spec.observables.items():
            lines.append(f"observable {o} = {' + '.join(refs)}")
        for q, lq in spec.linear.items():  # sums of bins, totals (linear maps)
            terms = " + ".join(f"{a:.6g}*{o}" for o, a in lq.coefficients.items())
            by = ", ".join(lq.measured_by) or "nothing"
            lines.append(f"linear {q} = {terms}, measured by {by}")

    # the normalised distribution first, as convino prints it
    if normalised is not None:
        vals, ncov = normalised_arrays(result, normalised)
        lines += _section("Normalised values (unit sum) and their covariance")
        lines += _grid(
            obs,
            ["value", "±error"],
            lambda i, j: vals[i] if j == 0 else math.sqrt(max(ncov[i][i], 0.0)),
            ".6g",
            corner="observable",
        )
        lines.append("")
        lines += _grid(obs, obs, lambda i, j: ncov[i][j], ".6g")

    # combined values
    lines += _section("Combined values (asymmetric: profile likelihood, Δχ² = 1; symmetric: Hesse)")
    w = max(len("observable"), *map(len, obs))
    lines.append(
        f"  {'observable':<{w}}  {'value':>13}  {'-error':>11}  {'+error':>11}  "
        f"{'±error':>11}  interval"
    )
    for o in obs:
        v = result.values[o]
        lo, hi = result.intervals[o]
        status = result.interval_status[o]
        ok = result.has_interval(o)
        minus = _num(v - lo) if ok else "n/a"
        plus = _num(hi - v) if ok else "n/a"
        lines.append(
            f"  {o:<{w}}  {_num(v):>13}  {'-' + minus if ok else minus:>11}  "
            f"{'+' + plus if ok else plus:>11}  {_num(result.errors[o]):>11}  {status}"
        )

    lines += _section("Correlation of the combined values")
    corr = result.correlation.matrix
    lines += _grid(obs, obs, lambda i, j: corr[i, j], "+.4f")
    lines += _section("Covariance of the combined values")
    cov = result.covariance.matrix
    lines += _grid(obs, obs, lambda i, j: cov[i, j], ".6g")

    lines += _section("Goodness of fit")
    lines.append(f"  χ²_min  = {_num(result.chi2)}")
    lines.append(f"  ndf     = {result.ndf}")
    lines.append(f"  p-value = {_num(result.pvalue, '.4g')}")

    if result.spectators:
        lines += _section("Spectators (estimates combined with nothing)")
        ws = max(len(s) for s in result.spectators)
        for s, (v, e) in result.spectators.items():
            lines.append(f"  {s:<{ws}}  {_num(v):>13}  ± {_num(e)}")

    sources = list(result.pulls)
    if sources:
        # pre-fit
        lines += _section("Pre-fit correlations of the sources (assumed; non-zero pairs only)")
        pre = result.correlation_assumptions
        pre_pairs = _pairs(pre.names, pre.matrix, 0.0)
        involved = [n for n in pre.names if any(n in (a, b) for a, b, _ in pre_pairs)]
        if pre_pairs and len(involved) <= MAX_MATRIX:
            sub = pre.sub(involved).matrix
            lines += _grid(involved, involved, lambda i, j: sub[i, j], "+.4f")
        else:
            lines += _pair_lines(pre_pairs)
        # post-fit
        full = result.full_correlation
        post = full.sub(sources).matrix
        if len(sources) <= MAX_MATRIX:
            lines += _section("Post-fit correlations of the sources")
            lines += _grid(sources, sources, lambda i, j: post[i, j], "+.4f")
        else:
            lines += _section(
                f"Post-fit correlations of the sources (pairs with |ρ| ≥ {PAIR_THRESHOLD})"
            )
            pairs = sorted(_pairs(sources, post, PAIR_THRESHOLD), key=lambda p: -abs(p[2]))
            lines += _pair_lines(pairs, limit=100)
        # pulls
        lines += _section("Pulls and constraints of the sources (in units of the prior σ)")
        lines += _grid(
            sources,
            ["pull", "constraint"],
            lambda i, j: result.pulls[sources[i]] if j == 0 else result.constraints[sources[i]],
            ["+.4f", ".4f"],
            corner="source",
        )

    # breakdown
    b = result.breakdown
    stat_label = _stat_label(spec)
    rows = [stat_label if r == "stat" else r for r in b.rows]
    quadratic = is_quadratic(result)
    lines += _section(
        "Uncertainty breakdown (σ per component; "
        + (
            "adds up in quadrature to the total: quadratic χ²)"
            if quadratic
            else "adds up in quadrature only approximately: χ² not quadratic, linearised at "
            "the minimum)"
        )
    )
    bm = b.matrix
    quad = [
        math.sqrt(max(sum(math.copysign(x * x, x) for x in bm[:, j]), 0.0))
        for j in range(len(b.columns))
    ]
    lines += _grid(
        [*rows, "total (±error)", "quadrature sum"],
        list(b.columns),
        lambda i, j: (
            bm[i, j]
            if i < len(rows)
            else (result.errors[b.columns[j]] if i == len(rows) else quad[j])
        ),
        ".5g",
        corner="component",
    )

    im = result.impacts
    lines += _section(
        "Impacts (Convino: √(σ² − σ²(group fixed)); stat: all sources fixed; do NOT add up)"
    )
    imm = im.matrix
    lines += _grid(
        [stat_label if r == "stat" else r for r in im.rows],
        list(im.columns),
        lambda i, j: imm[i, j],
        ".5g",
        corner="group",
    )

    wt = result.weights
    lines += _section("Weights of the inputs (∂ combined value / ∂ estimate)")
    if len(wt.rows) <= MAX_MATRIX:
        wm = wt.matrix
        lines += _grid(
            list(wt.columns), list(wt.rows), lambda i, j: wm[j, i], "+.5f", corner="input"
        )
    else:
        lines.append(f"  ({len(wt.rows)} observables: the weights are in the JSON output)")

    if result.correlation_repairs:
        lines += _section("Correlation assumptions repaired (assumed → used)")
        for (a, bb), (assumed, used) in result.correlation_repairs.items():
            lines.append(f"  {a} ~ {bb}: {assumed:+.4f} → {used:+.4f}")
    lines.append("")
    return "\n".join(lines)


def format_blue(result: BlueResult) -> str:
    """The text of a BLUE result: per observable its value ± error, the uncertainty per
    source and the weights; then χ²/ndf and the p-value."""
    lines = []
    for o in result.observables:
        lines.append(f"{o} = {result.values[o]:.8g} ± {result.errors[o]:.6g}")
        bd = result.breakdown.column(o)
        w = max(len(s) for s in bd) if bd else 0
        lines.append("  uncertainty breakdown:")
        lines += [f"    {s:<{w}}  {v:10.5g}" for s, v in bd.items()]
        wt = result.weights[o]
        w = max(len(m) for m in wt)
        lines.append("  weights:")
        lines += [f"    {m:<{w}}  {v:+.5f}" for m, v in wt.items()]
    p = result.pvalue
    lines.append(
        f"chi2/ndf = {result.chi2:.5g}/{result.ndf}, p = "
        + ("n/a" if not math.isfinite(p) else f"{p:.4g}")
    )
    return "\n".join(lines) + "\n"


def __dir__() -> list[str]:
    return list(__all__)

"""Compatibility diagnostics as text, LaTeX and Markdown tables, and JSON (schema
``hepcombine/schemas/compat.json``), all as functions of a
:class:`~hepcombine.compat.CompatibilityResult`.

* :func:`format_compatibility` — the plain-text report (``hepcombine compat`` prints it and
  writes it to ``compat_result.txt``): the χ²_min with its p-values and S, the pulls of the
  inputs, the χ² contributions and leave-one-out tests per measurement, the shifts of the
  values without each measurement, the S-scaled combination, the notes.
* :func:`pulls_table`, :func:`measurements_table`, :func:`leave_one_out_table` — the tables of
  a paper, in ``"latex"`` (booktabs), ``"markdown"`` or ``"text"``; :func:`compatibility_tables`
  all three. Values with uncertainties are PDG-rounded (:mod:`hepcombine.formatting`), pulls
  and significances to two decimals, p-values to two significant digits.
* :func:`compatibility_to_dict` — the JSON-ready content (non-finite numbers as ``null``);
  :func:`load_schema` its schema.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidArgument
from ..formatting import Style, _table, degrees_of_freedom, format_value, latex_escape

if TYPE_CHECKING:
    from ..compat.result import CompatibilityResult, ToyPValue

__all__ = [
    "SCHEMA_VERSION",
    "compatibility_tables",
    "compatibility_to_dict",
    "format_compatibility",
    "leave_one_out_table",
    "load_schema",
    "measurements_table",
    "pulls_table",
]

#: Version of the layout documented in ``schemas/compat.json``.
SCHEMA_VERSION = "1"
_STYLES = ("text", "latex", "markdown")


# --------------------------------------------------------------------------- numbers
def _check_style(style: str) -> None:
    if style not in _STYLES:
        raise InvalidArgument(f"style must be one of {list(_STYLES)}, not {style!r}")


def _minus(text: str, style: str) -> str:
    if style == "latex":
        return f"${text}$"
    return text.replace("-", "−")


def _fixed(x: float, style: str, digits: int = 2) -> str:
    """A pull or a significance (two decimals, a sign), ``n/a`` when not finite."""
    if not math.isfinite(x):
        return "n/a"
    return _minus(f"{x:+.{digits}f}", style)


def _chi2(x: float) -> str:
    return f"{x:.2f}" if math.isfinite(x) else "n/a"


def _p(p: float) -> str:
    """A p-value to two significant digits."""
    if not math.isfinite(p):
        return "n/a"
    if p == 0.0:
        return "0"
    return f"{p:.2g}" if p < 0.995 else "1.0"


def _toy_p(t: ToyPValue | None, style: str = "text") -> str:
    """A toy p-value with its binomial error (an upper bound when no toy exceeded)."""
    if t is None or t.n == 0 or not math.isfinite(t.pvalue):
        return "n/a"
    if t.upper_limit:
        bound = f"< {1.0 / t.n:.2g}"
        return f"${bound}$" if style == "latex" else bound
    pm = {"latex": r"$\pm$", "markdown": "±", "text": "±"}[style]
    return f"{_p(t.pvalue)} {pm} {t.error:.1g}"


def _value(v: float, e: float, style: str) -> str:
    if not (math.isfinite(v) and math.isfinite(e)):
        return "n/a"
    return format_value(v, e, style=style)  # type: ignore[arg-type]


def _label(text: str, style: str) -> str:
    return latex_escape(text) if style == "latex" else text


# --------------------------------------------------------------------------- tables
def pulls_table(
    result: CompatibilityResult,
    style: Style = "latex",
    *,
    names: dict[str, str] | None = None,
    caption: str = "",
) -> str:
    """One row per input: the measurement and estimate (and the combined value it measures,
    when it is named otherwise), x̂ ± σ_in, x̂ − x̄ ± σ(x̂ − x̄), the pull, its normal p-value and,
    with pseudo-experiments, their p-value. ``names`` relabels inputs
    (``{"measurement:estimate": label}``)."""
    _check_style(style)
    toys = result.toys
    rows = []
    for key, p in result.pulls.items():
        label = (names or {}).get(
            key, key if p.estimate == p.observable else f"{key} → {p.observable}"
        )
        row = [
            _label(label, style),
            _value(p.value, p.input_error, style),
            _value(p.difference, p.error, style),
            _fixed(p.pull, style),
            _p(p.pvalue),
        ]
        if toys is not None:
            row.append(_toy_p(toys.pulls.get(key), style))
        rows.append(row)
    header = ["Input", "Value", "Input − combined", "Pull", "p"]
    if style == "latex":
        header = ["Input", "Value", r"Input $-$ combined", "Pull", "$p$"]
    if toys is not None:
        header.append("$p$ (toys)" if style == "latex" else "p (toys)")
    text = _table(header, rows, style, caption, "l" + "r" * (len(header) - 1))
    return text + _footer(result, style, len(header))


def measurements_table(
    result: CompatibilityResult, style: Style = "latex", *, caption: str = ""
) -> str:
    """One row per measurement: its χ² contribution (data + its sources' constraints), its
    number of estimates, and without it the likelihood-ratio test Δχ²/Δndf with its p-value
    (and that of the pseudo-experiments)."""
    _check_style(style)
    toys = result.toys
    rows = []
    for m, c in result.contributions.items():
        loo = result.leave_one_out.get(m)
        if loo is not None and loo.status == "ok":
            test = f"{_chi2(loo.delta_chi2)}/{loo.delta_ndf}"
            p = _p(loo.pvalue)
        else:
            test, p = "n/a", "n/a"
        row = [_label(m, style), str(c.n_estimates), _minus(f"{c.chi2:.2f}", style), test, p]
        if toys is not None:
            row.append(_toy_p(toys.contributions.get(m), style))
            row.append(_toy_p(toys.leave_one_out.get(m), style))
        rows.append(row)
    if style == "latex":
        header = [
            "Measurement",
            "Estimates",
            r"$\chi^2$ contribution",
            r"$\Delta\chi^2/\Delta$ndf",
            "$p$",
        ]
        extra = [r"$p$ (toys, contribution)", r"$p$ (toys, $\Delta\chi^2$)"]
    else:
        header = ["Measurement", "Estimates", "χ² contribution", "Δχ²/Δndf", "p"]
        extra = ["p (toys, contribution)", "p (toys, Δχ²)"]
    if toys is not None:
        header += extra
    text = _table(header, rows, style, caption, "lr" + "r" * (len(header) - 2))
    return text + _footer(result, style, len(header))


def leave_one_out_table(
    result: CompatibilityResult, style: Style = "latex", *, caption: str = ""
) -> str:
    """One row per measurement left out and combined value: the value without it ± its error,
    the shift ± √Var(shift) and the significance (with pseudo-experiments their p-value); values
    it alone measures say so."""
    _check_style(style)
    toys = result.toys
    rows = []
    for m, loo in result.leave_one_out.items():
        if loo.status != "ok":
            rows.append(
                [_label(m, style), "", _label(loo.status, style), "", ""] + ([""] if toys else [])
            )
            continue
        for o in result.observables:
            st = loo.value_status[o]
            if st == "ok" or st == "not affected":
                row = [
                    _label(m, style),
                    _label(o, style),
                    _value(loo.values[o], loo.errors[o], style),
                    _value(loo.shifts[o], loo.shift_errors[o], style) if st == "ok" else "0",
                    _fixed(loo.significance[o], style),
                ]
            else:
                row = [_label(m, style), _label(o, style), _label(st, style), "", ""]
            if toys is not None:
                row.append(_toy_p(toys.shifts.get(m, {}).get(o), style) if st == "ok" else "")
            rows.append(row)
    header = ["Without", "Observable", "Combined without", "Shift", "Significance"]
    if toys is not None:
        header.append("$p$ (toys)" if style == "latex" else "p (toys)")
    return _table(header, rows, style, caption, "llrrr" + "r" * (len(header) - 5))


def _footer(result: CompatibilityResult, style: str, width: int) -> str:
    """χ²/ndf, p and S under a table."""
    if result.ndf <= 0:
        return ""
    s = result.scale_factor
    text = f"χ²/ndf = {result.chi2:.2f}/{result.ndf}, p = {_p(result.pvalue)}, S = {s:.2f}"
    if result.toys is not None:
        text += f", p (toys) = {_toy_p(result.toys.chi2)}"
    if style == "latex":
        latex = (
            f"$\\chi^2/\\mathrm{{ndf}} = {result.chi2:.2f}/{result.ndf}$, $p = {_p(result.pvalue)}$, "
            f"$S = {s:.2f}$"
        )
        if result.toys is not None:
            latex += f", $p$ (toys) = {_toy_p(result.toys.chi2, 'latex')}"
        return f"% {text}\n\\par {latex}\n"
    return ("\n" if style == "markdown" else "") + text + "\n"


def compatibility_tables(result: CompatibilityResult, style: Style = "latex") -> str:
    """The pulls, measurements and leave-one-out tables, one after the other."""
    parts = [pulls_table(result, style), measurements_table(result, style)]
    if result.leave_one_out:
        parts.append(leave_one_out_table(result, style))
    return "\n".join(parts)


# --------------------------------------------------------------------------- the report
def format_compatibility(result: CompatibilityResult, *, max_rows: int | None = None) -> str:
    """The plain-text report (module docstring). ``max_rows`` limits the rows of the pulls and
    leave-one-out tables (the largest |pull| and |significance| first then); default all."""
    comb = result.combination
    toys = result.toys
    lines = [
        f"hepcombine compatibility diagnostics ({comb.chi2_definition} χ², {comb.method})",
        f"  χ²_min = {result.chi2:.5g} for {degrees_of_freedom(result.ndf)} "
        f"(p = {_p(result.pvalue)}"
        + (f"; toys: p = {_toy_p(toys.chi2)}" if toys is not None else "")
        + ")",
    ]
    if math.isfinite(result.scale_factor):
        lines.append(f"  PDG scale factor S = √(χ²/ndf) = {result.scale_factor:.4g}")
    else:
        lines.append("  PDG scale factor S: undefined (no degrees of freedom)")
    finite = [(abs(p.pull), k) for k, p in result.pulls.items() if math.isfinite(p.pull)]
    if finite:
        top, name = max(finite)
        extra = f"; toys: p = {_toy_p(toys.max_pull)}" if toys is not None else ""
        lines.append(f"  largest |pull| = {top:.2f} ({name}{extra})")
    if result.linearised:
        lines.append(
            "  the χ² is not quadratic: errors of differences and shifts are linearised at the "
            "minimum, χ²(ndf) and normal p-values are asymptotic"
            + ("" if toys is not None else " (calibrate them with --toys)")
        )
    if toys is not None:
        lines.append(
            f"  {toys.n} pseudo-experiments (seed {toys.seed}), {toys.n_failed} failed"
            + (f": {dict(toys.failures)}" if toys.failures else "")
        )
    lines += ["", "Pulls of the inputs: (x̂ − x̄) / √Var(x̂ − x̄), correlations included"]
    items = list(result.pulls.items())
    if max_rows is not None and len(items) > max_rows:
        items.sort(key=lambda kv: -abs(kv[1].pull) if math.isfinite(kv[1].pull) else 0.0)
        shown, hidden = items[:max_rows], len(items) - max_rows
    else:
        shown, hidden = items, 0
    rows = []
    for k, p in shown:
        row = [
            k,
            p.observable,
            _num(p.value),
            _num(p.input_error),
            _num(p.combined),
            _num(p.difference),
            _num(p.error),
            _fixed(p.pull, "text"),
            _p(p.pvalue),
        ]
        if toys is not None:
            row.append(_toy_p(toys.pulls.get(k)))
        rows.append(row)
    header = ["input", "value of", "x̂", "σ(x̂)", "x̄", "x̂ − x̄", "σ(x̂ − x̄)", "pull", "p"]
    if toys is not None:
        header.append("p (toys)")
    lines.append(_indent(_table(header, rows, "text", "", "ll" + "r" * (len(header) - 2))))
    if hidden:
        lines.append(f"  … {hidden} more (largest |pull| first; all of them in the JSON output)")

    lines += ["", "Measurements: χ² contribution (data + its sources' constraints) and without it"]
    rows = []
    for m, c in result.contributions.items():
        loo = result.leave_one_out.get(m)
        ok = loo is not None and loo.status == "ok"
        row = [
            m,
            str(c.n_estimates),
            _num(c.data, ".4g"),
            _num(c.constraints, ".4g"),
            _num(c.chi2, ".4g"),
            _num(loo.chi2, ".4g") + f"/{loo.ndf}" if ok and loo is not None else "n/a",
            f"{_chi2(loo.delta_chi2)}/{loo.delta_ndf}" if ok and loo is not None else "n/a",
            _p(loo.pvalue) if ok and loo is not None else "n/a",
            f"{_chi2(loo.shift_chi2)}/{loo.shift_ndf}" if ok and loo is not None else "n/a",
        ]
        if toys is not None:
            row += [_toy_p(toys.contributions.get(m)), _toy_p(toys.leave_one_out.get(m))]
        rows.append(row)
    header = [
        "measurement",
        "estimates",
        "data",
        "constraints",
        "χ²",
        "χ²/ndf without",
        "Δχ²/Δndf",
        "p",
        "shifts χ²/ndf",
    ]
    if toys is not None:
        header += ["p (toys, χ²)", "p (toys, Δχ²)"]
    lines.append(_indent(_table(header, rows, "text", "", "l" + "r" * (len(header) - 1))))
    if abs(result.unattributed) > 1e-9 * max(1.0, abs(result.chi2)):
        lines.append(f"  not attributed to a measurement: {result.unattributed:.4g}")

    if result.leave_one_out:
        lines += ["", "Without each measurement: shift of every value and its significance"]
        rows = []
        for m, loo in result.leave_one_out.items():
            if loo.status != "ok":
                rows.append([m, "", loo.status, "", "", "", "", ""] + ([""] if toys else []))
                continue
            for o in result.observables:
                st = loo.value_status[o]
                row = [
                    m,
                    o,
                    _num(loo.values[o]),
                    _num(loo.errors[o]),
                    _num(loo.shifts[o]),
                    _num(loo.shift_errors[o]),
                    _fixed(loo.significance[o], "text"),
                    "" if st == "ok" else st,
                ]
                if toys is not None:
                    row.append(_toy_p(toys.shifts.get(m, {}).get(o)) if st == "ok" else "")
                rows.append(row)
        if max_rows is not None and len(rows) > max_rows:
            hidden = len(rows) - max_rows

            def key(r: list[str]) -> float:
                try:
                    return -abs(float(r[6].replace("−", "-")))
                except ValueError:
                    return 0.0

            rows = sorted(rows, key=key)[:max_rows]
        else:
            hidden = 0
        header = ["without", "value of", "x̄ without", "σ", "shift", "σ(shift)", "significance", ""]
        if toys is not None:
            header.append("p (toys)")
        lines.append(_indent(_table(header, rows, "text", "", "ll" + "r" * (len(header) - 2))))
        if hidden:
            lines.append(
                f"  … {hidden} more (largest |significance| first; all in the JSON output)"
            )

    if result.scaled is not None and result.scaled is not comb:
        s = result.scaled
        lines += [
            "",
            f"Combination with every input uncertainty scaled by S = {result.scale_factor:.4g}",
        ]
        rows = []
        for o in result.observables:
            iv = s.intervals[o] if s.has_interval(o) else (math.nan, math.nan)
            rows.append(
                [
                    o,
                    _num(s.values[o]),
                    _num(s.errors[o]),
                    _num(comb.errors[o]),
                    f"[{_num(iv[0])}, {_num(iv[1])}]",
                ]
            )
        header = ["value of", "x̄", "σ scaled", "σ nominal", "interval (scaled)"]
        lines.append(_indent(_table(header, rows, "text", "", "lrrrr")))
    if result.notes:
        lines += ["", "Notes"]
        lines += [f"  - {n}" for n in result.notes]
    return "\n".join(lines)


def _num(value: float, spec: str = ".6g") -> str:
    return "n/a" if not math.isfinite(value) else format(value, spec).replace("-", "−")


def _indent(text: str) -> str:
    return "\n".join("  " + ln if ln else ln for ln in text.rstrip("\n").split("\n"))


# --------------------------------------------------------------------------- JSON
def _toy_dict(t: ToyPValue) -> dict[str, Any]:
    return {"pvalue": t.pvalue, "error": t.error, "exceeded": t.exceeded, "n": t.n}


def _mapping(d: Any, f: Callable[[Any], Any]) -> dict[str, Any]:
    return {str(k): f(v) for k, v in d.items()}


def compatibility_to_dict(
    result: CompatibilityResult, *, config: str | None = None
) -> dict[str, Any]:
    """The JSON-ready content of ``result`` (layout in the schema; NaN as ``None``)."""
    from .._version import __version__
    from .json import finite_or_none

    comb = result.combination
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "hepcombine_version": __version__,
        **({} if config is None else {"config": str(config)}),
        "chi2_definition": comb.chi2_definition,
        "method": comb.method,
        "linearised": bool(result.linearised),
        "chi2": result.chi2,
        "ndf": result.ndf,
        "pvalue": result.pvalue,
        "scale_factor": result.scale_factor,
        "combined": {
            o: {"value": comb.values[o], "error": comb.errors[o]} for o in result.observables
        },
        "pulls": _mapping(
            result.pulls,
            lambda p: {
                "measurement": p.measurement,
                "estimate": p.estimate,
                "observable": p.observable,
                "value": p.value,
                "input_error": p.input_error,
                "combined": p.combined,
                "difference": p.difference,
                "error": p.error,
                "pull": p.pull,
                "pvalue": p.pvalue,
                "status": p.status,
            },
        ),
        "pull_correlation": result.pull_correlation.to_dict(),
        "contributions": _mapping(
            result.contributions,
            lambda c: {
                "data": c.data,
                "constraints": c.constraints,
                "chi2": c.chi2,
                "n_estimates": c.n_estimates,
            },
        ),
        "unattributed": result.unattributed,
        "leave_one_out": _mapping(
            result.leave_one_out,
            lambda loo: {
                "status": loo.status,
                "chi2": loo.chi2,
                "ndf": loo.ndf,
                "delta_chi2": loo.delta_chi2,
                "delta_ndf": loo.delta_ndf,
                "pvalue": loo.pvalue,
                "shift_chi2": loo.shift_chi2,
                "shift_ndf": loo.shift_ndf,
                "values": {
                    o: {
                        "value": loo.values[o],
                        "error": loo.errors[o],
                        "shift": loo.shifts[o],
                        "shift_error": loo.shift_errors[o],
                        "significance": loo.significance[o],
                        "status": loo.value_status[o],
                    }
                    for o in result.observables
                },
            },
        ),
        "scaled": None,
        "toys": None,
        "notes": list(result.notes),
    }
    s = result.scaled
    if s is not None:
        out["scaled"] = {
            "scale_factor": result.scale_factor if s is not comb else 1.0,
            "combined": {
                o: {
                    "value": s.values[o],
                    "error": s.errors[o],
                    "interval": list(s.intervals[o]) if s.has_interval(o) else [None, None],
                    "interval_status": str(s.interval_status[o]),
                }
                for o in result.observables
            },
            "covariance": s.covariance.to_dict(),
        }
    t = result.toys
    if t is not None:
        out["toys"] = {
            "n": t.n,
            "n_failed": t.n_failed,
            "seed": t.seed,
            "failures": dict(t.failures),
            "chi2": _toy_dict(t.chi2),
            "max_pull": _toy_dict(t.max_pull),
            "pulls": _mapping(t.pulls, _toy_dict),
            "contributions": _mapping(t.contributions, _toy_dict),
            "leave_one_out": _mapping(t.leave_one_out, _toy_dict),
            "shifts": {m: _mapping(v, _toy_dict) for m, v in t.shifts.items()},
        }
    return finite_or_none(out)


def load_schema() -> dict[str, Any]:
    """The JSON schema (Draft 2020-12) of :func:`compatibility_to_dict`'s output."""
    from importlib import resources

    text = resources.files("hepcombine").joinpath("schemas/compat.json").read_text()
    return json.loads(text)


def __dir__() -> list[str]:
    return list(__all__)

"""Numbers as physicists write them: PDG rounding, and tables of results and breakdowns.

Rounding follows the Particle Data Group (Introduction, "Rounding"): the three highest-order
digits of the uncertainty decide how many significant digits it keeps —

* 100–354: two significant digits (0.827 ± 0.119 → 0.83 ± 0.12);
* 355–949: one significant digit (0.827 ± 0.367 → 0.8 ± 0.4);
* 950–999: rounded up to 1000 and two significant digits kept (0.0987 → 0.10);

and the value is given to the same decimal place. With several uncertainties (statistical and
systematic, or the two sides of an asymmetric interval) every number is given to the finest of
their PDG precisions, so that all of them share one decimal place (0.2790 ± 0.0123 ± 0.0008).
Two sides of an interval that agree at that precision are printed once, as ``±``; otherwise
as ``^{+a}_{-b}``. Values and uncertainties are rounded half up from their shortest decimal
representation (``repr``), so 0.355 is 0.355 and not 0.35499999….

:func:`format_value` writes one number with its uncertainties as plain text, LaTeX or
Markdown; :func:`result_table` and :func:`breakdown_table` write the tables of a combination
paper (combined values with their statistical and systematic uncertainties; the uncertainty
breakdown) for :class:`~hepcombine.result.CombinationResult`,
:class:`~hepcombine.differential.DifferentialResult` and :class:`~hepcombine.blue.BlueResult`
(their ``to_latex()`` and ``to_markdown()`` call these). Only display strings are rounded:
the results and the JSON output keep full precision.

This module knows nothing of files, fits or plots (pure Python; it imports no other stage).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Literal, NamedTuple

from .exceptions import InvalidArgument, UnknownName

__all__ = [
    "Rounded",
    "breakdown_table",
    "degrees_of_freedom",
    "format_value",
    "latex_escape",
    "pdg_digits",
    "pdg_precision",
    "pdg_round",
    "result_table",
    "stat_error",
    "total_errors",
    "value_cell",
]

Style = Literal["text", "latex", "markdown"]
#: An uncertainty: symmetric (a number) or asymmetric ``(low, high)`` distances, both ≥ 0.
Uncertainty = float | tuple[float, float]
_STYLES = ("text", "latex", "markdown")


def _decimal(x: float) -> Decimal:
    """The shortest decimal representation of ``x`` (what ``repr`` prints)."""
    return Decimal(repr(float(x)))


def _usable(e: float) -> bool:
    return math.isfinite(e) and e > 0


# ---------------------------------------------------------------------- the PDG rule
def degrees_of_freedom(ndf: int) -> str:
    """``"1 degree of freedom"``, ``"3 degrees of freedom"``."""
    return f"{ndf} degree{'' if ndf == 1 else 's'} of freedom"


def pdg_digits(error: float) -> int:
    """Significant digits the PDG rule keeps for ``error``: 2 when its three highest-order
    digits are 100–354 or 950–999 (rounded up to 1000), 1 when they are 355–949."""
    if not _usable(error):
        raise InvalidArgument(f"PDG rounding needs a positive finite uncertainty, got {error!r}")
    d = _decimal(error)
    lead = d.adjusted()
    three = int(d.scaleb(2 - lead).to_integral_value(rounding=ROUND_FLOOR))
    return 1 if 355 <= three <= 949 else 2


def pdg_precision(error: float) -> int:
    """Decimal exponent of the last digit the PDG rule keeps for ``error``: −2 for 0.119
    (→ 0.12), −1 for 0.367 (→ 0.4), −2 for 0.0987 (→ 0.10), 0 for 3.7 (→ 4), 1 for 123
    (→ 120)."""
    lead = _decimal(error).adjusted()
    three = int(_decimal(error).scaleb(2 - lead).to_integral_value(rounding=ROUND_FLOOR))
    if three >= 950:  # rounds up to 1000: two digits of the next power, i.e. the same place
        return lead
    return lead - pdg_digits(error) + 1


def _round(x: float, exponent: int) -> Decimal:
    """``x`` rounded half up to a multiple of 10**exponent."""
    return _decimal(x).quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def _plain(d: Decimal) -> str:
    s = format(d, "f")
    return "0" + s[2:] if s.startswith("-0") and not any(c in s[1:] for c in "123456789") else s


class Rounded(NamedTuple):
    """A value and its uncertainties rounded for display (:func:`pdg_round`).

    ``value`` and ``errors`` are decimal strings (asymmetric uncertainties as ``(low, high)``
    pairs of strings), all to the decimal place ``precision`` (exponent of the last digit, in
    the units of the numbers before ``power`` is factored out), and ``power`` is the power of
    ten factored out (``(1.20 ± 0.03) × 10⁻⁵`` has ``power = -5``; 0 when none is).
    """

    value: str
    errors: tuple[str | tuple[str, str], ...]
    precision: int
    power: int


def pdg_round(
    value: float, *errors: Uncertainty, power: int | None = None, precision: int | None = None
) -> Rounded:
    """Round ``value`` and its ``errors`` (numbers, or ``(low, high)`` pairs of distances) by
    the PDG rule: every number to the finest PDG precision of the uncertainties.

    ``precision`` overrides the decimal place (exponent of the last digit kept, e.g. ``-1``
    for one decimal). ``power``: the power of ten to factor out; by default one is factored
    out (that of the leading digit of the value, or of the largest uncertainty when it is
    larger) when that number is ≥ 10⁵ or < 10⁻³ in magnitude,
    so that no number needs more than a few zeros. Uncertainties that are zero, negative or
    not finite take no part in the precision; with none left the value keeps four
    significant digits.
    """
    flat: list[float] = []
    for e in errors:
        flat.extend((float(e[0]), float(e[1])) if isinstance(e, tuple) else (float(e),))
    if not math.isfinite(value):
        raise InvalidArgument(f"cannot round a value that is not finite: {value!r}")
    if power is None:
        ref = max([abs(value), *(e for e in flat if _usable(e))])
        lead = _decimal(ref).adjusted() if ref > 0 else 0
        power = lead if (lead >= 5 or lead < -3) else 0
    scale = 10.0**-power
    usable = [e * scale for e in flat if _usable(e)]
    if precision is None:
        if usable:
            precision = min(pdg_precision(e) for e in usable)
        else:
            v = abs(value * scale)
            precision = (_decimal(v).adjusted() - 3) if v > 0 else 0
    else:
        precision -= power

    def r(x: float) -> str:
        return _plain(_round(x * scale, precision)) if math.isfinite(x) else "nan"

    out: list[str | tuple[str, str]] = []
    for e in errors:
        out.append((r(e[0]), r(e[1])) if isinstance(e, tuple) else r(float(e)))
    return Rounded(r(value), tuple(out), precision, power)


# ---------------------------------------------------------------------- one number
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_value(
    value: float,
    *errors: Uncertainty,
    labels: Sequence[str] | None = None,
    unit: str = "",
    style: Style = "text",
    power: int | None = None,
    precision: int | None = None,
) -> str:
    """``value`` with its uncertainties, PDG-rounded (:func:`pdg_round`), as a physicist writes
    it.

    ``errors`` are numbers (symmetric) or ``(low, high)`` distances (asymmetric; printed once
    as ``±`` when they agree at the printed precision). ``labels`` name the uncertainties
    (``("stat", "syst")``: ``241.5 ± 1.4 (stat) ± 8.4 (syst)``). ``style``:

    * ``"text"``: ``241.5 ± 8.5 pb``, ``241.5 +8.6 −8.3 pb``, ``(1.20 ± 0.03) × 10⁻⁵``;
    * ``"latex"``: ``$241.5 \\pm 8.5$~pb``, ``$241.5^{+8.6}_{-8.3}$``,
      ``$(1.20 \\pm 0.03) \\times 10^{-5}$`` (math mode; labels as ``\\,\\mathrm{(stat)}``);
    * ``"markdown"``: as ``"text"`` for symmetric uncertainties, asymmetric ones as inline math
      ``$241.5^{+8.6}_{-8.3}$`` (rendered by Jupyter, GitHub and MyST).
    """
    if style not in _STYLES:
        raise InvalidArgument(f"style must be one of {list(_STYLES)}, not {style!r}")
    if labels is not None and len(labels) != len(errors):
        raise InvalidArgument(f"{len(labels)} labels for {len(errors)} uncertainties")
    if not math.isfinite(value):
        return "n/a"
    rounded = pdg_round(value, *errors, power=power, precision=precision)
    asymmetric = any(isinstance(e, tuple) and e[0] != e[1] for e in rounded.errors)
    math_mode = style == "latex" or (style == "markdown" and asymmetric)
    parts = [_minus(rounded.value, style, math_mode)]
    for i, e in enumerate(rounded.errors):
        if isinstance(e, tuple) and e[0] != e[1]:
            parts.append(
                f"^{{+{e[1]}}}_{{-{e[0]}}}" if math_mode else f" +{e[1]} −{e[0]}".replace("-", "−")
            )
        else:
            sym = e[0] if isinstance(e, tuple) else e
            parts.append(f" \\pm {sym}" if math_mode else f" ± {sym}")
        if labels is not None and labels[i]:
            parts.append(
                f"\\,\\mathrm{{({_latex_text(labels[i])})}}" if math_mode else f" ({labels[i]})"
            )
    body = "".join(parts)
    if rounded.power:
        if math_mode:
            body = f"({body}) \\times 10^{{{rounded.power}}}"
        else:
            body = f"({body}) × 10{str(rounded.power).translate(_SUPERSCRIPT)}"
    if math_mode:
        body = f"${body}$"
    if unit:
        body += f"~{latex_escape(unit)}" if style == "latex" else f" {unit}"
    return body


def _minus(s: str, style: Style, math_mode: bool) -> str:
    return s if math_mode else s.replace("-", "−")


def _latex_text(s: str) -> str:
    return s.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("%", r"\%")


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in ``text``, leaving ``$…$`` math as it is (labels
    such as ``$p_{T}$`` are LaTeX already)."""
    pieces = re.split(r"(\$[^$]*\$)", text)
    return "".join(
        p if (p.startswith("$") and p.endswith("$") and len(p) > 1) else _escape(p) for p in pieces
    )


def _escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def _markdown_cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


# ---------------------------------------------------------------------- results as tables
def _columns(result: Any) -> tuple[Any, list[str], list[str]]:
    """(the underlying result, observables in order, their display labels)."""
    if hasattr(result, "binning") and hasattr(result, "result"):  # a DifferentialResult
        b = result.binning
        unit = f" {b.unit}" if b.unit else ""
        if hasattr(b, "cell"):  # the cells of a 2-d distribution, x inner
            names = [b.bin_label(k).split(" (", 1)[1][:-1] for k in range(b.n_bins)]
        elif b.is_index:
            names = [f"bin {i}" for i in range(b.n_bins)]
        else:
            names = [f"[{lo:g}, {hi:g}){unit}" for lo, hi in zip(b.low, b.high, strict=True)]
        return result.result, list(result.observables), names
    obs = list(result.observables)
    return result, obs, list(obs)


def _select(
    inner: Any, obs: list[str], names: list[str], observables: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    if observables is None:
        return obs, names
    unknown = [o for o in observables if o not in obs]
    if unknown:
        raise UnknownName(f"{unknown} are not combined observables; observables are {obs}")
    by = dict(zip(obs, names, strict=True))
    return list(observables), [by[o] for o in observables]


def stat_error(inner: Any, o: str) -> float | None:
    """The statistical uncertainty of ``o``: the ``stat`` breakdown row (χ² method), or the
    statistical sources in quadrature (BLUE); ``None`` when the result has none."""
    b = inner.breakdown
    if "stat" in b:
        return abs(float(b["stat", o]))
    stat_sources = [s for s in getattr(inner, "statistical_sources", ()) if s in b]
    if stat_sources:
        return math.sqrt(sum(float(b[s, o]) ** 2 for s in stat_sources))
    return None


def total_errors(inner: Any, o: str) -> tuple[float, float]:
    """(low, high) distances: the profile interval when valid, else ± the symmetric error."""
    e = float(inner.errors[o])
    if hasattr(inner, "has_interval") and inner.has_interval(o):
        lo, hi = inner.intervals[o]
        v = float(inner.values[o])
        if math.isfinite(lo) and math.isfinite(hi):
            return v - float(lo), float(hi) - v
    return e, e


def value_cell(
    result: Any, observable: str, *, style: Style = "text", split: bool = True, unit: str = ""
) -> str:
    """The display string of one combined value: ``value ± stat (stat) ± syst (syst)`` when
    the result has a statistical component (``split``), else ``value ± total`` (asymmetric
    profile intervals as ``^{+a}_{-b}``; the systematic part of each side is
    √(side² − stat²))."""
    inner = getattr(result, "result", result)
    v = float(inner.values[observable])
    low, high = total_errors(inner, observable)
    stat = stat_error(inner, observable) if split else None
    if stat is not None and stat < min(low, high) and stat > 0:
        syst = (math.sqrt(low**2 - stat**2), math.sqrt(high**2 - stat**2))
        return format_value(v, stat, syst, labels=("stat", "syst"), style=style, unit=unit)
    return format_value(v, (low, high), style=style, unit=unit)


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], style: Style, caption: str, align: str
) -> str:
    if style == "latex":
        lines = []
        if caption:
            lines += ["\\begin{table}", "  \\centering", f"  \\caption{{{caption}}}"]
        lines.append(f"\\begin{{tabular}}{{{align}}}")
        lines.append("\\toprule")
        lines.append(" & ".join(header) + r" \\")
        lines.append("\\midrule")
        lines += [" & ".join(r) + r" \\" for r in rows]
        lines.append("\\bottomrule")
        lines.append("\\end{tabular}")
        if caption:
            lines.append("\\end{table}")
        return "\n".join(lines) + "\n"
    if style == "markdown":
        sep = ["---" if a == "l" else "---:" for a in align]
        out = ["| " + " | ".join(_markdown_cell(h) for h in header) + " |"]
        out.append("| " + " | ".join(sep) + " |")
        out += ["| " + " | ".join(_markdown_cell(c) for c in r) + " |" for r in rows]
        text = "\n".join(out) + "\n"
        return (f"{caption}\n\n" if caption else "") + text
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]
    fmt = "  ".join(
        f"{{:{'<' if a == 'l' else '>'}{w}}}" for a, w in zip(align, widths, strict=True)
    )
    out = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    out += [fmt.format(*r) for r in rows]
    return (f"{caption}\n" if caption else "") + "\n".join(out) + "\n"


def result_table(
    result: Any,
    style: Style = "latex",
    *,
    observables: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    unit: str = "",
    split: bool = True,
    chi2: bool = True,
    caption: str = "",
) -> str:
    """The table of combined values: one row per observable (per bin, labelled by its range,
    for a :class:`~hepcombine.differential.DifferentialResult`), the value with its statistical
    and systematic uncertainties (``split``; the total only when the result has no statistical
    component) PDG-rounded, and the χ²/ndf of the combination below (``chi2``).

    ``style``: ``"latex"`` (a booktabs ``tabular``, inside a ``table`` with ``caption``),
    ``"markdown"`` (a GitHub/MyST table) or ``"text"``. ``names`` maps observables to the
    labels shown (LaTeX allowed inside ``$…$``); ``unit`` is printed in the header.
    """
    inner, obs, shown = _columns(result)
    obs, shown = _select(inner, obs, shown, observables)
    if names:
        shown = [names.get(o, s) for o, s in zip(obs, shown, strict=True)]
    if style == "latex":
        shown = [latex_escape(s) for s in shown]
    head_unit = (f" [{latex_escape(unit) if style == 'latex' else unit}]") if unit else ""
    first = "Bin" if shown and shown[0] != obs[0] and hasattr(result, "binning") else "Observable"
    if hasattr(result, "binning") and result.binning.label and not result.binning.is_index:
        first = result.binning.label
        first = latex_escape(first) if style == "latex" else first
    rows = [
        [s, value_cell(inner, o, style=style, split=split)] for o, s in zip(obs, shown, strict=True)
    ]
    text = _table([first, f"Value{head_unit}"], rows, style, caption, "lr")
    if chi2 and getattr(inner, "ndf", 0) > 0:
        c = f"{inner.chi2:.2f}/{inner.ndf}"
        p = getattr(inner, "pvalue", math.nan)
        ps = f", p = {p:.2g}" if math.isfinite(p) else ""
        if style == "latex":
            text = text.replace(
                "\\bottomrule",
                f"\\midrule\n\\multicolumn{{2}}{{l}}{{$\\chi^2/\\mathrm{{ndf}} = {c}${ps}}} \\\\\n"
                "\\bottomrule",
            )
        elif style == "markdown":
            text += f"\nχ²/ndf = {c}{ps}\n"
        else:
            text += f"χ²/ndf = {c}{ps}\n"
    return text


def breakdown_table(
    result: Any,
    style: Style = "latex",
    *,
    observables: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    relative: bool = False,
    sort: bool = True,
    caption: str = "",
) -> str:
    """The uncertainty breakdown: one row per component (``stat``, the source groups, …; the
    largest first with ``sort``), one column per observable (bin), and the total (the
    symmetric error) in the last row. Each column is given to two significant digits of its
    total (the PDG precision of a total whose leading digits are 100–354; the breakdown of a non-quadratic χ² adds up only approximately; see
    :attr:`~hepcombine.result.CombinationResult.breakdown`). A negative entry is a component
    whose variance is negative (reported with its sign). ``relative``: in percent of the value.
    """
    inner, obs, shown = _columns(result)
    obs, shown = _select(inner, obs, shown, observables)
    if names:
        shown = [names.get(o, s) for o, s in zip(obs, shown, strict=True)]
    b = inner.breakdown
    comps = list(b.rows)
    if sort:
        comps.sort(key=lambda c: -max(abs(float(b[c, o])) for o in obs))
    scale = {o: (100.0 / abs(float(inner.values[o])) if relative else 1.0) for o in obs}
    totals = {o: float(inner.errors[o]) * scale[o] for o in obs}
    prec = {o: (_decimal(totals[o]).adjusted() - 1 if _usable(totals[o]) else -3) for o in obs}

    def cell(x: float, o: str) -> str:
        s = _plain(_round(x, prec[o])) if math.isfinite(x) else "n/a"
        return s if style != "text" else s.replace("-", "−")

    rows = [[c] + [cell(float(b[c, o]) * scale[o], o) for o in obs] for c in comps]
    rows.append(["Total"] + [cell(totals[o], o) for o in obs])
    if style == "latex":
        shown = [latex_escape(s) for s in shown]
        rows = [[latex_escape(r[0]), *r[1:]] if i < len(comps) else r for i, r in enumerate(rows)]
    header = ["Source" + (" [%]" if relative else ""), *shown]
    text = _table(header, rows, style, caption, "l" + "r" * len(obs))
    if style == "latex":  # a rule above the total
        lines = text.split("\n")
        at = max(i for i, ln in enumerate(lines) if ln.startswith("Total"))
        lines.insert(at, "\\midrule")
        text = "\n".join(lines)
    return text


def __dir__() -> list[str]:
    return list(__all__)

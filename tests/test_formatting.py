"""PDG rounding and the LaTeX/Markdown tables of results (hepcombine.formatting).

References: the PDG's rule and its worked examples (Review of Particle Physics, Introduction,
"Rounding": "0.827 ± 0.119 would appear as 0.83 ± 0.12, while 0.827 ± 0.367 would turn into
0.8 ± 0.4"; three highest-order digits 100–354: two significant digits, 355–949: one, 950–999:
rounded up to 1000 with two); the ATLAS–CMS 8 TeV tt̄ combination (ATLAS-CONF-2014-054 and the
seed notebook: 241.5 pb, Table 1 column of the combination rounded to 0.1 pb).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from conftest import REPO

from hepcombine import Binning, Combiner, DifferentialResult, Measurement, blue_from_csv
from hepcombine.exceptions import InvalidArgument, UnknownName
from hepcombine.formatting import (
    breakdown_table,
    format_value,
    pdg_digits,
    pdg_precision,
    pdg_round,
    result_table,
)


# ---------------------------------------------------------------------- the PDG rule
@pytest.mark.parametrize(
    ("value", "error", "expected"),
    [
        (0.827, 0.119, "0.83 ± 0.12"),  # the PDG's own examples
        (0.827, 0.367, "0.8 ± 0.4"),
    ],
)
def test_pdg_worked_examples(value, error, expected):
    assert format_value(value, error) == expected


@pytest.mark.parametrize(
    ("error", "digits", "rounded"),
    [
        (0.100, 2, "0.10"),
        (0.354, 2, "0.35"),  # last of the two-digit range
        (0.3549, 2, "0.35"),  # the three highest digits are 354 (truncated, not rounded)
        (0.355, 1, "0.4"),  # first of the one-digit range; 0.355 is not 0.35499999...
        (0.949, 1, "0.9"),
        (0.950, 2, "1.0"),  # 950–999: up to 1000, two significant digits
        (0.0987, 2, "0.10"),
        (96.0, 2, "100"),
        (123.0, 2, "120"),
        (3.7, 1, "4"),
        (1.0, 2, "1.0"),
    ],
)
def test_pdg_ranges(error, digits, rounded):
    assert pdg_digits(error) == digits
    r = pdg_round(0.0, error, power=0)
    assert r.errors == (rounded,)
    assert r.precision == pdg_precision(error)


def test_value_to_the_precision_of_the_error_half_up_from_its_decimal_form():
    # 2.675 is 2.67499999... in binary; written as 2.675 it rounds half up to 2.68
    assert round(2.675, 2) == 2.67
    assert format_value(2.675, 0.123) == "2.68 ± 0.12"
    assert format_value(-0.0004, 0.12) == "0.00 ± 0.12"  # no "−0.00"
    assert format_value(-1.5, 0.25) == "−1.50 ± 0.25"
    assert format_value(1234.5, 123.0) == "1230 ± 120"


def test_several_uncertainties_share_the_finest_precision():
    # the smaller uncertainty (0.000766 → 0.0008) decides the decimal place of every number
    text = format_value(0.279008, 0.0123261, 0.000766099, labels=("stat", "syst"))
    assert text == "0.2790 ± 0.0123 (stat) ± 0.0008 (syst)"
    latex = format_value(241.46454, 1.4, 8.4, labels=("stat", "syst"), style="latex", unit="pb")
    assert latex == r"$241.5 \pm 1.4\,\mathrm{(stat)} \pm 8.4\,\mathrm{(syst)}$~pb"


def test_asymmetric_printed_once_when_symmetric_at_the_precision():
    assert format_value(241.46, (8.52, 8.54)) == "241 ± 9"
    assert format_value(241.46, (8.52, 8.54), style="latex") == r"$241 \pm 9$"
    assert format_value(10.0, (0.31, 0.52)) == "10.00 +0.52 −0.31"
    assert format_value(10.0, (0.31, 0.52), style="latex") == "$10.00^{+0.52}_{-0.31}$"
    assert format_value(10.0, (0.31, 0.52), style="markdown") == "$10.00^{+0.52}_{-0.31}$"
    assert format_value(10.0, 0.31, style="markdown") == "10.00 ± 0.31"


def test_powers_of_ten():
    assert format_value(1.2345e-5, 3.1e-7) == "(1.235 ± 0.031) × 10⁻⁵"
    assert format_value(1.2345e-5, 3.1e-7, style="latex") == r"$(1.235 \pm 0.031) \times 10^{-5}$"
    assert format_value(123456.0, 1234.0) == "(1.235 ± 0.012) × 10⁵"
    assert format_value(123456.0, 1234.0, power=0) == "123500 ± 1200"


def test_degenerate_inputs():
    assert format_value(math.nan, 1.0) == "n/a"
    assert format_value(3.14159, 0.0) == "3.142 ± 0.000"  # no usable error: 4 digits
    with pytest.raises(InvalidArgument):
        pdg_digits(0.0)
    with pytest.raises(InvalidArgument):
        format_value(1.0, 0.1, style="html")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        format_value(1.0, 0.1, labels=("a", "b"))


# ---------------------------------------------------------------------- tables
@pytest.fixture(scope="module")
def ttbar():
    return blue_from_csv(
        REPO / "data/lhc_ttbar_xsec_emu_8tev.csv", REPO / "data/lhc_ttbar_xsec_emu_8tev_corr.csv"
    ).result


def _latex_rows(tex: str) -> list[list[str]]:
    body = tex[tex.index("\\midrule") : tex.index("\\bottomrule")]
    rows = [ln for ln in body.splitlines() if ln.endswith(r"\\")]
    return [[c.strip() for c in ln[:-2].split(" & ")] for ln in rows]


def _markdown_table(md: str) -> tuple[list[str], list[list[str]]]:
    """A GitHub pipe table: header, separator, rows with as many cells as the header."""
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in lines]
    header, sep, *rows = cells
    assert all(re.fullmatch(r"-{3,}:?", s) for s in sep)
    assert all(len(r) == len(header) == len(sep) for r in rows)
    return header, rows


def test_latex_result_table_of_the_seed_combination(ttbar):
    tex = ttbar.to_latex(unit="pb", names={"sigma_tt": r"$\sigma_{t\bar{t}}$"})
    assert tex.startswith("\\begin{tabular}{lr}\n\\toprule\n")
    assert tex.rstrip().endswith("\\bottomrule\n\\end{tabular}")
    assert tex.count("\\begin{tabular}") == tex.count("\\end{tabular}") == 1
    assert r"Observable & Value [pb] \\" in tex
    (row, chi2) = _latex_rows(tex)
    assert row[0] == r"$\sigma_{t\bar{t}}$"
    # 241.5 pb, stat 1.4 pb (seed Table 1); syst = √(8.53² − 1.4²) = 8.4 from the total 8.5
    assert row[1] == r"$241.5 \pm 1.4\,\mathrm{(stat)} \pm 8.4\,\mathrm{(syst)}$"
    assert r"\chi^2/\mathrm{ndf} = 0.05/1" in chi2[0] and "p = 0.82" in chi2[0]
    captioned = ttbar.to_latex(caption="The combination.")
    assert captioned.startswith("\\begin{table}") and "\\caption{The combination.}" in captioned
    assert captioned.rstrip().endswith("\\end{table}")


def test_breakdown_tables_reproduce_the_seed_table(ttbar):
    """Table 1 of ATLAS-CONF-2014-054, column of the combination (0.1 pb): two significant
    digits of the total 8.5 pb."""
    expected = {"Stat": "1.4", "Trig": "1.0", "LepS": "0.9", "LepI": "1.7", "JetR": "1.2"}
    expected |= {"Lumi": "5.1", "Total": "8.5"}
    rows = dict(_latex_rows(ttbar.to_latex(breakdown=True)))
    assert {k: rows[k] for k in expected} == expected
    assert next(iter(rows)) == "Lumi" and list(rows)[-1] == "Total"  # ranked, total last
    header, md_rows = _markdown_table(ttbar.to_markdown(breakdown=True))
    assert header == ["Source", "sigma_tt"]
    md = dict(md_rows)
    assert {k: md[k] for k in expected} == expected
    rel = dict(_markdown_table(ttbar.to_markdown(breakdown=True, relative=True))[1])
    assert rel["Total"] == f"{100 * 8.53254 / 241.46454:.1f}"  # 3.5 %


def test_markdown_result_table(ttbar):
    md = ttbar.to_markdown(unit="pb")
    header, rows = _markdown_table(md)
    assert header == ["Observable", "Value [pb]"]
    assert rows == [["sigma_tt", "241.5 ± 1.4 (stat) ± 8.4 (syst)"]]
    assert "χ²/ndf = 0.05/1" in md


def test_tables_of_a_chi2_result_with_asymmetric_intervals():
    """A Pearson χ² with an asymmetric source: the profile interval is asymmetric; the table
    prints the value with ^{+a}_{-b} of the total when there is no statistical split, and
    escapes LaTeX in names."""
    a = Measurement.from_uncertainties(
        {"m_t": 172.5}, {"m_t": 0.4}, {"jes": {"m_t": (1.2, -0.6)}}, name="A"
    )
    b = Measurement.from_uncertainties(
        {"m_t": 173.1}, {"m_t": 0.5}, {"jes": {"m_t": 0.9}}, name="B"
    )
    res = Combiner([a, b], chi2="pearson").combine()
    lo, hi = res.asymmetric_errors("m_t")
    assert res.has_interval("m_t") and abs(lo - hi) > 0.01
    tex = res.to_latex(split=False)
    (row, _) = _latex_rows(tex)
    assert row[0] == r"m\_t"
    assert row[1] == format_value(res.values["m_t"], (lo, hi), style="latex")
    assert "^{+" in row[1] and "}_{-" in row[1]
    with pytest.raises(UnknownName):
        res.to_latex(observables=["nope"])


def test_differential_tables_label_bins_by_their_ranges():
    ms = [
        Measurement.from_uncertainties(
            {"b0": v0, "b1": v1}, {"b0": 1.0, "b1": 0.5}, {"jes": {"b0": 0.8, "b1": 0.3}}, name=n
        )
        for n, v0, v1 in (("A", 20.0, 5.0), ("B", 21.0, 4.8))
    ]
    res = Combiner(ms, correlations={("A:jes", "B:jes"): 1.0}).combine()
    binning = Binning.from_edges([0.0, 50.0, 100.0], name="pt", label="$p_{T}$", unit="GeV")
    diff = DifferentialResult.from_result(res, ["b0", "b1"], binning=binning)
    header, rows = _markdown_table(diff.to_markdown())
    assert header == ["$p_{T}$", "Value"]
    assert [r[0] for r in rows] == ["[0, 50) GeV", "[50, 100) GeV"]
    stat = res.breakdown["stat"]
    for r, o in zip(rows, ["b0", "b1"], strict=True):
        syst = math.sqrt(res.errors[o] ** 2 - stat[o] ** 2)
        assert r[1] == format_value(res.values[o], stat[o], syst, labels=("stat", "syst"))
    bd_header, _ = _markdown_table(diff.to_markdown(breakdown=True))
    assert bd_header == ["Source", "[0, 50) GeV", "[50, 100) GeV"]
    text = result_table(diff, "text")
    assert "[0, 50) GeV" in text
    tex = breakdown_table(diff, "latex")
    assert tex.count("&") == 2 * (len(res.breakdown.rows) + 2)  # header, components, total
    assert np.isfinite(res.chi2)

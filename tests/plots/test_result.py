"""Rendering tests of hepcombine.plots.result and hepcombine.plots.scan (Agg backend, PNG files
in a temporary directory): the expected artists, labels and numbers of points.

Numbers drawn are checked against values computed here: input errors are √(stat² + syst²) of
the test's own measurements; the two-measurement combination is the closed-form GLS
(x̂ = 1ᵀC⁻¹y / 1ᵀC⁻¹1, σ² = 1/1ᵀC⁻¹1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import UnknownName
from hepcombine.scan import scan_correlations
from hepcombine.spec import CombinationSpec, ScanGroup

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pytest.importorskip("mplhep")

from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

from hepcombine.formatting import format_value  # noqa: E402
from hepcombine.plots.result import (  # noqa: E402
    inputs_for,
    plot_breakdown,
    plot_correlation,
    plot_differential,
    plot_pulls,
    plot_spectrum,
    plot_summary,
)
from hepcombine.plots.scan import plot_scan  # noqa: E402

Y = np.array([10.0, 12.0])
STAT = np.array([1.0, 1.5])
SYST = np.array([0.8, 1.2])
RHO = 0.4


def _two() -> dict[str, Measurement]:
    return {
        n: Measurement.from_uncertainties({"x": Y[i]}, {"x": STAT[i]}, {"s": {"x": SYST[i]}})
        for i, n in enumerate(("A", "B"))
    }


def _gls(rho: float) -> tuple[float, float]:
    cov = np.diag(STAT**2 + SYST**2)
    cov[0, 1] = cov[1, 0] = rho * SYST[0] * SYST[1]
    w = np.linalg.inv(cov)
    var = 1.0 / w.sum()
    return float(var * (w @ Y).sum()), math.sqrt(var)


@pytest.fixture(autouse=True)
def _close():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _save(fig, path) -> None:
    fig.savefig(path, dpi=40)
    assert path.stat().st_size > 1000


def _bars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


# ---------------------------------------------------------------------- scan
def test_plot_scan(tmp_path) -> None:
    comb = Combiner(_two(), correlations={("A:s", "B:s"): RHO})
    scan = scan_correlations(comb, ScanGroup("lumi", [("A:s", "B:s", -0.6, 1.0)], 9))
    fig = plot_scan(scan, "x")
    _save(fig, tmp_path / "scan.png")
    top, mid, bottom = fig.axes
    assert top.get_ylabel() == "x"
    assert "A:s" in bottom.get_xlabel() and "B:s" in bottom.get_xlabel()
    assert "scan: lumi" in [t.get_text() for t in top.texts]
    # the curve: one point per scan point, on the GLS values
    (line,) = [ln for ln in top.get_lines() if len(ln.get_xdata()) == 9]
    expected = [_gls(r)[0] for r in np.linspace(-0.6, 1.0, 9)]
    assert np.allclose(line.get_ydata(), expected, rtol=1e-10)
    assert any(isinstance(c, PolyCollection) for c in top.collections)  # the band
    # the nominal point: open marker at (ρ nominal, value) with its error
    (nom,) = _bars(top)
    xn, yn = nom.lines[0].get_data()
    assert xn[0] == pytest.approx(RHO) and yn[0] == pytest.approx(_gls(RHO)[0], rel=1e-10)
    assert nom.lines[0].get_markerfacecolor() == "white"
    chi2_line = bottom.get_lines()[0]
    assert len(chi2_line.get_xdata()) == 9
    # Δvalue: the shift from the nominal GLS value, with the nominal error as a band
    (shift,) = [ln for ln in mid.get_lines() if len(ln.get_xdata()) == 9]
    assert np.allclose(shift.get_ydata(), np.array(expected) - _gls(RHO)[0], rtol=1e-9, atol=1e-12)
    (band,) = mid.patches
    assert band.get_extents().height > 0
    # the legend sits in the headroom above every drawn point
    top.figure.canvas.draw()
    legend_box = top.get_legend().get_window_extent()
    nominal_top = top.transData.transform((RHO, _gls(RHO)[0] + _gls(RHO)[1]))[1]
    assert legend_box.y0 > nominal_top
    with pytest.raises(UnknownName):
        plot_scan(scan, "nope")


def test_plot_scan_leaves_out_invalid_points(tmp_path) -> None:
    ms = {
        n: Measurement.from_uncertainties({"x": v}, {"x": 1.0}, {"s": {"x": 0.5}})
        for n, v in (("A", 10.0), ("B", 10.5), ("C", 9.8))
    }
    # ρ(B,C) must be ≥ 0.62 for a valid matrix when ρ(A,B) = ρ(A,C) = 0.9 (see test_scan)
    nominal = {("A:s", "B:s"): 0.9, ("A:s", "C:s"): 0.9, ("B:s", "C:s"): 0.9}
    scan = scan_correlations(
        Combiner(ms, correlations=nominal), ScanGroup("BC", [("B:s", "C:s", 0.0, 1.0)], 6)
    )
    assert scan.valid.tolist() == [False] * 4 + [True] * 2
    fig = plot_scan(scan, "x")
    _save(fig, tmp_path / "scan_invalid.png")
    top, _, bottom = fig.axes
    curve = next(ln for ln in top.get_lines() if len(ln.get_xdata()) == 6)
    assert np.sum(np.isfinite(curve.get_ydata())) == 2
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert any("4 of 6" in t for t in labels)
    crosses = [ln for ln in bottom.get_lines() if ln.get_marker() == "x"]
    assert len(crosses) == 1 and len(crosses[0].get_xdata()) == 4


# ---------------------------------------------------------------------- inputs
def test_inputs_for_all_forms() -> None:
    ms = _two()
    total = np.sqrt(STAT**2 + SYST**2)
    expected = {"x": {"A:x": (Y[0], total[0]), "B:x": (Y[1], total[1])}}
    comb = Combiner(ms)
    res = comb.combine()
    for got in (
        inputs_for(comb, res),
        inputs_for(ms),
        inputs_for(ms, observables={"x": ["A:x", "B:x"]}),
        inputs_for(CombinationSpec(measurements=ms, observables={"x": ["A:x", "B:x"]})),
    ):
        assert list(got) == ["x"]
        assert list(got["x"]) == ["A:x", "B:x"]
        for k, (v, e) in expected["x"].items():
            assert got["x"][k][0] == pytest.approx(v)
            assert got["x"][k][1] == pytest.approx(e, rel=1e-12)
    # an observable that only one measurement maps to
    partial = inputs_for(Combiner(ms, {"y": ["B:x"]}))
    assert list(partial["y"]) == ["B:x"]
    with pytest.raises(UnknownName):
        inputs_for(ms, observables={"x": ["C:x"]})


# ---------------------------------------------------------------------- summary
def _values(ax) -> list[str]:
    """The printed column at the right of a summary (after its header)."""
    return [t.get_text() for t in ax.texts if t.get_position()[0] == 1.03][1:]


def test_plot_summary(tmp_path) -> None:
    comb = Combiner(_two(), correlations={("A:s", "B:s"): RHO})
    res = comb.combine()
    fig = plot_summary(res, inputs_for(comb, res, stat=True), theory=(11.5, 0.4))
    _save(fig, tmp_path / "summary.png")
    (ax,) = fig.axes
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["A", "B", "Combination"]  # measurement names, not "A:x"
    bars = _bars(ax)
    assert len(bars) == 6  # inputs and combination, total and stat each
    x, err = _gls(RHO)
    # the combination's statistical part: the GLS of the stat covariance alone, with the
    # weights of the full one: σ_stat² = Σ w_i² stat_i²
    cov = np.diag(STAT**2 + SYST**2)
    cov[0, 1] = cov[1, 0] = RHO * SYST[0] * SYST[1]
    w = np.linalg.solve(cov, np.ones(2)) / np.linalg.solve(cov, np.ones(2)).sum()
    stat = math.sqrt(np.sum(w**2 * STAT**2))
    assert res.breakdown["stat"]["x"] == pytest.approx(stat, rel=1e-9)
    texts = _values(ax)
    assert texts == [
        format_value(Y[0], STAT[0], SYST[0]),
        format_value(Y[1], STAT[1], SYST[1]),
        format_value(x, stat, math.sqrt(err**2 - stat**2)),
    ]
    assert texts[0] == "10.0 ± 1.0 ± 0.8"  # PDG: 1.0 and 0.8 → one decimal
    assert ax.get_xlabel() == "x"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-1] == "Theory" or "Theory" in legend
    assert any("ndf = " in t for t in legend)
    # the flat form of the inputs (no stat: no stat bars), and the combination alone
    flat = plot_summary(res, inputs_for(comb)["x"], "x", names={"A:x": "ATLAS"}, unit="pb")
    fax = flat.axes[0]
    assert [t.get_text() for t in fax.get_yticklabels()][:2] == ["ATLAS", "B"]
    assert fax.get_xlabel() == "x [pb]"
    alone = plot_summary(res)
    assert [t.get_text() for t in alone.axes[0].get_yticklabels()] == ["Combination"]
    with pytest.raises(UnknownName):
        plot_summary(res, observable="nope")


def test_plots_draw_into_given_axes_and_leave_global_state_alone(tmp_path) -> None:
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    before = dict(mpl.rcParams)
    interactive = mpl.is_interactive()
    comb = Combiner(_two(), correlations={("A:s", "B:s"): RHO})
    res = comb.combine()
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 4))
    assert plot_summary(res, inputs_for(comb, res), ax=a) is fig
    assert plot_breakdown(res, ax=b) is fig
    _save(fig, tmp_path / "two.png")
    assert dict(mpl.rcParams) == before and mpl.is_interactive() == interactive


def test_plot_breakdown(tmp_path) -> None:
    res = _many_sources(20)
    fig = plot_breakdown(res, max_components=8, relative=True)
    _save(fig, tmp_path / "breakdown.png")
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Total" and labels[-1] == f"{len(res.breakdown.rows) - 7} others"
    widths = [p.get_width() for p in ax.patches]
    v = res.values["x"]
    assert widths[0] == pytest.approx(100 * res.errors["x"] / v)
    ranked = sorted((abs(r["x"]) for r in res.breakdown.values()), reverse=True)
    assert widths[1:8] == pytest.approx([100 * c / v for c in ranked[:7]])
    rest = math.sqrt(sum(c * c for c in ranked[7:]))
    assert widths[8] == pytest.approx(100 * rest / v)
    assert ax.get_xlabel() == "x: uncertainty [%]"


# ---------------------------------------------------------------------- differential
def _differential():
    from hepcombine import Binning, DifferentialMeasurement, DifferentialResult
    from hepcombine.binning import Quantity

    edges = [0.0, 50.0, 100.0, 200.0, 400.0]
    truth = np.array([200.0, 40.0, 10.0, 1.0])
    binning = Binning.from_edges(edges, name="pt", label="$p_T$", unit="GeV")
    quantity = Quantity(r"$d\sigma/dp_T$", "pb/GeV")
    ms = []
    for name, f in (("ATLAS", 1.04), ("CMS", 0.97)):
        m = Measurement.from_uncertainties(
            {f"b{i}": f * t for i, t in enumerate(truth)},
            {f"b{i}": 0.05 * t for i, t in enumerate(truth)},
            {"jes": {f"b{i}": 0.03 * t for i, t in enumerate(truth)}},
            name=name,
        )
        ms.append(DifferentialMeasurement(m, binning, quantity))
    comb = Combiner([d.measurement for d in ms], correlations={("ATLAS:jes", "CMS:jes"): 1.0})
    res = comb.combine()
    diff = DifferentialResult.from_result(res, [f"b{i}" for i in range(4)], binning=binning)
    return ms, diff


def test_plot_differential_in_one_call(tmp_path) -> None:
    ms, diff = _differential()
    fig = plot_differential(diff, ms, exp_label="ATLAS+CMS")
    _save(fig, tmp_path / "differential.png")
    ax, rax = fig.axes
    assert ax.get_ylabel() == r"$d\sigma/dp_T$ [pb/GeV]"  # from the inputs' quantity
    assert rax.get_xlabel() == "$p_T$ [GeV]"
    assert ax.get_yscale() == "log"  # 200 … 1: more than a decade
    bars = _bars(ax)
    totals = [np.sqrt(np.diag(m.measurement.covariance)) for m in ms]
    for bar, m, tot in zip(bars, ms, totals, strict=True):
        assert np.allclose(bar.lines[0].get_ydata(), m.measurement.estimates)
        seg = bar.lines[2][0].get_segments()
        assert np.allclose([s[1][1] - s[0][1] for s in seg], 2 * tot)
    ratios = [b.lines[0].get_ydata() for b in _bars(rax)]
    assert np.allclose(ratios[0], ms[0].measurement.estimates / diff.values)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "Combination" and "ATLAS" in legend and "CMS" in legend


def test_plot_differential_breakdown_and_correlation(tmp_path) -> None:
    _, diff = _differential()
    fig = plot_breakdown(diff)
    _save(fig, tmp_path / "breakdown_bins.png")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "$p_T$ [GeV]" and ax.get_ylabel() == "relative uncertainty [%]"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "Total" and set(legend[1:]) == set(diff.result.breakdown.rows)
    corr = plot_correlation(diff)
    _save(corr, tmp_path / "corr_bins.png")
    cax = corr.axes[0]
    assert [t.get_text() for t in cax.get_xticklabels()] == [
        "[0, 50)",
        "[50, 100)",
        "[100, 200)",
        "[200, 400)",
    ]
    assert cax.get_xlabel() == "$p_T$ [GeV]"
    (im,) = cax.get_images()
    assert np.allclose(im.get_array(), diff.correlation)


def test_one_observable_has_no_correlation_matrix() -> None:
    from hepcombine.exceptions import InvalidArgument

    res = Combiner(_two()).combine()
    with pytest.raises(InvalidArgument, match="at least two"):
        plot_correlation(res)


# ---------------------------------------------------------------------- pulls
def _many_sources(n_src: int):
    rng = np.random.default_rng(5)
    ms = [
        Measurement.from_uncertainties(
            {"x": 10.0 + rng.normal(0, 1)},
            {"x": 1.0},
            {f"s{j}": {"x": rng.uniform(0.1, 1.0)} for j in range(n_src)},
            name=n,
        )
        for n in "AB"
    ]
    return Combiner(ms, correlations={(f"A:s{j}", f"B:s{j}"): 0.5 for j in range(n_src)}).combine()


def test_plot_pulls(tmp_path) -> None:
    res = _many_sources(3)
    fig = plot_pulls(res)
    _save(fig, tmp_path / "pulls.png")
    (ax,) = fig.axes
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == list(res.pulls)  # first source at the top: y descending
    (bar,) = _bars(ax)
    x, y = bar.lines[0].get_data()
    assert np.allclose(x, [res.pulls[s] for s in names])
    assert list(y) == sorted(y, reverse=True)
    assert len(ax.patches) == 2  # ±1 and ±2 bands
    sub = plot_pulls(res, ["B:s1", "A:s0"])
    assert [t.get_text() for t in sub.axes[0].get_yticklabels()] == ["B:s1", "A:s0"]
    big = plot_pulls(_many_sources(50))  # 100 rows: the figure grows
    _save(big, tmp_path / "pulls100.png")
    assert big.get_figheight() > 3 * fig.get_figheight()
    assert len(big.axes[0].get_yticklabels()) == 100
    with pytest.raises(UnknownName):
        plot_pulls(res, ["A:nope"])


# ---------------------------------------------------------------------- correlation
def _n_observables(n: int):
    rng = np.random.default_rng(11)
    est = {f"o{i}": 10.0 + i for i in range(n)}
    ms = [
        Measurement.from_uncertainties(
            {k: v + rng.normal(0, 0.5) for k, v in est.items()},
            dict.fromkeys(est, 1.0),
            {"s": {k: rng.uniform(0.2, 1.0) for k in est}},
            name=m,
        )
        for m in "AB"
    ]
    return Combiner(ms, correlations={("A:s", "B:s"): 1.0}).combine()


def test_plot_correlation(tmp_path) -> None:
    res = _n_observables(4)
    fig = plot_correlation(res)
    _save(fig, tmp_path / "corr.png")
    ax = fig.axes[0]
    (im,) = ax.get_images()
    assert np.allclose(im.get_array(), res.correlation.matrix)
    assert im.get_clim() == (-1, 1)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(res.observables)
    assert len(ax.texts) == 16
    assert ax.texts[1].get_text() == f"{res.correlation['o0', 'o1']:.2f}"
    many = plot_correlation(_n_observables(21))
    _save(many, tmp_path / "corr21.png")
    assert len(many.axes[0].texts) == 0  # no numbers above 20 observables


# ---------------------------------------------------------------------- spectrum
def test_plot_spectrum(tmp_path) -> None:
    edges = np.array([0.0, 50, 100, 200, 400])
    comb = np.array([200.0, 40.0, 10.0, 1.0])
    inputs = {"ATLAS": (comb * 1.05, comb * 0.1), "CMS": (comb * 0.95, comb * 0.12)}
    fig = plot_spectrum(edges, inputs, (comb, 0.05 * comb, 0.06 * comb), axis_label="pT [GeV]")
    _save(fig, tmp_path / "spectrum.png")
    ax, rax = fig.axes
    assert rax.get_xlabel() == "pT [GeV]"
    bars = _bars(ax)
    assert len(bars) == 2 and all(len(b.lines[0].get_xdata()) == 4 for b in bars)
    # ratio panel: inputs divided by the combination
    ratios = [b.lines[0].get_ydata() for b in _bars(rax)]
    assert np.allclose(ratios[0], 1.05) and np.allclose(ratios[1], 0.95)
    # points stay inside their bins
    for b in bars:
        xs = b.lines[0].get_xdata()
        assert np.all((xs > edges[:-1]) & (xs < edges[1:]))
    assert ax.get_yscale() == "log"  # 200 … 1 spans more than a decade
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Combination",
        "Combination (total unc.)",
        "ATLAS",
        "CMS",
    ]
    single = plot_spectrum(edges, inputs, (comb, comb * 0.1, comb * 0.1), ratio=False)
    assert len(single.axes) == 1
    # a measurement that covers only some bins (NaN elsewhere) still renders, linear scale
    partial = {"ATLAS": (np.array([1.0, np.nan, 3.0, 4.0]), np.array([0.1, np.nan, 0.3, 0.4]))}
    fig = plot_spectrum(
        edges, partial, (np.array([1.0, 2, 3, 4]), np.full(4, 0.1), np.full(4, 0.1))
    )
    _save(fig, tmp_path / "partial.png")
    assert fig.axes[0].get_yscale() == "linear"
    assert np.sum(np.isfinite(_bars(fig.axes[0])[0].lines[0].get_ydata())) == 3
    with pytest.raises(ValueError, match="bins"):
        plot_spectrum(edges, inputs, (comb[:3], comb[:3], comb[:3]))

"""Tests of hepcombine.differential: normalisation, DifferentialResult, ROOT/hist output.

Every expected number has its own source here: the closed-form GLS (generalised least squares)
combination of the inputs written to the ROOT files, computed in this file; a finite-difference
Jacobian, a direct χ² fit of shape parameters and toy samples for the normalisation; the numbers
of the combination result itself for what the writer must copy (profile intervals, breakdown).
"""

from __future__ import annotations

import os
import re
from functools import partial

import hist
import numpy as np
import pytest
import uproot
from conftest import (
    expect_distribution,
    expect_objects,
    gls,
    hist2d,
    judge_root_file,
    weighted_hist,
)

from hepcombine import Measurement
from hepcombine.combiner import Combiner
from hepcombine.differential import DifferentialResult, normalise
from hepcombine.exceptions import IntervalError, InvalidMeasurement, OutputError, UnknownName
from hepcombine.inputs.histograms import (
    Systematic,
    combine_differential,
    measurement_from_graph,
    measurement_from_histograms,
)
from hepcombine.outputs.hist import to_hist
from hepcombine.outputs.root import GraphAsymmErrors, breakdown_keys, root_key, write_root

EDGES = np.array([0.0, 1.0, 3.0, 7.0, 15.0])  # variable bin widths

# the shared builders (tests/conftest.py) on this file's bins
weighted_hist = partial(weighted_hist, edges=EDGES)
hist2d = partial(hist2d, edges=EDGES)
CENTERS = 0.5 * (EDGES[1:] + EDGES[:-1])
N = 4


# ---------------------------------------------------------------------- helpers
def numpy_measurement(name, values, stat_cov, syst):
    bins = [f"{name}_bin{i}" for i in range(len(values))]
    sigma = np.sqrt(np.diag(stat_cov))
    return Measurement.from_uncertainties(
        dict(zip(bins, values, strict=True)),
        dict(zip(bins, sigma, strict=True)),
        {s: dict(zip(bins, u, strict=True)) for s, u in syst.items()},
        stat_correlation=stat_cov / np.outer(sigma, sigma),
        name=name,
    )


def th1(f, key):
    h = f[key]
    return h.values(), h.errors(), h.axis().edges()


# ---------------------------------------------------------------------- normalise
V4 = np.array([12.0, 30.0, 21.0, 7.0])
C4 = np.array(
    [
        [1.0, 0.4, 0.1, 0.0],
        [0.4, 2.25, 0.5, 0.2],
        [0.1, 0.5, 1.44, 0.3],
        [0.0, 0.2, 0.3, 0.36],
    ]
)


def finite_difference_jacobian(f, v, step=1e-6):
    jac = np.empty((len(f(v)), len(v)))
    for j in range(len(v)):
        dv = np.zeros(len(v))
        dv[j] = step * max(abs(v[j]), 1.0)
        jac[:, j] = (f(v + dv) - f(v - dv)) / (2 * dv[j])
    return jac


@pytest.mark.parametrize("widths", [None, np.diff(EDGES)])
def test_normalise_equals_finite_difference_propagation(widths):
    w = np.ones(N) if widths is None else widths
    jac = finite_difference_jacobian(lambda v: v / (w @ v), V4)
    values, cov = normalise(V4, C4, widths=widths)
    np.testing.assert_allclose(values, V4 / (w @ V4), rtol=1e-14)
    np.testing.assert_allclose(cov, jac @ C4 @ jac.T, rtol=1e-7, atol=1e-14)
    # singular: the constraint Σ w_i n_i = 1 leaves no variance along w; rank n - 1
    assert w @ values == pytest.approx(1.0, rel=1e-14)
    assert abs(w @ cov @ w) < 1e-15 * np.trace(cov) * (w @ w)
    assert np.linalg.matrix_rank(cov, tol=1e-10 * np.abs(cov).max()) == N - 1


def test_normalise_equals_direct_fit_of_shape_parameters():
    """Fit v_i = S f_i (f_{n-1} = 1 - Σ_{i<n-1} f_i) to the values with χ² = rᵀC⁻¹r; the
    covariance of the fitted fractions (iminuit Hesse) is the normalised covariance."""
    from iminuit import Minuit

    cinv = np.linalg.inv(C4)

    def model(p):
        f = np.append(p[1:], 1.0 - np.sum(p[1:]))
        return p[0] * f

    def chi2(p):
        r = V4 - model(p)
        return r @ cinv @ r

    m = Minuit(chi2, np.array([60.0, 0.25, 0.25, 0.25]))
    m.errordef = Minuit.LEAST_SQUARES
    m.tol = 1e-8
    m.strategy = 2
    m.migrad()
    m.hesse()
    assert m.valid
    p = np.array(m.values)
    # fractions f = A p[1:] + b: the last one is 1 - Σ of the others (a linear map)
    a = np.vstack([np.eye(N - 1), -np.ones((1, N - 1))])
    f_cov = a @ np.array(m.covariance)[1:, 1:] @ a.T
    values, cov = normalise(V4, C4)
    np.testing.assert_allclose(np.append(p[1:], 1 - p[1:].sum()), values, rtol=1e-6)
    np.testing.assert_allclose(cov, f_cov, rtol=2e-3, atol=1e-3 * np.abs(cov).max())


def test_normalise_agrees_with_toys():
    """The sample covariance of the shapes of 20 000 Gaussian toys agrees within 5 standard
    errors of the sample covariance (relative uncertainties of a few % keep the map linear)."""
    rng = np.random.default_rng(20240611)
    toys = rng.multivariate_normal(V4, C4, size=20_000)
    shapes = toys / toys.sum(axis=1, keepdims=True)
    sample = np.cov(shapes, rowvar=False)
    values, cov = normalise(V4, C4)
    d = np.sqrt(np.diag(cov))
    se = np.sqrt((np.outer(d, d) ** 2 + cov**2) / len(toys))  # σ of a sample covariance
    assert np.all(np.abs(sample - cov) < 5 * se)
    np.testing.assert_allclose(shapes.mean(axis=0), values, atol=5 * d.max() / np.sqrt(len(toys)))


def test_normalise_bad_input():
    with pytest.raises(InvalidMeasurement, match=r"shape \(3, 3\), expected \(4, 4\)"):
        normalise(V4, np.eye(3))
    with pytest.raises(InvalidMeasurement, match="sum .* to zero"):
        normalise([1.0, -1.0], np.eye(2))
    with pytest.raises(InvalidMeasurement, match="NaN"):
        normalise([1.0, np.nan], np.eye(2))


# ---------------------------------------------------------------------- end to end via ROOT
A_VAL = np.array([10.0, 0.0, 5.0, 2.0])  # bin 1: zero content, with a stat error
A_COV = np.array(
    [
        [4.0, 0.8, 0.3, 0.0],
        [0.8, 1.0, 0.2, 0.1],
        [0.3, 0.2, 2.25, 0.4],
        [0.0, 0.1, 0.4, 1.0],
    ]
)
A_JES = np.array([0.5, 0.25, -0.5, 0.125])  # dyadic: up/down variations are exactly ±
A_LUMI = np.array([0.25, 0.0, 0.125, 0.0625])
B_VAL = np.array([11.0, 0.5, 4.0, 2.5])
B_SIGMA = np.array([2.5, 1.25, 1.5, 0.75])
B_RHO = np.array(
    [
        [1.0, -0.3, 0.1, 0.0],
        [-0.3, 1.0, 0.2, 0.0],
        [0.1, 0.2, 1.0, 0.25],
        [0.0, 0.0, 0.25, 1.0],
    ]
)
B_COV = B_RHO * np.outer(B_SIGMA, B_SIGMA)
B_JES = np.array([0.75, 0.0, 0.25, 0.25])  # a shift histogram with an empty bin
B_LUMI = np.array([0.25, 0.0, 0.125, 0.0625])


def closed_form():
    """GLS of the eight inputs; JES and lumi 100 % correlated between A and B, so each is one
    shift vector over all eight inputs."""
    y = np.concatenate([A_VAL, B_VAL])
    design = np.vstack([np.eye(N), np.eye(N)])
    stat = np.zeros((8, 8))
    stat[:4, :4], stat[4:, 4:] = A_COV, B_COV
    jes = np.concatenate([A_JES, B_JES])
    lumi = np.concatenate([A_LUMI, B_LUMI])
    parts = {"stat": stat, "jes": np.outer(jes, jes), "lumi": np.outer(lumi, lumi)}
    x, cov, lam = gls(y, design, sum(parts.values()))
    breakdown = {k: np.sqrt(np.diag(lam.T @ c @ lam)) for k, c in parts.items()}
    return x, cov, breakdown


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A: weighted TH1D with under/overflow, TH2D stat covariance, JES and lumi as up/down
    variation TH1Ds. B: a TGraphAsymmErrors (stat errors, written with rootio.write_root), a
    TH2D stat correlation and shift TH1Ds."""
    d = tmp_path_factory.mktemp("differential")
    with uproot.recreate(d / "a.root") as f:
        f["h_pt"] = weighted_hist(A_VAL, np.full(N, 9.0), flow=(5.0, 3.0))  # errors unused
        f["h_pt_cov"] = hist2d(A_COV)
        f["h_pt_jes_up"] = (A_VAL + A_JES, EDGES)
        f["h_pt_jes_down"] = (A_VAL - A_JES, EDGES)
        f["h_pt_lumi_up"] = (A_VAL + A_LUMI, EDGES)
        f["h_pt_lumi_down"] = (A_VAL - A_LUMI, EDGES)
    half = np.diff(EDGES) / 2
    graphs = {
        "gr_pt": GraphAsymmErrors(
            CENTERS, B_VAL, half, half, B_SIGMA, B_SIGMA, x_title="p_{T} [GeV]"
        )
    }
    write_root(d / "b.root", graphs)
    judge_root_file(d / "b.root", expect_objects(graphs))
    with uproot.update(d / "b.root") as f:
        f["corr"] = hist2d(B_RHO)
        f["jes"] = (B_JES, EDGES)
        f["lumi"] = (B_LUMI, EDGES)
    a = measurement_from_histograms(
        "h_pt",
        name="A",
        stat_covariance="h_pt_cov",
        systematics={
            "jes": ("h_pt_jes_up", "h_pt_jes_down"),
            "lumi": ("h_pt_lumi_up", "h_pt_lumi_down"),
        },
        file=d / "a.root",
    )
    b = measurement_from_graph(
        "gr_pt",
        name="B",
        stat_correlation="corr",
        systematics={"jes": "jes", "lumi": "lumi"},
        kind="shift",
        file=d / "b.root",
    )
    return d, a, b


CORRELATIONS = {("A:jes", "B:jes"): 1.0, ("A:lumi", "B:lumi"): 1.0}


def test_root_files_to_combination_to_root_file(inputs):
    d, a, b = inputs
    res = combine_differential([a, b], CORRELATIONS)
    assert res.observables == ("bin0", "bin1", "bin2", "bin3")
    np.testing.assert_array_equal(res.edges, EDGES)
    assert res.axis_label == "p_{T} [GeV]"

    x, cov, breakdown = closed_form()
    err = np.sqrt(np.diag(cov))
    corr = cov / np.outer(err, err)
    np.testing.assert_allclose(res.values, x, rtol=1e-9)
    np.testing.assert_allclose(res.errors, err, rtol=1e-9)
    np.testing.assert_allclose(res.covariance, cov, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(res.correlation, corr, rtol=1e-8, atol=1e-12)

    # the same combination from numpy arrays
    direct = Combiner(
        [
            numpy_measurement("A", A_VAL, A_COV, {"jes": A_JES, "lumi": A_LUMI}),
            numpy_measurement("B", B_VAL, B_COV, {"jes": B_JES, "lumi": B_LUMI}),
        ],
        {f"bin{i}": [f"A:A_bin{i}", f"B:B_bin{i}"] for i in range(N)},
        CORRELATIONS,
    ).combine()
    np.testing.assert_allclose([direct.values[o] for o in res.observables], x, rtol=1e-9)
    assert direct.breakdown.rows == ("stat", "jes", "lumi")

    path = d / "out.root"
    write_root(path, res, normalised=True, directory="combination")
    judge_root_file(path, expect_distribution(res, normalised=True), directory="combination")
    with uproot.open(path) as f:
        assert {k.split(";")[0] for k in f.keys()} == {  # noqa: SIM118 (uproot API)
            "combination",
            *(
                f"combination/{k}"
                for k in (
                    "combined",
                    "combined_profile",
                    "covariance",
                    "correlation",
                    "breakdown_stat",
                    "breakdown_jes",
                    "breakdown_lumi",
                    "normalised",
                    "normalised_covariance",
                )
            ),
        }
        g = f["combination"]
        values, errors, edges = th1(g, "combined")
        np.testing.assert_allclose(values, x, rtol=1e-9)
        np.testing.assert_allclose(errors, err, rtol=1e-9)
        np.testing.assert_array_equal(edges, EDGES)
        assert np.all(g["combined"].values(flow=True)[[0, -1]] == 0)  # inputs' flow ignored

        gr = g["combined_profile"]
        assert gr.classname == "TGraphAsymmErrors"
        np.testing.assert_array_equal(gr.values(axis="x"), CENTERS)
        np.testing.assert_allclose(gr.values(axis="y"), x, rtol=1e-9)
        np.testing.assert_allclose(gr.errors("low", axis="x"), np.diff(EDGES) / 2)
        np.testing.assert_allclose(gr.errors("high", axis="x"), np.diff(EDGES) / 2)
        # quadratic χ²: the profile interval is x ± σ
        np.testing.assert_allclose(gr.errors("low", axis="y"), err, rtol=1e-9)
        np.testing.assert_allclose(gr.errors("high", axis="y"), err, rtol=1e-9)

        for key, expected in (("covariance", cov), ("correlation", corr)):
            h = g[key]
            assert h.classname == "TH2D"
            np.testing.assert_allclose(h.values(), expected, rtol=1e-8, atol=1e-12)
            np.testing.assert_array_equal(h.axis(0).edges(), EDGES)
            np.testing.assert_array_equal(h.axis(1).edges(), EDGES)

        for component, sigma in breakdown.items():
            values, errors, _ = th1(g, f"breakdown_{component}")
            np.testing.assert_allclose(values, sigma, rtol=1e-8, atol=1e-12)
            np.testing.assert_array_equal(errors, 0.0)
            np.testing.assert_allclose(
                values,
                [direct.breakdown[component][o] for o in res.observables],
                rtol=1e-8,
                atol=1e-12,
            )

        # normalised: n = x/S, J = (1 - n 1ᵀ)/S, written independently of normalise()
        s = x.sum()
        jac = (np.eye(N) - np.outer(x / s, np.ones(N))) / s
        values, errors, _ = th1(g, "normalised")
        np.testing.assert_allclose(values, x / s, rtol=1e-9)
        np.testing.assert_allclose(errors, np.sqrt(np.diag(jac @ cov @ jac.T)), rtol=1e-8)
        np.testing.assert_allclose(
            g["normalised_covariance"].values(), jac @ cov @ jac.T, rtol=1e-7, atol=1e-14
        )


def test_different_binning_names_both_histograms(inputs, tmp_path):
    _, a, _ = inputs
    with uproot.recreate(tmp_path / "c.root") as f:
        f["h_coarse"] = weighted_hist([10.0, 5.0, 2.0], np.ones(3), edges=[0.0, 1.0, 7.0, 15.0])
    c = measurement_from_histograms("h_coarse", name="C", file=tmp_path / "c.root")
    with pytest.raises(InvalidMeasurement, match="different binning") as err:
        combine_differential([a, c])
    assert "a.root:h_pt" in str(err.value)
    assert "c.root:h_coarse" in str(err.value)


def test_not_a_differential_measurement(inputs):
    _, a, _ = inputs
    with pytest.raises(InvalidMeasurement, match="input 1 is a Measurement"):
        combine_differential([a, a.measurement])


# ---------------------------------------------------------------------- hist round trip
@pytest.mark.parametrize(
    "axis",
    [
        hist.axis.Variable(EDGES, name="mjj", label="m_{jj} [GeV]"),
        hist.axis.Regular(4, 0.0, 2.0, name="eta", label="|#eta|"),
    ],
    ids=["variable", "regular"],
)
def test_hist_round_trip_keeps_axis(axis):
    edges = axis.edges
    h1 = hist.Hist(axis, storage=hist.storage.Weight(), label="d#sigma/dx")
    h2 = h1.copy()
    h1.view().value, h1.view().variance = [5.0, 4.0, 3.0, 2.0], [1.0, 1.0, 0.25, 0.25]
    h2.view().value, h2.view().variance = [6.0, 3.0, 3.5, 1.0], [4.0, 1.0, 0.25, 1.0]
    res = combine_differential(
        [measurement_from_histograms(h1, name="a"), measurement_from_histograms(h2, name="b")]
    )
    out = to_hist(res)
    assert isinstance(out.axes[0], type(axis))
    assert out.axes[0].name == axis.name
    assert out.axes[0].label == axis.label
    np.testing.assert_array_equal(out.axes[0].edges, edges)
    assert out.label == "d#sigma/dx"
    assert out.storage_type is hist.storage.Weight
    # two uncorrelated measurements: inverse-variance weighted mean per bin
    w1, w2 = 1 / h1.variances(), 1 / h2.variances()
    np.testing.assert_allclose(
        out.values(), (w1 * h1.values() + w2 * h2.values()) / (w1 + w2), rtol=1e-12
    )
    np.testing.assert_allclose(out.variances(), 1 / (w1 + w2), rtol=1e-12)
    # normalised: values sum to one, variance from the Jacobian written out here
    x, v = out.values(), np.diag(1 / (w1 + w2))
    s = x.sum()
    jac = (np.eye(4) - np.outer(x / s, np.ones(4))) / s
    norm = to_hist(res, normalised=True)
    np.testing.assert_allclose(norm.values(), x / s, rtol=1e-12)
    np.testing.assert_allclose(norm.variances(), np.diag(jac @ v @ jac.T), rtol=1e-10)


# ---------------------------------------------------------------------- profile intervals
@pytest.fixture(scope="module")
def pearson():
    """Pearson χ² with a relative (luminosity-like) source: a non-quadratic χ², whose profile
    intervals come from Minos and are asymmetric."""
    stat = np.array([[4.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    edges = np.array([0.0, 1.0, 2.0, 4.0])
    ms = []
    for name, values, lumi in (("a", [20.0, 9.0, 3.0], 0.1), ("b", [14.0, 6.0, 2.0], 0.08)):
        h = weighted_hist(values, np.diag(stat), edges=edges, name="x", label="x")
        ms.append(
            measurement_from_histograms(
                h,
                name=name,
                systematics={"lumi": Systematic(np.full(3, lumi), kind="fraction")},
                relative=["lumi"],
            )
        )
    return ms, edges


def test_pearson_profile_intervals_written_as_graph(pearson, tmp_path):
    ms, edges = pearson
    res = combine_differential(ms, {("a:lumi", "b:lumi"): 0.5}, chi2="pearson")
    r = res.result
    assert all(r.interval_status[o] == "profile" for o in res.observables)
    low = np.array([r.values[o] - r.interval(o)[0] for o in res.observables])
    high = np.array([r.interval(o)[1] - r.values[o] for o in res.observables])
    assert np.all(np.abs(high - low) > 1e-3 * (high + low))  # really asymmetric
    np.testing.assert_array_equal(res.asymmetric_errors(), (low, high))
    path = tmp_path / "pearson.root"
    write_root(path, res, directory="pearson/2016")
    judge_root_file(path, expect_distribution(res), directory="pearson/2016")
    with uproot.open(path) as f:
        gr = f["pearson/2016/combined_profile"]
        np.testing.assert_allclose(gr.values(axis="y"), res.values, rtol=1e-15)
        np.testing.assert_allclose(gr.errors("low", axis="y"), low, rtol=1e-12)
        np.testing.assert_allclose(gr.errors("high", axis="y"), high, rtol=1e-12)
        np.testing.assert_allclose(
            f["pearson/2016/combined"].errors(), [r.errors[o] for o in res.observables]
        )
        np.testing.assert_array_equal(f["pearson/2016/combined"].axis().edges(), edges)


def test_missing_intervals_raise_unless_symmetric_is_asked_for(pearson, tmp_path):
    ms, _ = pearson
    res = combine_differential(ms, chi2="pearson", intervals=False)
    assert not res.interval_valid.any()
    assert np.isnan(res.intervals_low).all() and np.isnan(res.intervals_high).all()
    with pytest.raises(IntervalError, match=r"bins \['bin0', 'bin1', 'bin2'\].*not computed"):
        res.asymmetric_errors()
    low, high = res.asymmetric_errors(invalid="nan")
    assert np.isnan(low).all() and np.isnan(high).all()
    path = tmp_path / "out.root"
    with pytest.raises(IntervalError, match="graph_errors='symmetric'"):
        write_root(path, res, directory="combination")
    assert not path.exists()
    write_root(path, res, graph_errors="symmetric", directory="combination")
    expected = expect_distribution(res, graph_errors="symmetric")
    judge_root_file(path, expected, directory="combination")
    with uproot.open(path) as f:
        gr = f["combination/combined_profile"]
        np.testing.assert_allclose(gr.errors("low", axis="y"), res.errors, rtol=1e-15)
        np.testing.assert_allclose(gr.errors("high", axis="y"), res.errors, rtol=1e-15)


def test_failed_write_leaves_existing_file_untouched(pearson, tmp_path):
    ms, _ = pearson
    res = combine_differential(ms, chi2="pearson", intervals=False)
    path = tmp_path / "out.root"
    write_root(path, res, graph_errors="symmetric", directory="combination")
    expected = expect_distribution(res, graph_errors="symmetric")
    judge_root_file(path, expected, directory="combination")
    before = path.read_bytes()
    with pytest.raises(IntervalError):
        write_root(path, res, directory="combination")  # profile intervals were not computed
    with pytest.raises(OutputError, match="not a valid ROOT name"):
        write_root(path, res, directory="bad;name", graph_errors="symmetric")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.root"]
    with pytest.raises(OutputError):
        write_root(tmp_path / "new.root", res, directory="", graph_errors="symmetric")
    assert os.listdir(tmp_path) == ["out.root"]


# ---------------------------------------------------------------------- names and from_result
def test_breakdown_names_are_sanitised_and_add_up(tmp_path):
    a = numpy_measurement("a", A_VAL, A_COV, {"jes": A_JES, "lumi": A_LUMI})
    b = numpy_measurement("b", B_VAL, B_COV, {"jes": B_JES, "lumi": B_LUMI})
    result = Combiner(
        [a, b],
        {f"bin{i}": [f"a:a_bin{i}", f"b:b_bin{i}"] for i in range(N)},
        {("a:jes", "b:lumi"): 0.5},
        groups={"JES/flavour (2016)": ["a:jes", "b:jes"], "lumi;1": ["a:lumi", "b:lumi"]},
    ).combine()
    res = DifferentialResult.from_result(result, edges=EDGES, axis_name="pt")
    keys = breakdown_keys(res)
    assert keys == {
        "stat": "breakdown_stat",
        "JES/flavour (2016)": "breakdown_JES_flavour_2016",
        "lumi;1": "breakdown_lumi_1",
        "correlations between groups": "breakdown_correlations_between_groups",
    }
    assert root_key("  ") == "unnamed"
    write_root(tmp_path / "b.root", res)
    judge_root_file(tmp_path / "b.root", expect_distribution(res))
    total = np.zeros(N)
    with uproot.open(tmp_path / "b.root") as f:
        for component, key in keys.items():
            values = f[key].values()
            np.testing.assert_array_equal(
                values, [result.breakdown[component][o] for o in res.observables]
            )
            total += np.sign(values) * values**2
    np.testing.assert_allclose(total, res.errors**2, rtol=1e-9)  # signed quadrature sum


def test_from_result_defaults_and_errors():
    a = numpy_measurement("a", A_VAL, A_COV, {})
    b = numpy_measurement("b", B_VAL, B_COV, {})
    result = Combiner([a, b], {f"y{i}": [f"a:a_bin{i}", f"b:b_bin{i}"] for i in range(N)}).combine()
    res = DifferentialResult.from_result(result)
    assert res.observables == ("y0", "y1", "y2", "y3")
    np.testing.assert_array_equal(res.edges, np.arange(5.0))
    out = to_hist(res)
    assert isinstance(out.axes[0], hist.axis.Regular)
    assert out.axes[0].name == "x"
    x, cov, _ = gls(
        np.concatenate([A_VAL, B_VAL]),
        np.vstack([np.eye(N), np.eye(N)]),
        np.block([[A_COV, np.zeros((N, N))], [np.zeros((N, N)), B_COV]]),
    )
    np.testing.assert_allclose(out.values(), x, rtol=1e-9)
    reordered = DifferentialResult.from_result(result, ["y2", "y0"], edges=[0.0, 2.0, 5.0])
    np.testing.assert_allclose(reordered.values, x[[2, 0]], rtol=1e-9)
    np.testing.assert_allclose(reordered.covariance, cov[np.ix_([2, 0], [2, 0])], rtol=1e-8)
    with pytest.raises(UnknownName, match=re.escape("['bin7']")):
        DifferentialResult.from_result(result, ["y0", "bin7"])
    with pytest.raises(InvalidMeasurement, match="4 bins need 5 bin edges"):
        DifferentialResult.from_result(result, edges=[0.0, 1.0, 2.0])
    with pytest.raises(InvalidMeasurement, match="increase"):
        DifferentialResult.from_result(result, edges=[0.0, 1.0, 1.0, 2.0, 3.0])


def test_points_without_bins(tmp_path):
    """Graph points whose x errors are not contiguous bins: no edges; histograms use the bin
    numbers as edges, the graph keeps the points' x."""
    x = np.array([1.0, 2.5, 6.0])
    gr = GraphAsymmErrors(x, [3.0, 2.0, 1.0], [0.1] * 3, [0.1] * 3, [0.5] * 3, [0.5] * 3)
    write_root(tmp_path / "g.root", {"g": gr})
    judge_root_file(tmp_path / "g.root", expect_objects({"g": gr}))
    m = measurement_from_graph("g", name="g", file=tmp_path / "g.root")
    res = combine_differential([m])
    assert res.edges is None
    write_root(tmp_path / "out.root", res, directory="combination")
    judge_root_file(tmp_path / "out.root", expect_distribution(res), directory="combination")
    with uproot.open(tmp_path / "out.root") as f:
        np.testing.assert_array_equal(f["combination/combined"].axis().edges(), np.arange(4.0))
        g = f["combination/combined_profile"]
        np.testing.assert_array_equal(g.values(axis="x"), x)
        np.testing.assert_array_equal(g.values(axis="y"), [3.0, 2.0, 1.0])
        np.testing.assert_array_equal(g.errors("low", axis="x"), 0.0)

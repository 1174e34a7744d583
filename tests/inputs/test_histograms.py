"""Tests of hepcombine.adapters: histograms and graphs → Measurement.

The ROOT files are written with uproot in the tests; every expected array is computed here by
hand from the numbers written (estimates = bin contents, stat information = inverse of the
covariance built here, shifts = varied − nominal etc.).
"""

from __future__ import annotations

import logging
import re
from functools import partial

import hist
import numpy as np
import pytest
import uproot
from conftest import hist2d, weighted_hist

from hepcombine.exceptions import InvalidMeasurement, UnknownName
from hepcombine.inputs.histograms import (
    Systematic,
    differential_observables,
    measurement_from_graph,
    measurement_from_histograms,
)

EDGES = np.array([0.0, 1.0, 3.0, 7.0, 15.0])  # variable bin widths

# the shared builders (tests/conftest.py) on this file's bins
weighted_hist = partial(weighted_hist, edges=EDGES)
hist2d = partial(hist2d, edges=EDGES)
VALUES = np.array([10.0, 0.0, 5.0, 2.0])  # bin 1 is empty but has a stat error
VARIANCES = np.array([4.0, 1.0, 2.25, 1.0])
UNDER, OVER = 3.0, 7.0
JES_UP = np.array([1.0, 0.5, -0.5, 0.2])  # shifts, written as varied histograms
JES_DOWN = np.array([-0.8, -0.4, 0.3, -0.1])
LUMI_FRACTION = np.array([0.02, 0.02, 0.02, 0.02])
COV = np.array(
    [
        [4.0, 0.8, 0.3, 0.0],
        [0.8, 1.0, 0.2, 0.1],
        [0.3, 0.2, 2.25, 0.4],
        [0.0, 0.1, 0.4, 1.0],
    ]
)


@pytest.fixture(scope="module")
def rootfile(tmp_path_factory):
    path = tmp_path_factory.mktemp("adapters") / "inputs.root"
    with uproot.recreate(path) as f:
        f["nominal"] = weighted_hist(VALUES, VARIANCES, flow=(UNDER, OVER))
        f["jes_up"] = (VALUES + JES_UP, EDGES)
        f["jes_down"] = (VALUES + JES_DOWN, EDGES)
        f["jes_up_shift"] = (JES_UP, EDGES)
        f["jes_down_shift"] = (JES_DOWN, EDGES)
        f["lumi_fraction"] = (LUMI_FRACTION, EDGES)
        f["lumi_percent"] = (100 * LUMI_FRACTION, EDGES)
        f["stat"] = (np.array([1.5, 1.0, 0.5, 0.8]), EDGES)
        f["stat_cov"] = hist2d(COV)
        f["stat_corr"] = hist2d(COV / np.outer(np.sqrt(np.diag(COV)), np.sqrt(np.diag(COV))))
        f["cov_by_index"] = hist2d(COV, edges=np.arange(5.0))
        f["rebinned"] = (VALUES, np.array([0.0, 1.0, 3.0, 7.0, 16.0]))
        f["three_bins"] = (VALUES[:3], EDGES[:4])
        f["poisson"] = (np.array([4.0, 9.0, 16.0, 25.0]), EDGES)
        f["empty_bin"] = weighted_hist([3.0, 0.0, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0])
        f["nan_bin"] = (np.array([1.0, 2.0, np.nan, 1.0]), EDGES)
    return path


def stat_info(cov):
    return np.linalg.inv(cov)


# ---------------------------------------------------------------------- nominal and stat
def test_nominal_from_file_path(rootfile, caplog):
    with caplog.at_level(logging.WARNING, logger="hepcombine.inputs.histograms"):
        d = measurement_from_histograms("nominal", name="atlas", file=rootfile)
    m = d.measurement
    assert m.name == "atlas"
    assert m.estimate_names == ("atlas_bin0", "atlas_bin1", "atlas_bin2", "atlas_bin3")
    assert d.bin_names == m.estimate_names
    np.testing.assert_array_equal(m.estimates, VALUES)  # flow bins are not estimates
    np.testing.assert_allclose(m.stat_information, np.diag(1 / VARIANCES), rtol=1e-12)
    assert m.source_names == ()
    np.testing.assert_array_equal(d.edges, EDGES)
    np.testing.assert_array_equal(d.centers, [0.5, 2.0, 5.0, 11.0])
    assert d.axis_label == "p_{T} [GeV]"
    assert "inputs.root:nominal" in d.origin
    # the non-zero under/overflow is reported, not used
    assert "underflow 3 and overflow 7 are ignored" in caplog.text


def test_unweighted_th1_uses_poisson_errors(rootfile):
    # a TH1D without sumw2: ROOT's convention is error = sqrt(content)
    d = measurement_from_histograms("poisson", name="p", file=rootfile)
    np.testing.assert_allclose(d.measurement.stat_covariance, np.diag([4.0, 9.0, 16.0, 25.0]))


def test_hist_object_gives_the_same_as_the_file(rootfile):
    h = weighted_hist(VALUES, VARIANCES, flow=(UNDER, OVER))
    direct = measurement_from_histograms(h, name="atlas").measurement
    with uproot.open(rootfile) as f:
        via_uproot = measurement_from_histograms(f["nominal"], name="atlas").measurement
    for m in (direct, via_uproot):
        np.testing.assert_array_equal(m.estimates, VALUES)
        np.testing.assert_allclose(m.stat_information, np.diag(1 / VARIANCES), rtol=1e-12)


def test_open_uproot_file_as_file_argument(rootfile):
    with uproot.open(rootfile) as f:
        d = measurement_from_histograms("nominal", name="a", systematics={"j": "jes_up"}, file=f)
    assert d.origin == "nominal 'inputs.root:nominal'"
    np.testing.assert_allclose(d.measurement.shifts_up[:, 0], JES_UP, atol=1e-12)


def test_storage_without_variances_needs_stat():
    h = hist.Hist(hist.axis.Variable(EDGES))  # Double storage, weighted fill: no variances
    h.fill(CENTERS, weight=[3.0, 1.0, 2.0, 5.0])
    assert h.variances() is None
    with pytest.raises(InvalidMeasurement, match=r"carries no variances.*stat="):
        measurement_from_histograms(h, name="a")
    d = measurement_from_histograms(h, name="a", stat=[1.0, 0.5, 1.0, 2.0])
    np.testing.assert_allclose(d.measurement.stat_information, np.diag([1.0, 4.0, 1.0, 0.25]))


def test_stat_from_histogram_contents(rootfile):
    d = measurement_from_histograms("nominal", name="a", stat="stat", file=rootfile)
    sigma = np.array([1.5, 1.0, 0.5, 0.8])
    np.testing.assert_allclose(d.measurement.stat_information, np.diag(sigma**-2), rtol=1e-12)


def test_stat_covariance_th2(rootfile):
    d = measurement_from_histograms("nominal", name="a", stat_covariance="stat_cov", file=rootfile)
    np.testing.assert_allclose(d.measurement.stat_information, stat_info(COV), rtol=1e-10)


def test_stat_correlation_th2_with_nominal_errors(rootfile):
    rho = COV / np.outer(np.sqrt(np.diag(COV)), np.sqrt(np.diag(COV)))
    sigma = np.array([1.5, 1.0, 0.5, 0.8])
    d = measurement_from_histograms(
        "nominal", name="a", stat="stat", stat_correlation="stat_corr", file=rootfile
    )
    expected = rho * np.outer(sigma, sigma)
    np.testing.assert_allclose(d.measurement.stat_information, stat_info(expected), rtol=1e-10)
    # with the nominal's own errors the correlation with COV's diagonal gives back COV
    d = measurement_from_histograms(
        "nominal", name="a", stat_correlation="stat_corr", file=rootfile
    )
    np.testing.assert_allclose(d.measurement.stat_information, stat_info(COV), rtol=1e-10)


def test_covariance_binned_by_index_needs_an_array(rootfile):
    with pytest.raises(InvalidMeasurement, match=r"inputs\.root:cov_by_index.*h\.values\(\)"):
        measurement_from_histograms(
            "nominal", name="a", stat_covariance="cov_by_index", file=rootfile
        )
    with uproot.open(rootfile) as f:
        matrix = f["cov_by_index"].values()
        d = measurement_from_histograms(f["nominal"], name="a", stat_covariance=matrix)
    np.testing.assert_allclose(d.measurement.stat_information, stat_info(COV), rtol=1e-10)


def test_percent_correlation_is_an_error_with_advice():
    with pytest.raises(InvalidMeasurement, match=r"percent.*/ 100"):
        measurement_from_histograms(
            weighted_hist(VALUES, VARIANCES), name="a", stat_correlation=100 * np.eye(4)
        )


def test_stat_covariance_excludes_stat():
    with pytest.raises(InvalidMeasurement, match="do not give stat="):
        measurement_from_histograms(
            weighted_hist(VALUES, VARIANCES), name="a", stat="errors", stat_covariance=COV
        )


# ---------------------------------------------------------------------- systematics
def test_variations_up_and_down(rootfile):
    d = measurement_from_histograms(
        "nominal",
        name="a",
        systematics={"jes": ("jes_up", "jes_down"), "jes_sym": "jes_up"},
        file=rootfile,
    )
    m = d.measurement
    assert m.source_names == ("jes", "jes_sym")
    np.testing.assert_allclose(m.shifts_up[:, 0], JES_UP, atol=1e-12)
    np.testing.assert_allclose(m.shifts_down[:, 0], JES_DOWN, atol=1e-12)
    # one variation only: symmetric, down = -up
    np.testing.assert_allclose(m.shifts_up[:, 1], JES_UP, atol=1e-12)
    np.testing.assert_allclose(m.shifts_down[:, 1], -JES_UP, atol=1e-12)
    assert list(m.is_asymmetric) == [True, False]


def test_shift_fraction_and_percent_kinds(rootfile):
    d = measurement_from_histograms(
        "nominal",
        name="a",
        kind="shift",
        systematics={
            "jes": ("jes_up_shift", "jes_down_shift"),
            "lumi": Systematic("lumi_fraction", kind="fraction"),
            "lumi_pc": Systematic("lumi_percent", kind="percent"),
        },
        relative=["lumi"],
        file=rootfile,
    )
    m = d.measurement
    np.testing.assert_allclose(m.shifts_up[:, 0], JES_UP, atol=1e-12)
    np.testing.assert_allclose(m.shifts_down[:, 0], JES_DOWN, atol=1e-12)
    lumi = 0.02 * VALUES  # zero-content bin 1 has zero shift
    np.testing.assert_allclose(m.shifts_up[:, 1], lumi, atol=1e-12)
    np.testing.assert_allclose(m.shifts_down[:, 1], -lumi, atol=1e-12)
    np.testing.assert_allclose(m.shifts_up[:, 2], lumi, atol=1e-12)
    assert m.relative == frozenset({"lumi"})


def test_arrays_as_systematics():
    d = measurement_from_histograms(
        weighted_hist(VALUES, VARIANCES),
        name="a",
        kind="shift",
        systematics={"s": (np.array([1.0, 2, 3, 4]), np.array([-1.0, -1, -1, -1]))},
    )
    np.testing.assert_array_equal(d.measurement.shifts_up[:, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(d.measurement.shifts_down[:, 0], [-1, -1, -1, -1])
    with pytest.raises(InvalidMeasurement, match="3 bins but nominal"):
        measurement_from_histograms(
            weighted_hist(VALUES, VARIANCES), name="a", systematics={"s": np.ones(3)}
        )


def test_unknown_relative_source():
    with pytest.raises(InvalidMeasurement, match=r"relative sources \['lumi'\]"):
        measurement_from_histograms(weighted_hist(VALUES, VARIANCES), name="a", relative=["lumi"])


def test_bin_prefix():
    d = measurement_from_histograms(weighted_hist(VALUES, VARIANCES), name="a", bin_prefix="pt_")
    assert d.bin_names == ("pt_0", "pt_1", "pt_2", "pt_3")


# ---------------------------------------------------------------------- errors
def test_mismatched_binning_names_both_histograms(rootfile):
    with pytest.raises(InvalidMeasurement) as err:
        measurement_from_histograms(
            "nominal", name="a", systematics={"x": "rebinned"}, file=rootfile
        )
    msg = str(err.value)
    assert "inputs.root:rebinned" in msg and "inputs.root:nominal" in msg
    assert "15" in msg and "16" in msg  # the differing last edge
    with pytest.raises(InvalidMeasurement, match=r"three_bins.*3 bins.*nominal.*4 bins"):
        measurement_from_histograms(
            "nominal", name="a", systematics={"x": "three_bins"}, file=rootfile
        )


def test_zero_content_and_zero_error_bin(rootfile):
    with pytest.raises(InvalidMeasurement, match=r"bin 1 \[1, 3\).*empty_bin.*zero content"):
        measurement_from_histograms("empty_bin", name="a", file=rootfile)


def test_zero_error_with_content():
    h = weighted_hist([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 0.0, 1.0])
    with pytest.raises(InvalidMeasurement, match=r"bin 2 \[3, 7\).*content 3.*zero statistical"):
        measurement_from_histograms(h, name="a")


def test_nan_names_histogram_and_bin(rootfile):
    with pytest.raises(InvalidMeasurement, match=r"nan_bin.*bin 2 \[3, 7\).*NaN"):
        measurement_from_histograms(
            "nominal", name="a", systematics={"x": "nan_bin"}, file=rootfile
        )
    with pytest.raises(InvalidMeasurement, match=r"nan_bin.*bin 2 \[3, 7\).*NaN"):
        measurement_from_histograms("nan_bin", name="a", file=rootfile)


def test_unknown_object_name(rootfile):
    with pytest.raises(UnknownName, match=r"no object 'nominl' in inputs\.root.*'nominal'"):
        measurement_from_histograms("nominl", name="a", file=rootfile)
    with pytest.raises(InvalidMeasurement, match="no file= was given"):
        measurement_from_histograms("nominal", name="a")


def test_two_dimensional_nominal_is_rejected():
    with pytest.raises(InvalidMeasurement, match="2 axes"):
        measurement_from_histograms(hist2d(COV), name="a")


# ---------------------------------------------------------------------- PyROOT stand-ins
class FakeAxis:
    def __init__(self, edges, title=""):
        self.edges, self.title = np.asarray(edges, float), title

    def GetBinLowEdge(self, i):
        return self.edges[i - 1]

    def GetBinUpEdge(self, i):
        return self.edges[i]

    def GetTitle(self):
        return self.title

    def GetName(self):
        return "xaxis"


class FakeTH1:
    """PyROOT TH1 interface: bins 1..n, 0 = underflow, n+1 = overflow."""

    def __init__(self, name, values, errors, edges, flow=(0.0, 0.0)):
        self.name = name
        self.content = [flow[0], *values, flow[1]]
        self.errors = [0.0, *errors, 0.0]
        self.axis = FakeAxis(edges, "m [GeV]")

    def GetName(self):
        return self.name

    def GetTitle(self):
        return "a title"

    def GetDimension(self):
        return 1

    def GetNbinsX(self):
        return len(self.content) - 2

    def GetBinContent(self, i):
        return self.content[i]

    def GetBinError(self, i):
        return self.errors[i]

    def GetXaxis(self):
        return self.axis


class FakeTH2:
    def __init__(self, name, matrix, edges):
        self.name, self.matrix, self.axis = name, np.asarray(matrix), FakeAxis(edges)

    def GetName(self):
        return self.name

    def GetDimension(self):
        return 2

    def GetNbinsX(self):
        return self.matrix.shape[0]

    def GetNbinsY(self):
        return self.matrix.shape[1]

    def GetBinContent(self, i, j):
        return self.matrix[i - 1, j - 1]

    def GetXaxis(self):
        return self.axis

    def GetYaxis(self):
        return self.axis


def test_pyroot_histograms(caplog):
    sigma = np.sqrt(VARIANCES)
    nominal = FakeTH1("h_nom", VALUES, sigma, EDGES, flow=(0.0, 2.0))
    up = FakeTH1("h_up", VALUES + JES_UP, np.zeros(4), EDGES)
    down = FakeTH1("h_down", VALUES + JES_DOWN, np.zeros(4), EDGES)
    with caplog.at_level(logging.WARNING, logger="hepcombine.inputs.histograms"):
        d = measurement_from_histograms(nominal, name="cms", systematics={"jes": (up, down)})
    assert "h_nom" in caplog.text and "overflow 2" in caplog.text
    m = d.measurement
    np.testing.assert_array_equal(m.estimates, VALUES)
    np.testing.assert_allclose(m.stat_information, np.diag(1 / VARIANCES), rtol=1e-12)
    np.testing.assert_allclose(m.shifts_up[:, 0], JES_UP, atol=1e-12)
    np.testing.assert_allclose(m.shifts_down[:, 0], JES_DOWN, atol=1e-12)
    np.testing.assert_array_equal(d.edges, EDGES)
    assert d.axis_label == "m [GeV]" and d.title == "a title"

    d = measurement_from_histograms(nominal, name="cms", stat_covariance=FakeTH2("c", COV, EDGES))
    np.testing.assert_allclose(d.measurement.stat_information, stat_info(COV), rtol=1e-10)

    other = FakeTH1("h_other", VALUES, sigma, EDGES * 2)
    with pytest.raises(InvalidMeasurement, match=re.escape("'h_other'") + ".*'h_nom'"):
        measurement_from_histograms(nominal, name="cms", systematics={"x": other})


# ---------------------------------------------------------------------- observables
def test_differential_observables(rootfile):
    a = measurement_from_histograms("nominal", name="atlas", file=rootfile)
    b = measurement_from_histograms(weighted_hist(VALUES + 1, VARIANCES), name="cms")
    obs = differential_observables(a, b)
    assert obs == {f"bin{i}": [f"atlas:atlas_bin{i}", f"cms:cms_bin{i}"] for i in range(4)}
    assert list(differential_observables(a, b, prefix="pt")) == ["pt0", "pt1", "pt2", "pt3"]

    c = measurement_from_histograms("rebinned", name="lhcb", stat=np.ones(4), file=rootfile)
    with pytest.raises(
        InvalidMeasurement, match=r"'lhcb'.*rebinned.*'atlas'.*inputs\.root:nominal"
    ):
        differential_observables(a, c)
    with pytest.raises(InvalidMeasurement, match="its own name"):
        differential_observables(a, a)


# ---------------------------------------------------------------------- graphs
CENTERS = 0.5 * (EDGES[1:] + EDGES[:-1])
HALF = 0.5 * np.diff(EDGES)
EYL = np.array([1.0, 0.8, 1.2, 0.5])
EYH = np.array([1.4, 1.0, 1.2, 0.7])


def asymm_graph(y=VALUES, x=CENTERS, exl=HALF, exh=HALF, eyl=EYL, eyh=EYH):
    # a real uproot TGraphAsymmErrors model (uproot cannot write it to a file yet)
    return uproot.as_TGraph(
        {
            "x": np.asarray(x, float),
            "y": np.asarray(y, float),
            "x_errors_low": np.asarray(exl, float),
            "x_errors_high": np.asarray(exh, float),
            "y_errors_low": np.asarray(eyl, float),
            "y_errors_high": np.asarray(eyh, float),
        },
        title="unfolded",
        xAxisLabel="p_{T} [GeV]",
    )


def test_graph_errors_as_stat(caplog):
    with caplog.at_level(logging.INFO, logger="hepcombine.inputs.histograms"):
        d = measurement_from_graph(asymm_graph(), name="g")
    m = d.measurement
    np.testing.assert_array_equal(m.estimates, VALUES)
    sigma = np.array([1.2, 0.9, 1.2, 0.6])  # (low + high) / 2
    np.testing.assert_allclose(m.stat_information, np.diag(sigma**-2), rtol=1e-12)
    assert m.source_names == ()
    np.testing.assert_allclose(d.edges, EDGES)  # from x ± x errors
    np.testing.assert_array_equal(d.centers, CENTERS)
    assert d.axis_label == "p_{T} [GeV]" and d.title == "unfolded"
    assert "symmetrised" in caplog.text


def test_graph_total_errors_minus_stat():
    stat = np.array([0.6, 0.6, 1.2, 0.3])
    d = measurement_from_graph(asymm_graph(), name="g", errors="total", stat=stat)
    m = d.measurement
    np.testing.assert_allclose(m.stat_information, np.diag(stat**-2), rtol=1e-12)
    assert m.source_names == ("g_syst",)
    up = np.sqrt(EYH**2 - stat**2)  # bin 2: stat = total, nothing left
    down = np.sqrt(EYL**2 - stat**2)
    np.testing.assert_allclose(m.shifts_up[:, 0], up, atol=1e-12)
    np.testing.assert_allclose(m.shifts_down[:, 0], -down, atol=1e-12)
    np.testing.assert_allclose(m.shifts_up[2, 0], 0.0, atol=1e-12)

    d = measurement_from_graph(
        asymm_graph(),
        name="g",
        errors="total",
        stat=stat,
        error_source="other",
        error_source_correlated=False,
    )
    m = d.measurement
    assert m.source_names == ("other_bin0", "other_bin1", "other_bin2", "other_bin3")
    np.testing.assert_allclose(m.shifts_up, np.diag(up), atol=1e-12)
    np.testing.assert_allclose(m.shifts_down, -np.diag(down), atol=1e-12)

    with pytest.raises(
        InvalidMeasurement, match=r"point 1: .*1.2 exceeds.*high error 1;.*errors='syst'"
    ):
        measurement_from_graph(asymm_graph(), name="g", errors="total", stat=2 * stat)


def test_graph_syst_errors_with_stat_histogram_and_systematics():
    stat = weighted_hist([0.6, 0.6, 1.2, 0.3], np.zeros(4))  # contents = stat uncertainty
    d = measurement_from_graph(
        asymm_graph(),
        name="g",
        errors="syst",
        stat=stat,
        systematics={"jes": (JES_UP, JES_DOWN)},
        kind="shift",
    )
    m = d.measurement
    np.testing.assert_allclose(m.stat_information, np.diag(np.array([0.6, 0.6, 1.2, 0.3]) ** -2))
    assert m.source_names == ("g_syst", "jes")
    np.testing.assert_allclose(m.shifts_up, np.column_stack([EYH, JES_UP]), atol=1e-12)
    np.testing.assert_allclose(m.shifts_down, np.column_stack([-EYL, JES_DOWN]), atol=1e-12)
    rebinned = weighted_hist(np.ones(4), np.ones(4), edges=np.array([0.0, 1, 3, 7, 16]))
    with pytest.raises(InvalidMeasurement, match=r"binning of systematic 'x'.*differs.*graph"):
        measurement_from_graph(asymm_graph(), name="g", systematics={"x": rebinned})


def test_tgrapherrors_symmetric():
    g = uproot.as_TGraph(
        {
            "x": CENTERS,
            "y": VALUES,
            "x_errors": HALF,
            "y_errors": np.sqrt(VARIANCES),
        }
    )
    assert g.classname == "TGraphErrors"
    d = measurement_from_graph(g, name="g")
    np.testing.assert_allclose(d.measurement.stat_information, np.diag(1 / VARIANCES))
    np.testing.assert_allclose(d.edges, EDGES)


def test_graph_points_without_bins():
    g = asymm_graph(exl=np.zeros(4), exh=np.zeros(4))
    d = measurement_from_graph(g, name="g")
    assert d.edges is None
    np.testing.assert_array_equal(d.centers, CENTERS)
    h = measurement_from_histograms(weighted_hist(VALUES, VARIANCES), name="h")
    # no edges: the points must sit at the bin centres of the other measurement
    assert differential_observables(d, h)["bin3"] == ["g:g_bin3", "h:h_bin3"]
    shifted = measurement_from_graph(asymm_graph(x=CENTERS + 0.1, exl=HALF * 0), name="s")
    with pytest.raises(InvalidMeasurement, match="bin centres"):
        differential_observables(shifted, h)


class FakeTGraphAsymmErrors:
    """PyROOT TGraphAsymmErrors interface (GetN, GetPointX/Y, GetErrorYlow/high, ...)."""

    def __init__(self, x, y, exl, exh, eyl, eyh):
        self.cols = x, y, exl, exh, eyl, eyh

    def GetName(self):
        return "gr_data"

    def GetTitle(self):
        return "data"

    def GetN(self):
        return len(self.cols[0])

    def GetPointX(self, i):
        return self.cols[0][i]

    def GetPointY(self, i):
        return self.cols[1][i]

    def GetErrorXlow(self, i):
        return self.cols[2][i]

    def GetErrorXhigh(self, i):
        return self.cols[3][i]

    def GetErrorYlow(self, i):
        return self.cols[4][i]

    def GetErrorYhigh(self, i):
        return self.cols[5][i]


def test_pyroot_graph():
    g = FakeTGraphAsymmErrors(CENTERS, VALUES, HALF, HALF, EYL, EYH)
    d = measurement_from_graph(g, name="g")
    np.testing.assert_allclose(d.measurement.stat_information, np.diag((0.5 * (EYL + EYH)) ** -2))
    np.testing.assert_allclose(d.edges, EDGES)
    # a plain TGraph answers -1 for its errors
    bare = FakeTGraphAsymmErrors(CENTERS, VALUES, HALF, HALF, -np.ones(4), -np.ones(4))
    with pytest.raises(InvalidMeasurement, match=r"'gr_data'.*negative"):
        measurement_from_graph(bare, name="g")


# ---------------------------------------------------------------------- end to end
def test_combination_from_root_files_equals_numpy_and_closed_form(tmp_path):
    from hepcombine import Measurement
    from hepcombine.combiner import Combiner

    # ATLAS: weighted nominal (its errors unused), stat covariance TH2, JES as a varied
    # histogram (symmetric), lumi as a shift histogram. CMS: nominal with its own errors and a
    # stat correlation TH2, JES as a shift array. JES is 100 % correlated between the two.
    a_val = np.array([10.0, 0.0, 5.0, 2.0])  # the empty bin has a stat error: usable
    b_val = np.array([11.0, 0.5, 4.0, 2.6])
    a_cov = COV
    b_sigma = np.array([2.5, 1.2, 1.5, 0.9])
    b_rho = np.array(
        [
            [1.0, -0.3, 0.1, 0.0],
            [-0.3, 1.0, 0.2, 0.0],
            [0.1, 0.2, 1.0, 0.25],
            [0.0, 0.0, 0.25, 1.0],
        ]
    )
    b_cov = b_rho * np.outer(b_sigma, b_sigma)
    a_jes, a_lumi = np.array([0.6, 0.2, 0.4, 0.1]), 0.03 * a_val
    b_jes = np.array([0.8, 0.1, 0.2, 0.3])
    with uproot.recreate(tmp_path / "atlas.root") as f:
        f["h_pt"] = weighted_hist(a_val, np.ones(4), flow=(1.0, 2.0))
        f["h_pt_cov"] = hist2d(a_cov)
        f["h_pt_jes_up"] = (a_val + a_jes, EDGES)
        f["h_pt_lumi"] = (a_lumi, EDGES)
    with uproot.recreate(tmp_path / "cms.root") as f:
        f["pt"] = weighted_hist(b_val, b_sigma**2)
        f["pt_corr"] = hist2d(b_rho)
    atlas = measurement_from_histograms(
        "h_pt",
        name="atlas",
        stat_covariance="h_pt_cov",
        systematics={"jes": "h_pt_jes_up", "lumi": Systematic("h_pt_lumi", kind="shift")},
        file=tmp_path / "atlas.root",
    )
    with uproot.open(tmp_path / "cms.root") as f:
        cms = measurement_from_histograms(
            f["pt"],
            name="cms",
            stat_correlation=f["pt_corr"],
            systematics={"jes": b_jes},
            kind="shift",
        )
    observables = differential_observables(atlas, cms)
    correlations = {("atlas:jes", "cms:jes"): 1.0}
    from_root = Combiner([atlas.measurement, cms.measurement], observables, correlations).combine(
        intervals=False
    )

    # the same measurements from numpy arrays
    def direct(name, values, sigma, rho, syst):
        bins = [f"{name}_bin{i}" for i in range(4)]
        return Measurement.from_uncertainties(
            dict(zip(bins, values, strict=True)),
            dict(zip(bins, sigma, strict=True)),
            {s: dict(zip(bins, u, strict=True)) for s, u in syst.items()},
            stat_correlation=rho,
            name=name,
        )

    a_sigma = np.sqrt(np.diag(a_cov))
    a_np = direct(
        "atlas", a_val, a_sigma, a_cov / np.outer(a_sigma, a_sigma), {"jes": a_jes, "lumi": a_lumi}
    )
    b_np = direct("cms", b_val, b_sigma, b_rho, {"jes": b_jes})
    from_numpy = Combiner([a_np, b_np], observables, correlations).combine(intervals=False)

    # closed-form GLS: x = (AᵀV⁻¹A)⁻¹ AᵀV⁻¹ y with the total covariance V of all 8 inputs
    y = np.concatenate([a_val, b_val])
    design = np.vstack([np.eye(4), np.eye(4)])
    jes = np.concatenate([a_jes, b_jes])  # ρ = 1: one common shift vector
    lumi = np.concatenate([a_lumi, np.zeros(4)])
    v = np.zeros((8, 8))
    v[:4, :4], v[4:, 4:] = a_cov, b_cov
    v += np.outer(jes, jes) + np.outer(lumi, lumi)
    vinv = np.linalg.inv(v)
    cov = np.linalg.inv(design.T @ vinv @ design)
    x = cov @ design.T @ vinv @ y

    names = [f"bin{i}" for i in range(4)]
    for result in (from_root, from_numpy):
        np.testing.assert_allclose([result.values[n] for n in names], x, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            [result.errors[n] for n in names], np.sqrt(np.diag(cov)), rtol=1e-8
        )
        np.testing.assert_allclose(result.covariance.sub(names).matrix, cov, rtol=1e-8, atol=1e-12)

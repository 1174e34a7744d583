"""Tests of hepcombine.inputs.histograms: histograms and graphs → Measurement.

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
from conftest import assert_same_measurement, gls, hist2d, weighted_hist

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


def test_three_dimensional_nominal_is_rejected():
    h = hist.Hist(
        hist.axis.Regular(2, 0, 1), hist.axis.Regular(2, 0, 1), hist.axis.Regular(2, 0, 1)
    )
    with pytest.raises(InvalidMeasurement, match="3 axes"):
        measurement_from_histograms(h, name="a")


# ---------------------------------------------------------------------- PyROOT
def root_th1(ROOT, name, values, errors=None, edges=EDGES, flow=(0.0, 0.0), cls="TH1D"):
    """A real ROOT histogram (not attached to any file), with Sumw2 when errors are given."""
    from array import array

    status = ROOT.TH1.AddDirectoryStatus()
    ROOT.TH1.AddDirectory(False)
    try:
        h = getattr(ROOT, cls)(name, "a title;m [GeV];events", len(edges) - 1, array("d", edges))
    finally:
        ROOT.TH1.AddDirectory(status)
    if errors is not None:
        h.Sumw2()
    for i, v in enumerate([flow[0], *values, flow[1]]):
        h.SetBinContent(i, v)
    if errors is not None:
        for i, e in enumerate(errors, start=1):
            h.SetBinError(i, e)
    return h


def root_th2(ROOT, name, matrix, edges=EDGES):
    from array import array

    n = len(edges) - 1
    status = ROOT.TH1.AddDirectoryStatus()
    ROOT.TH1.AddDirectory(False)
    try:
        h = ROOT.TH2D(name, "", n, array("d", edges), n, array("d", edges))
    finally:
        ROOT.TH1.AddDirectory(status)
    for i in range(n):
        for j in range(n):
            h.SetBinContent(i + 1, j + 1, matrix[i][j])
    return h


def test_pyroot_histograms(pyroot, caplog):
    sigma = np.sqrt(VARIANCES)
    nominal = root_th1(pyroot, "h_nom", VALUES, sigma, flow=(0.0, 2.0))
    up = root_th1(pyroot, "h_up", VALUES + JES_UP, cls="TH1F")
    down = root_th1(pyroot, "h_down", VALUES + JES_DOWN, cls="TH1F")
    with caplog.at_level(logging.WARNING, logger="hepcombine.inputs.histograms"):
        d = measurement_from_histograms(nominal, name="cms", systematics={"jes": (up, down)})
    assert "h_nom" in caplog.text and "overflow 2" in caplog.text
    m = d.measurement
    np.testing.assert_array_equal(m.estimates, VALUES)
    np.testing.assert_allclose(m.stat_information, np.diag(1 / VARIANCES), rtol=1e-12)
    # TH1F: contents are float32
    np.testing.assert_array_equal(
        m.shifts_up[:, 0], (VALUES + JES_UP).astype(np.float32).astype(float) - VALUES
    )
    np.testing.assert_allclose(m.shifts_down[:, 0], JES_DOWN, atol=1e-6)
    np.testing.assert_array_equal(d.edges, EDGES)
    assert d.axis_label == "m [GeV]" and d.title == "a title"
    assert d.origin == "nominal 'h_nom'"

    cov = root_th2(pyroot, "c", COV)
    d = measurement_from_histograms(nominal, name="cms", stat_covariance=cov)
    np.testing.assert_allclose(d.measurement.stat_information, stat_info(COV), rtol=1e-10)
    rho = root_th2(pyroot, "r", COV / np.outer(sigma, sigma))
    d = measurement_from_histograms(nominal, name="cms", stat_correlation=rho)
    np.testing.assert_allclose(d.measurement.stat_information, stat_info(COV), rtol=1e-10)

    other = root_th1(pyroot, "h_other", VALUES, sigma, edges=EDGES * 2)
    with pytest.raises(InvalidMeasurement, match=re.escape("'h_other'") + ".*'h_nom'"):
        measurement_from_histograms(nominal, name="cms", systematics={"x": other})
    # a TH2 is a 2-d nominal: a 1-d systematic for it is named
    with pytest.raises(InvalidMeasurement, match=r"'c' is two-dimensional.*'h_nom'.*one-dim"):
        measurement_from_histograms(
            cov, name="cms", stat=np.ones(COV.size), systematics={"x": nominal}, kind="shift"
        )
    wide = root_th2(pyroot, "wide", COV, edges=np.arange(5.0))
    with pytest.raises(InvalidMeasurement, match=r"x axis of stat covariance 'wide'.*differs"):
        measurement_from_histograms(nominal, name="cms", stat_covariance=wide)


def test_pyroot_errors_as_root_keeps_them(pyroot):
    # without Sumw2 ROOT's bin error is sqrt(|content|); uproot would give 0 for negative content
    h = root_th1(pyroot, "poisson", [4.0, 9.0, -16.0, 25.0])
    assert h.GetSumw2N() == 0 and h.GetBinError(3) == 4.0
    d = measurement_from_histograms(h, name="p")
    np.testing.assert_allclose(d.measurement.stat_covariance, np.diag([4.0, 9.0, 16.0, 25.0]))
    # a NaN or negative squared error is named with histogram and bin
    h = root_th1(pyroot, "bad", VALUES, np.sqrt(VARIANCES))
    h.GetSumw2().SetAt(float("nan"), 3)
    with pytest.raises(
        InvalidMeasurement, match=r"nominal 'bad': the bin error of bin 2 \[3, 7\) is NaN"
    ):
        measurement_from_histograms(h, name="p")
    h.GetSumw2().SetAt(-0.5, 3)
    with pytest.raises(
        InvalidMeasurement,
        match=r"'bad'.*bin 2 \[3, 7\) is not a real number: .* negative \(-0.5\)",
    ):
        measurement_from_histograms(h, name="p")


def test_duck_typed_histogram():
    """The PyROOT path needs only ROOT's method names (GetNbinsX, GetBinContent, GetBinError,
    GetXaxis().GetBinLowEdge/GetBinUpEdge): a minimal stand-in."""

    class Axis:
        def GetBinLowEdge(self, i):
            return EDGES[i - 1]

        def GetBinUpEdge(self, i):
            return EDGES[i]

    class Histogram:
        def GetNbinsX(self):
            return 4

        def GetBinContent(self, i):
            return [0.0, *VALUES, 0.0][i]

        def GetBinError(self, i):
            return [0.0, *np.sqrt(VARIANCES), 0.0][i]

        def GetXaxis(self):
            return Axis()

    d = measurement_from_histograms(Histogram(), name="duck")
    np.testing.assert_array_equal(d.measurement.estimates, VALUES)
    np.testing.assert_allclose(d.measurement.stat_information, np.diag(1 / VARIANCES), rtol=1e-12)
    np.testing.assert_array_equal(d.edges, EDGES)


@pytest.fixture(scope="module")
def root_written(tmp_path_factory):
    """A file written by ROOT itself: histograms at the top and in a subdirectory."""
    from conftest import root_module

    ROOT = root_module()
    if ROOT is None:
        pytest.skip(
            'needs PyROOT (ROOT\'s Python bindings), not installed: pip install "hepcombine[root]"'
        )
    path = tmp_path_factory.mktemp("pyroot") / "by_root.root"
    f = ROOT.TFile.Open(str(path), "RECREATE")
    sub = f.mkdir("sub")
    for directory in (f, sub):
        directory.cd()
        for h in (
            root_th1(ROOT, "nominal", VALUES, np.sqrt(VARIANCES), flow=(UNDER, OVER)),
            root_th1(ROOT, "jes_up", VALUES + JES_UP),
            root_th1(ROOT, "jes_down", VALUES + JES_DOWN),
            root_th2(ROOT, "stat_cov", COV),
        ):
            h.Write()
    f.Close()
    return ROOT, path


def test_pyroot_tfile_and_tdirectory_with_names(root_written):
    ROOT, path = root_written
    args = {"name": "a", "systematics": {"jes": ("jes_up", "jes_down")}}
    via_uproot = measurement_from_histograms("nominal", file=path, **args)
    f = ROOT.TFile.Open(str(path))
    try:
        top = measurement_from_histograms("nominal", file=f, **args)
        sub = measurement_from_histograms("nominal", file=f.Get("sub"), **args)
        path_in_file = measurement_from_histograms("sub/nominal", file=f, **args)
        cov = measurement_from_histograms("nominal", stat_covariance="stat_cov", file=f, name="a")
        with pytest.raises(
            UnknownName, match=r"no object 'nominl' in by_root\.root:sub; it contains \['jes_down'"
        ):
            measurement_from_histograms("nominl", file=f.Get("sub"), name="a")
    finally:
        f.Close()
    assert top.origin == "nominal 'by_root.root:nominal'"
    assert sub.origin == "nominal 'by_root.root:sub/nominal'"
    for d in (top, sub, path_in_file):
        assert_same_measurement(d.measurement, via_uproot.measurement)
        assert d.binning == via_uproot.binning and d.title == via_uproot.title
    np.testing.assert_array_equal(via_uproot.measurement.estimates, VALUES)
    np.testing.assert_allclose(via_uproot.measurement.shifts_up[:, 0], JES_UP, atol=1e-12)
    np.testing.assert_allclose(cov.measurement.stat_information, stat_info(COV), rtol=1e-10)


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


def test_pyroot_graphs(pyroot):
    g = pyroot.TGraphAsymmErrors(4, CENTERS, VALUES, HALF, HALF, EYL, EYH)
    g.SetName("gr_data")
    g.SetTitle("data;p_{T} [GeV];events")
    d = measurement_from_graph(g, name="g")
    reference = measurement_from_graph(asymm_graph(), name="g")
    assert_same_measurement(d.measurement, reference.measurement)
    np.testing.assert_allclose(d.edges, EDGES)
    assert d.axis_label == "p_{T} [GeV]" and d.title == "data"
    sym = pyroot.TGraphErrors(4, CENTERS, VALUES, HALF, np.sqrt(VARIANCES))
    d = measurement_from_graph(sym, name="g")
    np.testing.assert_allclose(d.measurement.stat_information, np.diag(1 / VARIANCES))
    # a plain TGraph answers -1 for its errors
    bare = pyroot.TGraph(4, CENTERS, VALUES)
    bare.SetName("bare")
    with pytest.raises(InvalidMeasurement, match=r"'bare'.*negative"):
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


def test_same_combination_from_uproot_hist_and_pyroot(pyroot, tmp_path):
    """Acceptance (issue 13): one combination from three input forms of the same numbers — hist
    objects, the same histograms written to a ROOT file and read with uproot, and PyROOT
    histograms and graphs — gives identical numbers (bit for bit), equal to closed-form GLS."""
    from hepcombine import combine_differential

    a_val, b_val = VALUES + 1.0, np.array([11.0, 0.5, 4.0, 2.6])
    a_var, b_cov = VARIANCES, COV
    a_jes, b_jes = JES_UP, np.array([0.8, 0.1, 0.2, 0.3])
    # the graph C: asymmetric errors, symmetrised to (low + high) / 2 as its stat uncertainty
    c_val = np.array([9.5, 1.0, 5.5, 1.8])

    hists = {
        "a": weighted_hist(a_val, a_var),
        "a_jes_up": weighted_hist(a_val + a_jes, np.zeros(4)),
        "a_jes_down": weighted_hist(a_val - a_jes, np.zeros(4)),
        "b": weighted_hist(b_val, np.diag(b_cov)),
        "b_cov": hist2d(b_cov),
        "b_jes": weighted_hist(b_jes, np.zeros(4)),
    }
    path = tmp_path / "inputs.root"
    with uproot.recreate(path) as f:
        for key, h in hists.items():
            f[key] = h
    # the graph is written by hepcombine's writer (uproot cannot write TGraphAsymmErrors)
    from conftest import expect_objects, judge_root_file

    from hepcombine.outputs.root import GraphAsymmErrors, write_root

    graph = GraphAsymmErrors(CENTERS, c_val, HALF, HALF, EYL, EYH, x_title="p_{T} [GeV]")
    write_root(tmp_path / "graph.root", {"c": graph})
    judge_root_file(tmp_path / "graph.root", expect_objects({"c": graph}))

    roots = {
        "a": root_th1(pyroot, "a", a_val, np.sqrt(a_var)),
        "a_jes_up": root_th1(pyroot, "a_jes_up", a_val + a_jes),
        "a_jes_down": root_th1(pyroot, "a_jes_down", a_val - a_jes),
        "b": root_th1(pyroot, "b", b_val, np.sqrt(np.diag(b_cov))),
        "b_cov": root_th2(pyroot, "b_cov", b_cov),
        "b_jes": root_th1(pyroot, "b_jes", b_jes),
    }
    for key in ("a", "b"):  # the squared errors exactly as hist holds them
        for i, v in enumerate(hists[key].variances(), start=1):
            roots[key].GetSumw2().SetAt(float(v), i)
    root_graph = pyroot.TGraphAsymmErrors(4, CENTERS, c_val, HALF, HALF, EYL, EYH)

    def combine(source, graph, file=None):
        a = measurement_from_histograms(
            source["a"], name="A", systematics={"jes": (source["a_jes_up"], source["a_jes_down"])}
        )
        b = measurement_from_histograms(
            source["b"],
            name="B",
            stat_covariance=source["b_cov"],
            systematics={"jes": source["b_jes"]},
            kind="shift",
        )
        c = measurement_from_graph(graph, name="C", file=file)
        return combine_differential([a, b, c], {("A:jes", "B:jes"): 1.0})

    from_hist = combine(hists, asymm_graph(y=c_val))
    with uproot.open(path) as f:
        from_uproot = combine({k: f[k] for k in hists}, "c", file=tmp_path / "graph.root")
    from_root = combine(roots, root_graph)
    for other in (from_uproot, from_root):
        for what in ("values", "errors", "covariance", "intervals_low", "intervals_high"):
            np.testing.assert_array_equal(getattr(other, what), getattr(from_hist, what), what)
        assert other.result.chi2 == from_hist.result.chi2
        np.testing.assert_array_equal(other.edges, EDGES)

    # closed-form GLS of the nine inputs' bins (quadratic χ²: the intervals are value ± σ)
    c_sigma = 0.5 * (EYL + EYH)
    y = np.concatenate([a_val, b_val, c_val])
    design = np.vstack([np.eye(4)] * 3)
    jes = np.concatenate([a_jes, b_jes, np.zeros(4)])
    v = np.zeros((12, 12))
    v[:4, :4], v[4:8, 4:8], v[8:, 8:] = np.diag(a_var), b_cov, np.diag(c_sigma**2)
    x, cov, _ = gls(y, design, v + np.outer(jes, jes))
    np.testing.assert_allclose(from_root.values, x, rtol=1e-9)
    np.testing.assert_allclose(from_root.covariance, cov, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(
        from_root.intervals_high - from_root.values, np.sqrt(np.diag(cov)), rtol=1e-8
    )


# ---------------------------------------------------------------------- damaged files (issue 10.7)
def _written(path, compression=None, **objects):
    with uproot.recreate(path, compression=compression) as f:
        for key, obj in objects.items():
            f[key] = obj
    return path


def _payload(path, key):
    """(start, length) of the stored (compressed) bytes of object ``key`` in the file."""
    with uproot.open(path) as f:
        k = f.key(key)
        return k.fSeekKey + k.fKeylen, k.data_compressed_bytes


def _one_line_error(call, *needles):
    with pytest.raises(InvalidMeasurement) as err:
        call()
    message = str(err.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message
    return message


@pytest.mark.parametrize("compression", ["ZLIB", "LZMA"])
def test_corrupt_compressed_payload(tmp_path, compression):
    rng = np.random.default_rng(1)
    h = hist.Hist(hist.axis.Regular(200, 0, 1), storage=hist.storage.Weight())
    h.fill(rng.random(2000))
    path = _written(tmp_path / "damaged.root", getattr(uproot, compression)(4), spectrum=h)
    start, length = _payload(path, "spectrum")
    data = bytearray(path.read_bytes())
    assert length < 200 * 2 * 8  # really compressed
    for i in range(start + 20, start + 60):  # damage the compressed stream, not its header
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    message = _one_line_error(
        lambda: measurement_from_histograms("spectrum", name="a", file=path),
        "nominal 'spectrum'",
        "'damaged.root'",
        "compressed data is corrupt",
    )
    assert message.startswith("cannot read nominal 'spectrum' from 'damaged.root': ")


def _damage_sumw2(tmp_path, value):
    """An uncompressed file with a weighted TH1D whose fSumw2 entry of bin 2 is overwritten."""
    marker = 0.123456789012345  # an unmistakable squared error for bin 2
    variances = VARIANCES.copy()
    variances[2] = marker
    path = _written(tmp_path / "errors.root", h_pt=weighted_hist(VALUES, variances))
    data = path.read_bytes()
    pattern = np.array([marker], dtype=">f8").tobytes()
    assert data.count(pattern) == 1
    path.write_bytes(data.replace(pattern, np.array([value], dtype=">f8").tobytes()))
    return path


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (np.nan, "NaN"),
        (-0.5, "not a real number: its square (the variance, fSumw2) is negative (-0.5)"),
    ],
)
def test_nan_or_negative_bin_error_is_named(tmp_path, value, what):
    path = _damage_sumw2(tmp_path, value)
    with uproot.open(path) as f:
        assert f["h_pt"].variances()[2] == 0.0  # what uproot's variances() would have said
    _one_line_error(
        lambda: measurement_from_histograms("h_pt", name="a", file=path),
        "nominal 'errors.root:h_pt'",
        f"the bin error of bin 2 [3, 7) is {what}",
    )


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (np.nan, "NaN"),
        (-0.5, "not a real number: its square (the variance, fSumw2) is negative (-0.5)"),
    ],
)
def test_nan_or_negative_bin_error_through_pyroot(pyroot, tmp_path, value, what):
    path = _damage_sumw2(tmp_path, value)
    f = pyroot.TFile.Open(str(path))
    try:
        _one_line_error(
            lambda: measurement_from_histograms("h_pt", name="a", file=f),
            "nominal 'errors.root:h_pt'",
            f"the bin error of bin 2 [3, 7) is {what}",
        )
    finally:
        f.Close()


UNREADABLE = {
    "truncated header": (
        lambda d, at: d[:300],
        "cannot open ROOT file 'input.root': the file is truncated (300 bytes long",
    ),
    "object cut off": (
        lambda d, at: d[: at + 30],
        "cannot read nominal 'h' from 'input.root': the file is truncated",
    ),
    "not ROOT": (
        lambda d, at: b"PK\x03\x04" + d[4:],
        "not a ROOT file (it starts with b'PK\\x03\\x04'",
    ),
    "empty": (lambda d, at: b"", "the file is empty (0 bytes)"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_unreadable_files_are_one_line(tmp_path, case):
    damage, needle = UNREADABLE[case]
    rng = np.random.default_rng(2)
    values = rng.random(500)
    path = _written(tmp_path / "input.root", h=(values, np.arange(501.0)))
    path.write_bytes(damage(path.read_bytes(), _payload(path, "h")[0]))
    message = _one_line_error(
        lambda: measurement_from_histograms("h", name="a", stat=np.ones(500), file=path),
        "'input.root'",
        needle,
    )
    assert "FSSpecSource" not in message and "for file path" not in message


def test_missing_file_and_directory_are_one_line(tmp_path):
    _one_line_error(
        lambda: measurement_from_histograms("h", name="a", file=tmp_path / "nothere.root"),
        "cannot open ROOT file 'nothere.root': no such file",
    )
    _one_line_error(
        lambda: measurement_from_histograms("h", name="a", file=tmp_path),
        "it is a directory, not a file",
    )

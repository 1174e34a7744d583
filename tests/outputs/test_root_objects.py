"""Results as PyROOT objects in memory (``hepcombine.outputs.root.to_pyroot``).

The in-memory objects must be what ROOT reads back from the file ``write_root`` writes for the
same result (built from one description), and both must hold the result's own numbers
(``expect_distribution`` / ``expect_combination`` in conftest, from the combination's mappings and
the binning). Combinations are of pseudo-measurements built here with numpy.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import (
    assert_root_object,
    expect_combination,
    expect_distribution,
    judge_root_file,
    root_messages,
)

from hepcombine import Binning, Combiner, Measurement, Quantity
from hepcombine.differential import DifferentialResult
from hepcombine.exceptions import OutputError
from hepcombine.outputs.root import differential_objects, result_objects, to_pyroot, write_root

N = 3
VALUES = {"A": [10.0, 5.0, 2.0], "B": [11.0, 4.5, 2.4]}
STAT = {"A": [1.0, 0.6, 0.4], "B": [1.2, 0.5, 0.5]}


def _combination(chi2="neyman", relative=False):
    ms = []
    for name in ("A", "B"):
        bins = [f"{name}{i}" for i in range(N)]
        ms.append(
            Measurement.from_uncertainties(
                dict(zip(bins, VALUES[name], strict=True)),
                dict(zip(bins, STAT[name], strict=True)),
                {
                    "jes": {
                        b: (0.04 * v, -0.03 * v) for b, v in zip(bins, VALUES[name], strict=True)
                    },
                    "lumi": {b: 0.02 * v for b, v in zip(bins, VALUES[name], strict=True)},
                },
                relative=["lumi"] if relative else [],
                name=name,
            )
        )
    observables = {f"bin{i}": [f"A:A{i}", f"B:B{i}"] for i in range(N)}
    return Combiner(ms, observables, {("A:jes", "B:jes"): 1.0}, chi2=chi2).combine()


PT = Binning.from_edges([0.0, 50.0, 120.0, 400.0], name="pt", label="p_{T}", unit="GeV")
ETA_GAP = Binning([0.0, 0.5, 1.6], [0.5, 1.4, 2.5], name="eta", label="|#eta|")
POINTS = Binning.from_edges(np.arange(4.0), name="x", centers=[0.3, 1.7, 2.2], is_index=True)
XSEC = Quantity("d#sigma/dp_{T}", "pb/GeV")


def _same_object(memory, read, key):
    """Class, name, title, axes (names, titles, edges, labels), every cell's content and squared
    error, entries; graphs: every point and error and the axis titles."""
    assert memory.ClassName() == read.ClassName(), key
    assert (memory.GetName(), memory.GetTitle()) == (read.GetName(), read.GetTitle()), key
    if memory.ClassName().startswith("TGraph"):
        n = memory.GetN()
        assert n == read.GetN()
        for getter in ("GetPointX", "GetPointY", "GetErrorXlow", "GetErrorXhigh", "GetErrorYlow"):
            assert [getattr(memory, getter)(i) for i in range(n)] == [
                getattr(read, getter)(i) for i in range(n)
            ], (key, getter)
        assert [memory.GetErrorYhigh(i) for i in range(n)] == [
            read.GetErrorYhigh(i) for i in range(n)
        ]
        for axis in ("GetXaxis", "GetYaxis"):
            assert getattr(memory, axis)().GetTitle() == getattr(read, axis)().GetTitle(), key
        return
    for axis in ("GetXaxis", "GetYaxis", "GetZaxis"):
        a, b = getattr(memory, axis)(), getattr(read, axis)()
        assert (a.GetName(), a.GetTitle(), a.GetNbins()) == (
            b.GetName(),
            b.GetTitle(),
            b.GetNbins(),
        )
        assert (a.GetXmin(), a.GetXmax(), a.GetTitleOffset()) == (
            b.GetXmin(),
            b.GetXmax(),
            b.GetTitleOffset(),
        )
        assert [a.GetBinLowEdge(i) for i in range(1, a.GetNbins() + 2)] == [
            b.GetBinLowEdge(i) for i in range(1, b.GetNbins() + 2)
        ], (key, axis)
        assert [a.GetBinLabel(i) for i in range(1, a.GetNbins() + 1)] == [
            b.GetBinLabel(i) for i in range(1, b.GetNbins() + 1)
        ], (key, axis)
    cells = range(memory.GetNcells())
    assert memory.GetNcells() == read.GetNcells()
    assert [memory.GetBinContent(i) for i in cells] == [read.GetBinContent(i) for i in cells], key
    assert memory.GetSumw2N() == read.GetSumw2N(), key
    assert [memory.GetBinError(i) for i in cells] == [read.GetBinError(i) for i in cells], key
    assert memory.GetEntries() == read.GetEntries(), key


def _memory_equals_file(ROOT, objects, path, directory):
    f = ROOT.TFile.Open(str(path))
    try:
        for key, obj in objects.items():
            _same_object(obj, f.Get(f"{directory}/{key}"), key)
    finally:
        f.Close()


CASES = {
    "pt with units, Pearson intervals": (PT, XSEC, "pearson", True),
    "bins with a gap": (ETA_GAP, Quantity("d#sigma/d|#eta|", "pb"), "neyman", False),
    "points only": (POINTS, Quantity(), "neyman", False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_distribution_in_memory_equals_file_and_result(pyroot, tmp_path, case):
    binning, quantity, chi2, normalised = CASES[case]
    result = _combination(chi2, relative=chi2 == "pearson")
    dr = DifferentialResult.from_result(
        result, binning=binning, quantity=quantity, title="t;with;semicolons"
    )
    objects = to_pyroot(dr, normalised=normalised)
    expected = expect_distribution(dr, normalised=normalised)
    assert list(objects) == list(differential_objects(dr, normalised=normalised))
    for key, obj in objects.items():
        assert_root_object(obj, expected[key], key)
    path = tmp_path / "r.root"
    write_root(path, dr, normalised=normalised, directory="combination")
    judge_root_file(path, expected, directory="combination")
    _memory_equals_file(pyroot, objects, path, "combination")


def test_axes_carry_binning_and_quantity(pyroot):
    result = _combination("pearson", relative=True)
    r = result
    assert all(r.interval_status[o] == "profile" for o in r.observables)
    objects = to_pyroot(
        DifferentialResult.from_result(result, binning=PT, quantity=XSEC, title="xs")
    )
    h, g, cov = objects["combined"], objects["combined_profile"], objects["covariance"]
    assert (h.GetXaxis().GetName(), h.GetXaxis().GetTitle()) == ("pt", "p_{T} [GeV]")
    assert h.GetYaxis().GetTitle() == "d#sigma/dp_{T} [pb/GeV]"
    assert [h.GetXaxis().GetBinLowEdge(i) for i in range(1, 5)] == [0.0, 50.0, 120.0, 400.0]
    assert (g.GetXaxis().GetTitle(), g.GetYaxis().GetTitle()) == (
        "p_{T} [GeV]",
        "d#sigma/dp_{T} [pb/GeV]",
    )
    assert cov.GetZaxis().GetTitle() == "covariance [(pb/GeV)^{2}]"
    assert objects["breakdown_jes"].GetYaxis().GetTitle() == "uncertainty from jes [pb/GeV]"
    for i, o in enumerate(r.observables):  # the profile interval, asymmetric
        low, high = r.interval(o)
        assert g.GetErrorYlow(i) == r.values[o] - low and g.GetErrorYhigh(i) == high - r.values[o]
        assert abs(g.GetErrorYhigh(i) - g.GetErrorYlow(i)) > 1e-4
        assert h.GetBinContent(i + 1) == r.values[o] and h.GetBinError(i + 1) == r.errors[o]
    assert cov.GetBinContent(1, 2) == r.covariance["bin0", "bin1"]


def test_gap_is_an_empty_histogram_bin(pyroot):
    result = _combination()
    objects = to_pyroot(DifferentialResult.from_result(result, binning=ETA_GAP))
    h, g = objects["combined"], objects["combined_profile"]
    assert [h.GetXaxis().GetBinLowEdge(i) for i in range(1, 6)] == [0.0, 0.5, 1.4, 1.6, 2.5]
    assert (h.GetBinContent(3), h.GetBinError(3)) == (0.0, 0.0)  # [1.4, 1.6): not measured
    assert h.GetBinContent(4) == result.values["bin2"]
    assert g.GetN() == 3 and g.GetPointX(2) == pytest.approx(2.05)
    assert (g.GetErrorXlow(2), g.GetErrorXhigh(2)) == pytest.approx((0.45, 0.45))
    cov = objects["covariance"]
    assert (
        cov.GetBinContent(3, 3) == 0.0
        and cov.GetBinContent(4, 2) == result.covariance["bin2", "bin1"]
    )


def test_combination_in_memory_equals_file_and_result(pyroot, tmp_path):
    result = _combination("pearson", relative=True)
    objects = to_pyroot(result)
    expected = expect_combination(result)
    assert list(objects) == list(expected)
    for key, obj in objects.items():
        assert_root_object(obj, expected[key], key)
    assert [objects["combined"].GetXaxis().GetBinLabel(i) for i in (1, 2, 3)] == [
        "bin0",
        "bin1",
        "bin2",
    ]
    path = tmp_path / "c.root"
    write_root(path, result, directory="combination")
    judge_root_file(path, expected, directory="combination")
    _memory_equals_file(pyroot, objects, path, "combination")
    # the result and its objects are one description: the same file either way
    again = tmp_path / "objects.root"
    write_root(again, result_objects(result), directory="combination")
    judge_root_file(again, expected, directory="combination")


def test_what_is_not_objects_nor_a_result_is_a_clear_error(tmp_path):
    result = _combination()
    for what in (42, [("combined", 1.0)], result.breakdown.matrix):
        with pytest.raises(OutputError, match="give a mapping of names to objects"):
            write_root(tmp_path / "x.root", what)
        with pytest.raises(OutputError, match="give a mapping of names to objects"):
            to_pyroot(what)
    assert not (tmp_path / "x.root").exists()


def test_missing_intervals_need_symmetric_errors(pyroot):
    from hepcombine.exceptions import IntervalError

    ms = Combiner(
        [
            Measurement.from_uncertainties(
                {"x": 1.0}, {"x": 0.1}, {"s": {"x": 0.05}}, relative=["s"], name="A"
            )
        ],
        chi2="pearson",
    ).combine(intervals=False)
    with pytest.raises(IntervalError, match=r"\['x'\].*graph_errors='symmetric'"):
        to_pyroot(ms)
    g = to_pyroot(ms, graph_errors="symmetric")["combined_profile"]
    assert g.GetErrorYlow(0) == g.GetErrorYhigh(0) == ms.errors["x"]


def test_objects_belong_to_no_file(pyroot, tmp_path):
    """An open TFile (the current directory) does not take the histograms; making them twice
    raises no ROOT warning (no "Replacing existing TH1"); TH1::SetDefaultSumw2 does not give the
    unweighted TH2Ds errors of their own."""
    result = _combination()
    dr = DifferentialResult.from_result(result, binning=PT)
    f = pyroot.TFile.Open(str(tmp_path / "open.root"), "RECREATE")
    default_sumw2 = pyroot.TH1.GetDefaultSumw2()
    pyroot.TH1.SetDefaultSumw2(True)
    try:
        with root_messages() as messages:
            first, second = to_pyroot(dr), to_pyroot(dr)
        assert messages == []
        assert f.GetList().GetSize() == 0
        assert not first["combined"].GetDirectory() and not second["covariance"].GetDirectory()
        assert first["covariance"].GetSumw2N() == 0 and first["combined"].GetSumw2N() > 0
    finally:
        pyroot.TH1.SetDefaultSumw2(default_sumw2)
        f.Close()
    assert pyroot.TH1.AddDirectoryStatus()  # restored


def test_without_root_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ROOT", None)  # as if not installed
    result = _combination()
    dr = DifferentialResult.from_result(result, binning=PT)
    for call in (lambda: to_pyroot(dr), lambda: to_pyroot(result), lambda: to_pyroot({})):
        with pytest.raises(OutputError, match=r'install it with pip install "hepcombine\[root\]"'):
            call()


def test_written_axes_read_back_as_binning_and_quantity(tmp_path):
    """What hepcombine writes, its readers read back: axis name, title (with the unit), edges
    and the values' axis title as the quantity, from the TH1D and from the graph."""
    from conftest import judge_root_file

    from hepcombine.inputs.histograms import measurement_from_graph, measurement_from_histograms

    result = _combination()
    dr = DifferentialResult.from_result(result, binning=PT, quantity=XSEC, title="xs")
    path = tmp_path / "r.root"
    write_root(path, dr, directory="combination")
    judge_root_file(path, expect_distribution(dr), directory="combination")
    h = measurement_from_histograms("combination/combined", name="h", file=path)
    g = measurement_from_graph("combination/combined_profile", name="g", file=path)
    for d in (h, g):
        assert d.binning.label == "p_{T} [GeV]"
        np.testing.assert_array_equal(d.edges, PT.edges)
        assert d.quantity.label == "d#sigma/dp_{T} [pb/GeV]"
        assert d.title == "xs"
    assert h.binning.name == "pt"
    np.testing.assert_array_equal(h.measurement.estimates, dr.values)
    np.testing.assert_allclose(
        np.sqrt(np.diag(h.measurement.stat_covariance)), dr.errors, rtol=1e-12
    )


def test_pyroot_value_axis_title_is_the_quantity(pyroot):
    from hepcombine.inputs.histograms import measurement_from_histograms

    h = pyroot.TH1D("h", "t;m [GeV];events / GeV", 2, 0.0, 2.0)
    h.SetDirectory(pyroot.nullptr)
    h.SetBinContent(1, 4.0)
    h.SetBinContent(2, 9.0)
    d = measurement_from_histograms(h, name="h")
    assert (d.quantity.label, d.binning.label, d.title) == ("events / GeV", "m [GeV]", "t")

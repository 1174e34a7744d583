"""What a combination writes (hepcombine.outputs.combination): the TGraphAsymmErrors of the
combined values of any combination and the TGraphs of contours, read back with uproot (and
with ROOT where it is installed)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import expect_contours, expect_objects, judge_root_file

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import IntervalError
from hepcombine.outputs.combination import contour_graph, contour_objects
from hepcombine.outputs.root import Graph, result_objects, write_root


def _result(intervals: bool = True):
    m1 = Measurement.from_uncertainties(
        {"a": 10.0, "b": 20.0},
        {"a": 1.0, "b": 1.5},
        {"lumi": {"a": 0.4, "b": 0.8}},
        relative=["lumi"],
        name="m1",
    )
    m2 = Measurement.from_uncertainties({"a": 11.0, "b": 18.0}, {"a": 0.8, "b": 2.0}, name="m2")
    return Combiner([m1, m2], chi2="pearson").combine(intervals=intervals)


def test_result_graph_has_the_profile_intervals():
    """convino's -r: the combined values of any combination as a TGraphAsymmErrors."""
    res = _result()
    g = result_objects(res)["combined_profile"]
    np.testing.assert_array_equal(g.x, [0.5, 1.5])
    np.testing.assert_array_equal(g.xerr_low, [0.5, 0.5])
    for i, o in enumerate(res.observables):
        lo, hi = res.interval(o)
        assert g.y[i] == res.values[o]
        assert g.yerr_low[i] == pytest.approx(res.values[o] - lo, rel=1e-12)
        assert g.yerr_high[i] == pytest.approx(hi - res.values[o], rel=1e-12)


def test_result_graph_without_intervals_needs_the_symmetric_errors():
    res = _result(intervals=False)
    with pytest.raises(IntervalError, match="no valid profile interval for"):
        result_objects(res)
    g = result_objects(res, graph_errors="symmetric")["combined_profile"]
    np.testing.assert_allclose(g.yerr_low, [res.errors["a"], res.errors["b"]])


def test_contour_graphs_are_closed_tgraphs_with_unique_keys(tmp_path):
    uproot = pytest.importorskip("uproot")
    res = _result()
    contours = [res.contour("a", "m1:lumi", delta_chi2=1.0, n_points=8)] * 2 + [
        res.contour("a", "b", cl=0.95, n_points=8)
    ]
    objects = contour_objects(contours)
    keys = ["contour_a_m1_lumi_dchi2_1", "contour_a_m1_lumi_dchi2_1_2", "contour_a_b_dchi2_5p99"]
    assert list(objects) == keys
    g = contour_graph(contours[2])
    assert isinstance(g, Graph) and len(g.x) == 9 and g.x[0] == g.x[-1]
    assert (g.x_title, g.y_title) == ("a", "b") and "95% CL" in g.title
    path = tmp_path / "c.root"
    write_root(path, objects, directory="contours")
    expected = expect_contours(dict(zip(keys, contours, strict=True)))
    judge_root_file(path, expected, directory="contours")
    with uproot.open(path) as f:
        h = f["contours/contour_a_b_dchi2_5p99"]
        assert h.classname == "TGraph"
        np.testing.assert_array_equal(h.values()[0], g.x)
        assert h.member("fHistogram").member("fXaxis").member("fTitle") == "a"


def test_root_reads_the_contour_tgraph(tmp_path, pyroot):
    """ROOT itself (where ``pip install ROOT`` is there) reads the plain TGraph."""
    ROOT = pyroot
    g = Graph([1.0, 2.0, 1.5, 1.0], [0.0, 0.0, 1.0, 0.0], title="t", x_title="x", y_title="y")
    write_root(tmp_path / "g.root", {"g": g})
    judge_root_file(tmp_path / "g.root", expect_objects({"g": g}))
    f = ROOT.TFile.Open(str(tmp_path / "g.root"))
    h = f.Get("g")
    assert h.ClassName() == "TGraph" and h.GetN() == 4
    assert [h.GetPointY(i) for i in range(4)] == [0.0, 0.0, 1.0, 0.0]
    assert h.GetXaxis().GetTitle() == "x" and h.GetTitle() == "t"
    f.Close()

"""Tests of hepcombine.rootio: ROOT files written with uproot, read back with uproot."""

from __future__ import annotations

import os

import numpy as np
import pytest

from hepcombine.exceptions import HepCombineError, InvalidMeasurement
from hepcombine.rootio import GraphAsymmErrors, GraphErrors, write_root

uproot = pytest.importorskip("uproot")
hist = pytest.importorskip("hist")

X = [1.0, 2.5, 4.0]
Y = [0.1, -3.25, 7.0e-5]
EXL = [0.5, 0.75, 1.0]
EXH = [0.5, 0.25, 2.0]
EYL = [0.01, 1.5, 2.0e-6]
EYH = [0.02, 0.5, 3.0e-6]


def _asymm(**kwargs):
    return GraphAsymmErrors(X, Y, EXL, EXH, EYL, EYH, **kwargs)


def _weighted_hist():
    h = hist.Hist(
        hist.axis.Variable([0.0, 1.0, 3.0, 7.0, 20.0], name="pt", label="p_{T} [GeV]"),
        storage=hist.storage.Weight(),
        label="d#sigma/dp_{T}",
    )
    view = h.view(flow=True)
    view.value = [0.5, 1.25, 0.0, 3.5, 0.125, 9.0]  # underflow, 4 bins (one empty), overflow
    view.variance = [0.25, 0.0625, 0.0, 4.0, 1.0e-4, 1.0]
    return h


# ------------------------------------------------------------------------------ graphs


def test_graph_asymm_errors_read_back(tmp_path):
    path = tmp_path / "g.root"
    write_root(path, {"intervals": _asymm(title="Profile intervals")})
    with uproot.open(path) as f:
        g = f["intervals"]
        assert g.classname == "TGraphAsymmErrors"
        assert g.member("fName") == "intervals"
        assert g.member("fTitle") == "Profile intervals"
        assert g.member("fNpoints") == 3
        x, y = g.values()
        assert x.tolist() == X
        assert y.tolist() == Y
        exl, eyl = g.errors("low")
        exh, eyh = g.errors("high")
        assert exl.tolist() == EXL
        assert exh.tolist() == EXH
        assert eyl.tolist() == EYL
        assert eyh.tolist() == EYH
        # an undrawn graph as ROOT writes it: no frame histogram, no functions, no limits
        assert g.member("fHistogram") is None
        assert len(g.member("fFunctions")) == 0
        assert g.member("fMinimum") == g.member("fMaximum") == -1111.0


def test_graph_axis_titles_in_frame_histogram(tmp_path):
    path = tmp_path / "g.root"
    write_root(path, {"g": _asymm(title="t", x_title="m_{H} [GeV]", y_title="#mu")})
    with uproot.open(path) as f:
        frame = f["g"].member("fHistogram")
        assert frame.classname == "TH1F"
        assert frame.member("fXaxis").member("fTitle") == "m_{H} [GeV]"
        assert frame.member("fYaxis").member("fTitle") == "#mu"
        # TGraph::GetHistogram's frame: data range incl. errors, widened by 10% on each side;
        # x range [0.5, 6.0] (from 1 - 0.5 and 4 + 2), y range [-4.75, 0.12] (from -3.25 - 1.5
        # and 0.1 + 0.02). The widened x minimum, 0.5 - 0.55 < 0, is clipped to 0 by ROOT
        # because all points are at x >= 0.
        assert frame.member("fXaxis").member("fXmin") == 0.0
        assert frame.member("fXaxis").member("fXmax") == pytest.approx(6.0 + 0.55)
        assert frame.member("fMinimum") == pytest.approx(-4.75 - 0.487)
        assert frame.member("fMaximum") == pytest.approx(0.12 + 0.487)


def test_graph_errors_read_back(tmp_path):
    path = tmp_path / "g.root"
    write_root(path, {"sym": GraphErrors(X, Y, EXL, EYH, title="symmetric")})
    with uproot.open(path) as f:
        g = f["sym"]
        assert g.classname == "TGraphErrors"
        assert g.member("fTitle") == "symmetric"
        assert g.member("fX").tolist() == X
        assert g.member("fY").tolist() == Y
        assert g.member("fEX").tolist() == EXL
        assert g.member("fEY").tolist() == EYH


def test_empty_graph(tmp_path):
    path = tmp_path / "g.root"
    write_root(path, {"empty": GraphAsymmErrors([], [], [], [], [], [])})
    with uproot.open(path) as f:
        assert f["empty"].member("fNpoints") == 0
        assert f["empty"].values()[0].tolist() == []


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ((X, Y, EXL, EXH, EYL[:2], EYH), "yerr_low has 2 points"),
        ((X, Y, EXL, EXH, [0.1, -0.2, 0.3], EYH), "yerr_low must be >= 0"),
        ((X, [0.1, np.nan, 0.3], EXL, EXH, EYL, EYH), "y contains NaN"),
        ((X, Y, EXL, EXH, EYL, [[1, 2, 3]]), "yerr_high must be one-dimensional"),
        ((X, ["a", "b", "c"], EXL, EXH, EYL, EYH), "y is not an array of numbers"),
    ],
)
def test_graph_rejects_bad_points(arrays, message):
    with pytest.raises(InvalidMeasurement, match=message):
        GraphAsymmErrors(*arrays, title="bad")


def test_graph_arrays_are_read_only_copies():
    x = np.array(X)
    g = GraphErrors(x, Y, EXL, EYL)
    x[0] = 99.0
    assert g.x[0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        g.y[0] = 0.0


# ------------------------------------------------------------------------------ histograms


def test_th1d_variable_bins_weights_flow_and_titles(tmp_path):
    path = tmp_path / "h.root"
    write_root(path, {"xsec": _weighted_hist()})
    with uproot.open(path) as f:
        h = f["xsec"]
        assert h.classname == "TH1D"
        assert h.member("fTitle") == "d#sigma/dp_{T}"
        assert h.axis().member("fTitle") == "p_{T} [GeV]"
        assert h.axis().edges().tolist() == [0.0, 1.0, 3.0, 7.0, 20.0]
        assert h.values(flow=True).tolist() == [0.5, 1.25, 0.0, 3.5, 0.125, 9.0]
        assert h.variances(flow=True).tolist() == [0.25, 0.0625, 0.0, 4.0, 1.0e-4, 1.0]
        assert h.errors().tolist() == [0.25, 0.0, 2.0, 0.01]


def test_th1d_unweighted_has_no_sumw2(tmp_path):
    path = tmp_path / "h.root"
    h = hist.Hist(hist.axis.Regular(3, -1.5, 1.5, name="x"))
    h.fill([-1.0, 0.0, 0.0, 0.2, 1.0, 1.1, 1.2, 1.3])
    write_root(path, {"counts": h})
    with uproot.open(path) as f:
        r = f["counts"]
        assert r.classname == "TH1D"
        assert len(r.member("fSumw2")) == 0
        assert r.values().tolist() == [1.0, 3.0, 4.0]
        assert len(r.axis().member("fXbins")) == 0  # regular binning, as ROOT stores it
        assert (r.axis().member("fXmin"), r.axis().member("fXmax")) == (-1.5, 1.5)
        assert r.axis().member("fTitle") == "x"


def test_th1d_categorical_axis_labels(tmp_path):
    path = tmp_path / "h.root"
    h = hist.Hist(hist.axis.StrCategory(["stat", "jes", "lumi"], label="source"))
    h.fill(["jes", "jes", "lumi"])
    write_root(path, {"by_source": h})
    with uproot.open(path) as f:
        r = f["by_source"]
        assert r.axis().labels() == ["stat", "jes", "lumi"]
        assert r.values().tolist() == [0.0, 2.0, 1.0]


def test_th2d_orientation_and_axes(tmp_path):
    path = tmp_path / "h.root"
    cov = np.array([[4.0, 1.5, 0.0], [1.5, 9.0, -2.0], [0.0, -2.0, 1.0]])
    ordered = np.arange(6.0).reshape(3, 2)  # not symmetric: catches a transposition
    edges = [0.0, 1.0, 3.0, 7.0]
    h_cov = hist.Hist(
        hist.axis.Variable(edges, label="bin i"),
        hist.axis.Variable(edges, label="bin j"),
        label="covariance",
    )
    h_cov[...] = cov
    h_ord = hist.Hist(hist.axis.Regular(3, 0, 3), hist.axis.Variable([0.0, 1.0, 10.0]))
    h_ord[...] = ordered
    write_root(path, {"cov": h_cov, "ordered": h_ord})
    with uproot.open(path) as f:
        r = f["cov"]
        assert r.classname == "TH2D"
        assert r.member("fTitle") == "covariance"
        assert r.values().tolist() == cov.tolist()
        assert r.axis(0).member("fTitle") == "bin i"
        assert r.axis(1).member("fTitle") == "bin j"
        assert r.axis(1).edges().tolist() == edges
        assert f["ordered"].values().tolist() == ordered.tolist()
        assert f["ordered"].axis(1).edges().tolist() == [0.0, 1.0, 10.0]


def test_histogram_with_three_axes_is_rejected(tmp_path):
    h = hist.Hist(
        hist.axis.Regular(2, 0, 1), hist.axis.Regular(2, 0, 1), hist.axis.Regular(2, 0, 1)
    )
    with pytest.raises(InvalidMeasurement, match=r"'h3'.*1D and 2D"):
        write_root(tmp_path / "h.root", {"h3": h})
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------------------ directories


def test_nested_directories(tmp_path):
    path = tmp_path / "d.root"
    objects = {"values": _weighted_hist(), "sources/jes": _weighted_hist(), "g": _asymm()}
    write_root(path, objects, directory="combination/ttbar")
    with uproot.open(path) as f:
        assert f.classnames() == {
            "combination;1": "TDirectory",
            "combination/ttbar;1": "TDirectory",
            "combination/ttbar/values;1": "TH1D",
            "combination/ttbar/sources;1": "TDirectory",
            "combination/ttbar/sources/jes;1": "TH1D",
            "combination/ttbar/g;1": "TGraphAsymmErrors",
        }
        assert f["combination/ttbar/sources/jes"].member("fName") == "jes"
        assert f["combination/ttbar/g"].values()[1].tolist() == Y


def test_empty_directory_is_created(tmp_path):
    path = tmp_path / "d.root"
    write_root(path, {}, directory="nothing")
    with uproot.open(path) as f:
        assert f.classnames() == {"nothing;1": "TDirectory"}


@pytest.mark.parametrize("name", ["", "a//b", "/a", "a/", "a;1"])
def test_invalid_names(tmp_path, name):
    with pytest.raises(InvalidMeasurement, match="not a valid ROOT name"):
        write_root(tmp_path / "x.root", {name: _asymm()})
    with pytest.raises(InvalidMeasurement, match="not a valid ROOT name"):
        write_root(tmp_path / "x.root", {"g": _asymm()}, directory=name)
    assert os.listdir(tmp_path) == []


def test_object_cannot_be_a_directory(tmp_path):
    with pytest.raises(InvalidMeasurement, match="'a' is an object, not a directory"):
        write_root(tmp_path / "x.root", {"a": _asymm(), "a/b": _asymm()})


# ------------------------------------------------------------------------------ atomicity


def _existing_file(tmp_path):
    path = tmp_path / "result.root"
    write_root(path, {"old": _asymm(title="old")})
    return path, path.read_bytes()


def test_unsupported_object_names_it_and_writes_nothing(tmp_path):
    path, before = _existing_file(tmp_path)
    with pytest.raises(InvalidMeasurement, match=r"'dir/weird'.*dict") as err:
        write_root(path, {"ok": _asymm(), "weird": {"a": 1}}, directory="dir")
    assert isinstance(err.value, HepCombineError)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["result.root"]


def test_failure_mid_write_leaves_nothing(tmp_path, monkeypatch):
    path, before = _existing_file(tmp_path)
    calls = []
    original = uproot.writing.writable.WritableDirectory.__setitem__

    def failing_setitem(self, where, what):
        calls.append(where)
        if where == "b":  # "a" is already in the temporary file
            raise OSError("disk full (simulated)")
        original(self, where, what)

    monkeypatch.setattr(uproot.writing.writable.WritableDirectory, "__setitem__", failing_setitem)
    objects = {"a": _asymm(), "b": _weighted_hist(), "c": _asymm()}
    with pytest.raises(OSError, match="simulated"):
        write_root(path, objects)
    with pytest.raises(OSError, match="simulated"):
        write_root(tmp_path / "new.root", objects)
    assert calls == ["a", "b", "a", "b"]  # failed while the temporary file was being written
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["result.root"]


def test_replaces_existing_file(tmp_path):
    path, _ = _existing_file(tmp_path)
    write_root(path, {"new": _asymm()})
    with uproot.open(path) as f:
        assert f.keys() == ["new;1"]
    assert os.listdir(tmp_path) == ["result.root"]

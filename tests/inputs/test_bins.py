"""Bins of several measurements matched by their edges (hepcombine.inputs._bins).

The reference is set arithmetic on the (low, high) pairs written in the tests: the combined
bins are the union of the measurements' bins, each combined bin lists exactly the measurements
that have a bin with its edges, whatever position the bin has in each of them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepcombine import Binning, DifferentialMeasurement, Measurement, Quantity
from hepcombine.exceptions import InvalidMeasurement
from hepcombine.inputs._bins import BinMismatch, common_quantity, match_bins


def dm(name: str, low, high, unit: str = "", quantity: Quantity | None = None, centers=None):
    n = len(low)
    est = [f"{name}{i}" for i in range(n)]
    m = Measurement.from_uncertainties(
        dict(zip(est, np.arange(1.0, n + 1), strict=True)), dict.fromkeys(est, 0.1), name=name
    )
    b = Binning(np.array(low, float), np.array(high, float), "x", "x", unit, centers=centers)
    return DifferentialMeasurement(m, b, quantity or Quantity(), name, f"test {name}")


def test_same_bins_are_combined_bin_by_bin():
    a = dm("a", [0, 1, 2], [1, 2, 4])
    b = dm("b", [0, 1, 2], [1, 2, 4 + 1e-12])  # rounding of an edge: the same bin
    got = match_bins({"a": a, "b": b})
    assert got.observables == {f"bin{i}": [f"a:a{i}", f"b:b{i}"] for i in range(3)}
    assert got.binning.same_bins(a.binning) and got.binning.label == "x"


def test_bins_are_matched_by_edges_not_by_position():
    a = dm("a", [0, 1, 2, 3], [1, 2, 3, 4])
    b = dm("b", [1, 2], [2, 3])  # b's bin 0 is a's bin 1
    got = match_bins({"a": a, "b": b}, union=True)
    assert got.observables == {
        "bin0": ["a:a0"],
        "bin1": ["a:a1", "b:b0"],
        "bin2": ["a:a2", "b:b1"],
        "bin3": ["a:a3"],
    }
    with pytest.raises(
        BinMismatch,
        match=r"bin 0 \[0, 1\) of measurement 'a' \(test a\) is not a bin of measurement 'b'",
    ) as err:
        match_bins({"a": a, "b": b})
    assert err.value.measurement == "a"


def test_gaps_and_overlaps():
    a = dm("a", [0, 2], [1, 3])  # a gap at [1, 2)
    b = dm("b", [0, 2], [1, 3])
    got = match_bins({"a": a, "b": b})
    assert not got.binning.is_contiguous and got.binning.low.tolist() == [0, 2]
    c = dm("c", [0.5], [1.5])
    with pytest.raises(
        BinMismatch,
        match=r"bin 0 \[0\.5, 1\.5\) of measurement 'c'.* overlaps bin 0 \[0, 1\) of measurement 'a'",
    ):
        match_bins({"a": a, "c": c}, union=True)
    wide = dm("w", [0], [10])  # one bin over all of b's: overlap, not a match
    with pytest.raises(BinMismatch, match="overlaps"):
        match_bins({"b": b, "w": wide}, union=True)


def test_units_points_and_numbered_bins():
    with pytest.raises(BinMismatch, match=r"different units \('GeV' and 'TeV'\)"):
        match_bins({"a": dm("a", [0], [1], "GeV"), "b": dm("b", [0], [1], "TeV")})
    # spelling only: 'GEV' is 'GeV'
    assert match_bins({"a": dm("a", [0], [1], "GeV"), "b": dm("b", [0], [1], "GEV")})
    numbered = DifferentialMeasurement(dm("n", [0], [1]).measurement, Binning.index(1))
    with pytest.raises(BinMismatch, match="only numbered"):
        match_bins({"a": dm("a", [0], [1]), "n": numbered})
    assert match_bins({"n": numbered}).binning.is_index  # one measurement: nothing to match
    points = DifferentialMeasurement(
        dm("p", [0, 1], [1, 2]).measurement,
        Binning.from_edges([0, 1, 2], is_index=True, centers=[5.0, 7.0]),
    )
    got = match_bins(
        {"p": points, "q": DifferentialMeasurement(points.measurement.named("q"), points.binning)}
    )
    assert got.observables["bin1"] == ["p:p1", "q:p1"] and got.binning.centers.tolist() == [
        5.0,
        7.0,
    ]


def test_common_quantity():
    sqrt_s = ("SQRT(S)", "8000.0", "GeV")
    q = common_quantity(
        {
            "ee": Quantity("dσ/dy", "pb", (sqrt_s, ("M(E+ E-)", "60-120", "GeV"))),
            "mm": Quantity(
                "σ", "PB", (("SQRT(S)", "8000.0", "GeV"), ("M(MU+ MU-)", "60-120", "GeV"))
            ),
            "root": Quantity(),  # a histogram says nothing
        }
    )
    assert q == Quantity("dσ/dy", "pb", (sqrt_s,))
    with pytest.raises(
        InvalidMeasurement, match=r"'a' and 'b' are in different units \('pb' and 'fb'\)"
    ):
        common_quantity({"a": Quantity("x", "pb"), "b": Quantity("x", "fb")})


# ---------------------------------------------------------------------- randomised
@st.composite
def binnings(draw):
    """A common grid of edges and, per measurement, a random subset of its bins (sometimes
    with gaps), in increasing order."""
    n = draw(st.integers(1, 12))
    steps = draw(st.lists(st.floats(0.01, 100.0), min_size=n, max_size=n))
    start = draw(st.floats(-1e3, 1e3))
    edges = start + np.concatenate([[0.0], np.cumsum(steps)])
    k = draw(st.integers(1, 4))
    subsets = [
        sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n))) for _ in range(k)
    ]
    return edges, subsets


@settings(max_examples=150, deadline=None)
@given(binnings())
def test_union_is_the_set_union_and_exact_needs_equal_sets(case):
    edges, subsets = case
    ms = {f"m{j}": dm(f"m{j}", edges[s], edges[np.array(s) + 1]) for j, s in enumerate(subsets)}
    union = sorted(set().union(*map(set, subsets)))
    got = match_bins(ms, union=True)
    np.testing.assert_array_equal(got.binning.low, edges[union])
    np.testing.assert_array_equal(got.binning.high, edges[np.array(union) + 1])
    for k, b in enumerate(union):
        want = [
            f"m{j}:m{j}{s.index(b)}" for j, s in enumerate(subsets) if b in s
        ]  # position of the bin within each measurement
        assert got.observables[f"bin{k}"] == want
    if all(s == subsets[0] for s in subsets):
        assert match_bins(ms).observables == got.observables
    else:
        with pytest.raises(BinMismatch, match="is not a bin of measurement"):
            match_bins(ms)

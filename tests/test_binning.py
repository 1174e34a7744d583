"""Binning: edges, gaps, index binnings, selection and round trips."""

import numpy as np
import pytest

from hepcombine.binning import Binning, Quantity
from hepcombine.exceptions import InvalidMeasurement


def test_contiguous_edges_and_derived():
    b = Binning.from_edges([0, 10, 30, 60], name="pt", label="$p_T$", unit="GeV")
    assert b.n_bins == 3 and len(b) == 3
    assert b.is_contiguous and not b.is_index
    np.testing.assert_array_equal(b.edges, [0, 10, 30, 60])
    np.testing.assert_array_equal(b.widths, [10, 20, 30])
    np.testing.assert_array_equal(b.bin_centers, [5, 20, 45])
    assert b.title == "$p_T$ [GeV]"
    assert b.bin_label(1) == "bin 1 [10, 30) GeV"
    assert b == Binning.from_dict(b.to_dict())


def test_gaps_are_kept_and_filled_on_request():
    # the CMS 7 TeV W -> e nu asymmetry skips 1.4 < |eta| < 1.6
    b = Binning([0.0, 1.0, 1.6], [1.0, 1.4, 2.4], name="abseta")
    assert not b.is_contiguous
    with pytest.raises(InvalidMeasurement, match=r"gaps at \[1.4, 1.6\)"):
        _ = b.edges
    edges, where = b.filled_edges()
    np.testing.assert_array_equal(edges, [0.0, 1.0, 1.4, 1.6, 2.4])
    np.testing.assert_array_equal(where, [0, 1, 3])


def test_index_binning_and_select():
    b = Binning.index(4)
    assert b.is_index and b.bin_label(2) == "bin 2"
    s = b.select([0, 2, 3])
    np.testing.assert_array_equal(s.low, [0, 2, 3])
    np.testing.assert_array_equal(s.high, [1, 3, 4])
    assert s.is_index
    with pytest.raises(InvalidMeasurement, match="increasing bin indices"):
        b.select([2, 1])


def test_same_bins_tolerance():
    a = Binning.from_edges([0, 1, 2])
    assert a.same_bins(Binning.from_edges([0, 1 + 1e-12, 2]))
    assert not a.same_bins(Binning.from_edges([0, 1.1, 2]))
    assert not a.same_bins(Binning.from_edges([0, 1, 2, 3]))


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        ([0, 1], [1, 1], "bin 1 has low edge 1 not below"),
        ([0, 0.5], [1, 2], "overlap"),
        ([0, np.nan], [1, 2], "NaN"),
        ([], [], "at least one bin"),
        ([0, 1], [1], "shape"),
    ],
)
def test_malformed_binnings_are_named_errors(low, high, message):
    with pytest.raises(InvalidMeasurement, match=message):
        Binning(low, high)


def test_quantity_title():
    assert Quantity("$d\\sigma/dp_T$", "pb/GeV").title == "$d\\sigma/dp_T$ [pb/GeV]"
    assert Quantity().title == ""

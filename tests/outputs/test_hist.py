"""hist output (hepcombine.outputs.hist): axes follow the binning, values and variances the
result."""

import hist
import numpy as np
import pytest

from hepcombine import Binning, Combiner, Measurement
from hepcombine.differential import DifferentialResult
from hepcombine.outputs.hist import (
    distribution_hist,
    is_uniform,
    result_hist,
    result_matrix_hist,
    to_hist,
)


def test_axis_type_follows_the_edges():
    reg = distribution_hist([0, 1, 2, 3], [1, 2, 3], [1, 1, 1], name="x", label="x", title="t")
    var = distribution_hist([0, 1, 3, 7], [1, 2, 3], [1, 1, 1], name="pt", label="p_T", title="t")
    assert isinstance(reg.axes[0], hist.axis.Regular) and is_uniform(np.array([0.0, 1, 2, 3]))
    assert isinstance(var.axes[0], hist.axis.Variable)
    assert (var.axes[0].name, var.axes[0].label, var.label) == ("pt", "p_T", "t")
    np.testing.assert_array_equal(var.variances(), [1, 1, 1])


@pytest.fixture(scope="module")
def result():
    ms = [
        Measurement.from_uncertainties({"b0": 10.0, "b1": 5.0}, {"b0": 1.0, "b1": 2.0}, name="A"),
        Measurement.from_uncertainties({"b0": 12.0, "b1": 4.0}, {"b0": 2.0, "b1": 1.0}, name="B"),
    ]
    return Combiner(ms).combine()


def test_result_hist_one_labelled_bin_per_observable(result):
    h = result_hist(result)
    assert list(h.axes[0]) == ["b0", "b1"]
    # closed form: inverse-variance weighted means of uncorrelated inputs
    w0, w1 = np.array([1.0, 0.25]), np.array([0.25, 1.0])
    expected = [w0 @ [10.0, 12.0] / w0.sum(), w1 @ [5.0, 4.0] / w1.sum()]
    np.testing.assert_allclose(h.values(), expected, rtol=1e-12)
    np.testing.assert_allclose(h.variances(), [1 / w0.sum(), 1 / w1.sum()], rtol=1e-12)
    np.testing.assert_allclose(
        result_matrix_hist(result, "correlation").values(), np.eye(2), atol=1e-12
    )


def test_distribution_keeps_the_binning(result):
    b = Binning.from_edges([0.0, 20.0, 50.0], name="pt", label="p_T", unit="GeV")
    h = to_hist(DifferentialResult.from_result(result, binning=b, title="dσ/dpT"))
    np.testing.assert_array_equal(h.axes[0].edges, [0.0, 20.0, 50.0])
    # hist axes have no unit: it goes into the label, as ROOT axis titles carry it
    assert (h.axes[0].name, h.axes[0].label, h.label) == ("pt", "p_T [GeV]", "dσ/dpT")
    np.testing.assert_allclose(h.values(), [result.values["b0"], result.values["b1"]])

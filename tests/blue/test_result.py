"""BlueResult: frozen, keyed by name, the χ² results' vocabulary, and the seed notebook's
interface on Blue agreeing with it."""

import math

import numpy as np
import pytest
from conftest import DATA

from hepcombine import Blue, blue_from_csv


@pytest.fixture(scope="module")
def seed() -> Blue:
    return blue_from_csv(
        DATA / "lhc_ttbar_xsec_emu_8tev.csv", DATA / "lhc_ttbar_xsec_emu_8tev_corr.csv"
    )


def test_result_is_the_notebook_interface_by_name(seed):
    r = seed.result
    assert r.observables == ("sigma_tt",) and r.method == "blue"
    # published (ATLAS-CONF-2014-054, seed notebook): 241.46454 pb, weights 0.72487 / 0.27513
    assert r.values["sigma_tt"] == seed.combined_result == pytest.approx(241.46454, abs=5e-6)
    assert r.errors["sigma_tt"] == seed.combined_uncertainty
    assert r.weights["sigma_tt"] == pytest.approx(seed.weights_table)
    assert r.breakdown.column("sigma_tt") == pytest.approx(seed.combined_uncertainties)
    assert (r.chi2, r.ndf) == seed.chi2_ndf
    assert r.pvalue == seed.p_value == pytest.approx(0.8162, abs=5e-5)
    assert r.covariance["sigma_tt", "sigma_tt"] == pytest.approx(r.errors["sigma_tt"] ** 2)


def test_result_is_frozen(seed):
    r = seed.result
    with pytest.raises(AttributeError):
        r.chi2 = 0.0
    with pytest.raises(TypeError):
        r.values["sigma_tt"] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        r.weights.matrix[0, 0] = 0.0


def test_several_observables_are_keyed_by_name_not_float_or_dict():
    """Two observables, correlated inputs (Valassi): the result is always a mapping."""
    data = {
        "a1": {"observable": "A", "value": 10.0, "s": 1.0, "c": 0.5},
        "a2": {"observable": "A", "value": 11.0, "s": 1.5, "c": 0.5},
        "b1": {"observable": "B", "value": 5.0, "s": 0.8, "c": 0.4},
    }
    blue = Blue(data, {"s": 0.0, "c": 1.0})
    r = blue.result
    assert r.observables == ("A", "B")
    # closed form: GLS with the total covariance of the three inputs
    sig_s = np.array([1.0, 1.5, 0.8])
    sig_c = np.array([0.5, 0.5, 0.4])
    cov = np.diag(sig_s**2) + np.outer(sig_c, sig_c)
    u = np.array([[1, 0], [1, 0], [0, 1]], dtype=float)
    v = np.linalg.inv(u.T @ np.linalg.solve(cov, u))
    x = v @ u.T @ np.linalg.solve(cov, [10.0, 11.0, 5.0])
    assert [r.values["A"], r.values["B"]] == pytest.approx(x, rel=1e-12)
    assert r.correlation["A", "B"] == pytest.approx(v[0, 1] / math.sqrt(v[0, 0] * v[1, 1]))
    assert r.weights["B"]["a1"] != 0.0  # an input of A carries weight for B
    assert r.ndf == 1


def test_blue_itself_is_immutable(seed):
    with pytest.raises(AttributeError, match="immutable"):
        seed._x = np.zeros(1)
    with pytest.raises(ValueError, match="read-only"):
        seed._C[0, 0] = 0.0  # the arrays behind the properties cannot change either
    sub = seed[["ATLAS"]]  # derived combinations are new objects
    assert sub.combined_result == pytest.approx(242.4)  # the ATLAS input alone

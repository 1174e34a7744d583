"""The canonical measurement (hepcombine.measurement) against the Gaussian conditioning written
out in the test (method.md §1): M = V_xx|λ⁻¹, U = V_xλ V_λλ⁻¹, D = V_λλ⁻¹ − 1."""

import numpy as np
import pytest

from hepcombine import Measurement
from hepcombine.exceptions import InvalidMeasurement

RNG = np.random.default_rng(7)
A = RNG.normal(size=(4, 4))
COV = A @ A.T + 4 * np.eye(4)  # (x0, x1, s0, s1); sources need prior σ ≤ 1: scale them
COV[2:, :] *= 0.3
COV[:, 2:] *= 0.3
NAMES = ["x0", "x1", "s0", "s1"]


def test_from_hessian_is_the_gaussian_conditioning():
    m = Measurement.from_hessian(np.linalg.inv(COV), NAMES, {"x0": 1.0, "x1": 2.0}, name="m")
    vxx, vxl, vll = COV[:2, :2], COV[:2, 2:], COV[2:, 2:]
    u = vxl @ np.linalg.inv(vll)
    np.testing.assert_allclose(m.shifts_up, u, rtol=1e-10)
    np.testing.assert_allclose(m.shifts_down, -u, rtol=1e-10)
    np.testing.assert_allclose(m.stat_information, np.linalg.inv(vxx - u @ vxl.T), rtol=1e-10)
    np.testing.assert_allclose(m.source_information, np.linalg.inv(vll) - np.eye(2), rtol=1e-9)
    # the total covariance of the estimates is the fit's
    np.testing.assert_allclose(m.covariance, vxx, rtol=1e-10)
    h, names = m.to_hessian()
    assert names == tuple(NAMES)
    np.testing.assert_allclose(h, np.linalg.inv(COV), rtol=1e-9, atol=1e-12)


def test_correlation_matrix_input_equals_its_hessian():
    sig = np.sqrt(np.diag(COV))
    rho = COV / np.outer(sig, sig)
    a = Measurement.from_correlation_matrix(rho, sig, NAMES, {"x0": 1.0, "x1": 2.0})
    b = Measurement.from_hessian(np.linalg.inv(COV), NAMES, {"x0": 1.0, "x1": 2.0})
    for f in ("stat_information", "shifts_up", "source_information"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-9, atol=1e-12)


def test_orthogonal_table_and_read_only_arrays():
    m = Measurement.from_uncertainties(
        {"x": 10.0, "y": 5.0}, {"x": 1.0, "y": 2.0}, {"jes": {"x": (0.3, -0.1)}, "lumi": {"y": 0.2}}
    )
    # closed form: stat² + (symmetrised shift)²
    assert m.errors == pytest.approx({"x": np.hypot(1.0, 0.2), "y": np.hypot(2.0, 0.2)})
    assert m.is_asymmetric.tolist() == [True, False]
    with pytest.raises(ValueError, match="read-only"):
        m.estimates[0] = 1.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Measurement.from_uncertainties({"x": "a"}, {"x": 1.0}), "'a', not a number"),
        (lambda: Measurement.from_uncertainties({"x": 1.0}, {"x": None}), "not a number"),
        (
            lambda: Measurement.from_uncertainties({"x": 1.0}, {"x": 1.0}, {"s": {"x": "b"}}),
            "shift 'b'",
        ),
        (lambda: Measurement.from_uncertainties({"x": 1.0}, {"x": -1.0}), "positive"),
        (lambda: Measurement.from_hessian([[1.0]], ["x"], {"x": "c"}), "'c', not a number"),
    ],
)
def test_bad_inputs_are_invalid_measurement(call, message):
    with pytest.raises(InvalidMeasurement, match=message):
        call()

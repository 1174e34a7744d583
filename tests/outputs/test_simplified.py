"""The CMS simplified likelihood (hepcombine.outputs.simplified): the quadratic model
reproduces the moments it is built from (closed forms of its moments, and the cubic for c
solved by numpy), the third moments of a quadratic combination are exactly zero, and those from
pseudo-experiments agree with the analytic moments of a log-normal combination."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import write

from hepcombine import Combiner, Measurement
from hepcombine.cli import main
from hepcombine.exceptions import OutputError
from hepcombine.outputs.simplified import quadratic_model, simplified_likelihood


def _moments_of_model(a, b, c, rho):
    """Mean, covariance and third central moments of x = a + bθ + cθ², θ ~ N(0, ρ):
    E = a + c, cov = bbρ + 2ccρ², m₃ = 6b²c + 8c³ (Isserlis)."""
    mean = a + c
    cov = np.outer(b, b) * rho + 2 * np.outer(c, c) * rho**2
    return mean, cov, 6 * b**2 * c + 8 * c**3


@pytest.mark.parametrize("seed", range(6))
def test_quadratic_model_reproduces_the_moments(seed):
    rng = np.random.default_rng(seed)
    n = 4
    sigma = rng.uniform(0.5, 3.0, n)
    corr = np.corrcoef(rng.normal(size=(n, 3 * n)))
    m2 = corr * np.outer(sigma, sigma)
    skew = rng.uniform(-1.0, 1.0, n) * (1.5 if seed % 2 else 0.3)
    m3 = skew * sigma**3
    m1 = rng.normal(10, 2, n)
    a, b, c, rho = quadratic_model(m1, m2, m3)
    mean, cov, third = _moments_of_model(a, b, c, rho)
    np.testing.assert_allclose(mean, m1, rtol=1e-12)
    np.testing.assert_allclose(cov, m2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(third, m3, rtol=1e-9, atol=1e-12)
    # c solves c³ − (3/2) m₂ c + m₃/4 = 0; the model takes the root of smallest |c|
    for i in range(n):
        roots = np.roots([1.0, 0.0, -1.5 * m2[i, i], m3[i] / 4.0])
        real = roots[np.abs(roots.imag) < 1e-9].real
        assert c[i] == pytest.approx(real[np.argmin(np.abs(real))], rel=1e-9, abs=1e-12)


def test_quadratic_model_limits():
    _a, _b, c, rho = quadratic_model(
        np.array([1.0, 2.0]), np.array([[1.0, 0.3], [0.3, 4.0]]), np.zeros(2)
    )
    np.testing.assert_array_equal(c, [0.0, 0.0])
    assert rho[0, 1] == pytest.approx(0.3 / 2.0)
    with pytest.raises(OutputError, match=r"exceeds √8 σ³"):
        quadratic_model(np.zeros(1), np.eye(1), np.array([3.0]))


def test_quadratic_combination_is_exact():
    a = Measurement.from_uncertainties(
        {"b0": 10.0, "b1": 8.0}, {"b0": 0.5, "b1": 0.4}, {"l": {"b0": 0.3, "b1": 0.2}}, name="A"
    )
    b = Measurement.from_uncertainties(
        {"b0": 10.6, "b1": 7.7}, {"b0": 0.6, "b1": 0.5}, {"l": {"b0": 0.4, "b1": 0.3}}, name="B"
    )
    combiner = Combiner([a, b], correlations={("A:l", "B:l"): 1.0})
    result = combiner.combine()
    sl = simplified_likelihood(result, combiner)
    assert sl.method == "exact" and sl.n_toys == 0
    np.testing.assert_array_equal(sl.third_moments, [0.0, 0.0])
    np.testing.assert_array_equal(sl.mean, [result.values["b0"], result.values["b1"]])
    np.testing.assert_array_equal(sl.covariance, result.covariance.matrix)
    np.testing.assert_array_equal(sl.c, [0.0, 0.0])
    doc = json.loads(sl.to_json())
    assert doc["quadratic_model"]["rho"][0][1] == pytest.approx(result.correlation["b0", "b1"])


def test_toy_third_moments_match_a_lognormal_combination():
    """One measurement of two bins with a common log-normal source: the combined values are
    the measured ones, x_i = T_i e^{−k_i λ} + σ_i ε_i with λ, ε ~ N(0, 1), k = ln(1 + u/T), whose
    moments are closed forms (log-normal distribution)."""
    T, s, u = np.array([10.0, 20.0]), np.array([0.5, 0.8]), np.array([3.0, 4.0])
    m = Measurement.from_uncertainties(
        {"b0": T[0], "b1": T[1]}, {"b0": s[0], "b1": s[1]}, {"ln": {"b0": u[0], "b1": u[1]}},
        lognormal=["ln"], name="A",
    )  # fmt: skip
    combiner = Combiner([m])
    result = combiner.combine()
    sl = simplified_likelihood(result, combiner, n_toys=4000, seed=11)
    assert sl.method == "toys" and sl.n_toys + sl.n_failed == 4000
    k = np.log1p(u / T)
    q = np.exp(k**2)
    third = T**3 * (q + 2) * (q - 1) ** 2 * q**1.5
    var = T**2 * (q - 1) * q + s**2
    cov01 = T[0] * T[1] * np.exp(0.5 * (k[0] ** 2 + k[1] ** 2)) * (np.exp(k[0] * k[1]) - 1)
    assert np.all(np.abs(sl.third_moments - third) < 4 * sl.third_moments_error)
    np.testing.assert_allclose(np.diag(sl.covariance), var, rtol=0.1)
    assert sl.covariance[0, 1] == pytest.approx(cov01, rel=0.1)
    np.testing.assert_allclose(sl.mean, T * np.sqrt(q), rtol=0.02)
    assert sl.a is not None  # skewness ≈ 0.7–1 is within the model's reach
    _mean, _cov, m3 = _moments_of_model(sl.a, sl.b, sl.c, sl.rho)
    np.testing.assert_allclose(m3, sl.third_moments, rtol=1e-9)


def test_cli_writes_the_simplified_likelihood(tmp_path):
    config = write(
        tmp_path / "c.yaml",
        """\
measurements:
  a:
    estimates: {x: 10.0}
    stat: 0.5
    uncertainties: {lumi: 3.0}
    relative: [lumi]
""",
    )
    out = tmp_path / "sl.json"
    argv = ["combine", config, "--simplified", out, "--simplified-toys", "300"]
    assert main([str(a) for a in [*argv, "--output-dir", tmp_path]]) == 0
    doc = json.loads(out.read_text())
    assert doc["method"] == "toys" and doc["n_toys"] + doc["n_failed"] == 300
    assert doc["seed"] == 1 and doc["names"] == ["x"]
    assert math.isfinite(doc["third_moments"][0])

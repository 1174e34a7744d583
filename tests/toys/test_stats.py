"""Pseudo-experiment studies against closed forms (issue 11, Acceptance).

* A quadratic combination (an orthogonal table and a Hessian measurement with data
  constraints and pulled sources, correlated sources incl. ρ = 1): pulls N(0, 1), coverage
  0.6827 and ⟨χ²_min⟩ = ndf within their statistical errors, KS p-values not small; each
  pseudo-experiment's combination equals the generalised least squares of its
  pseudo-observations (x̂, x̂ − Uλ̂, D⁻¹(1 + D)λ̂) with the sources marginalised, written here.
* The Convino paper's Sect. 3.1: two Poisson counts of one quantity, Neyman and Pearson. Here
  the combinations have closed forms (Neyman with σ² = n: harmonic mean; Pearson: √(mean n²);
  the direct Poisson likelihood: arithmetic mean), so Neyman ≤ direct ≤ Pearson in every
  pseudo-experiment and the biases have the paper's signs (Neyman low, Pearson high and
  smaller).
* The statistics of ToyResult against the same numbers computed here from the arrays.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from toy_inputs import quadratic_combiner

from hepcombine import Combiner, Measurement
from hepcombine.toys import COVERAGE_68, ToyModel, ToyResult, item_rng, run_toys


def within(value, expected, error, k=3.5):
    return abs(value - expected) < k * error


@pytest.fixture(scope="module")
def quadratic():
    return quadratic_combiner(11)


@pytest.fixture(
    scope="module", params=[1000, pytest.param(3000, marks=pytest.mark.slow)], ids=lambda n: f"n{n}"
)
def quadratic_toys(request, quadratic):
    """The same study at 1000 pseudo-experiments in the default run (every check is relative to
    its own statistical error) and at 3000 in the slow run."""
    return run_toys(quadratic, request.param, seed=2024)


def test_quadratic_pulls_coverage_chi2(quadratic_toys):
    res = quadratic_toys
    n = res.n
    assert res.n_failed == 0
    assert res.ndf == 3
    for o in res.observables:
        assert within(res.bias[o], 0.0, res.bias_error[o])
        assert within(res.pull_mean[o], 0.0, res.pull_mean_error[o])
        assert res.bias_error[o] == pytest.approx(1 / math.sqrt(n), rel=0.1)
        assert within(res.pull_width[o], 1.0, res.pull_width_error[o])
        assert within(res.coverage[o], COVERAGE_68, math.sqrt(COVERAGE_68 * (1 - COVERAGE_68) / n))
        assert res.n_intervals[o] == n
        assert stats.kstest(res.pulls(o), "norm").pvalue > 1e-3
    assert within(res.chi2_mean, res.ndf, math.sqrt(2 * res.ndf / n))
    assert res.chi2_ks_pvalue > 1e-3


def test_quadratic_toys_are_gls_of_their_pseudo_observations(quadratic, quadratic_toys):
    """Each pseudo-experiment's combination, recomputed independently: y = (x̂_A, z_B, a_B) with
    z = x̂ − Uλ̂, a = D⁻¹(1 + D)λ̂, mean (x̄, x̄, 0), covariance blockdiag(V_A, V_B, D⁻¹) + G C Gᵀ
    with λ ~ N(0, C) marginalised (G: −U_A, −U_B, 1); χ²_min differs from the GLS χ² by the
    constant −λ̂ᵀ(1 + D)D⁻¹λ̂ of the Hessian measurement's data part."""
    comb = quadratic
    a, b = comb.measurements["A"], comb.measurements["B"]
    model = ToyModel(comb)
    nominal = comb.combine()
    C = nominal.correlation_assumptions.matrix  # sources: A:lumi, A:shape, B:B_s0..2
    Va, Vb = np.linalg.inv(a.stat_information), np.linalg.inv(b.stat_information)
    D = b.source_information
    G = np.zeros((9, 5))
    G[0:3, 0:2] = -a.shifts
    G[3:6, 2:5] = -b.shifts
    G[6:9, 2:5] = np.eye(3)
    cov = np.zeros((9, 9))
    cov[0:3, 0:3], cov[3:6, 3:6], cov[6:9, 6:9] = Va, Vb, np.linalg.inv(D)
    cov += G @ C @ G.T
    X = np.vstack([np.eye(3), np.eye(3), np.zeros((3, 3))])
    W = np.linalg.inv(cov)
    F = np.linalg.inv(X.T @ W @ X)
    for i in (0, 1, 7, quadratic_toys.n - 1):
        toy = model.generate(item_rng(2024, i))
        xa, xb, lam = toy.estimates["A"], toy.estimates["B"], toy.nuisance_values["B"]
        y = np.concatenate([xa, xb - b.shifts @ lam, np.linalg.solve(D, (np.eye(3) + D) @ lam)])
        xbar = F @ X.T @ W @ y
        r = y - X @ xbar
        chi2 = r @ W @ r - lam @ (np.eye(3) + D) @ np.linalg.solve(D, lam)
        for k, o in enumerate(quadratic_toys.observables):
            assert quadratic_toys.values[o][i] == pytest.approx(xbar[k], rel=1e-8)
            assert quadratic_toys.errors[o][i] == pytest.approx(math.sqrt(F[k, k]), rel=1e-8)
            lo, hi = quadratic_toys.interval_low[o][i], quadratic_toys.interval_high[o][i]
            assert (lo, hi) == pytest.approx((xbar[k] - F[k, k] ** 0.5, xbar[k] + F[k, k] ** 0.5))
        assert quadratic_toys.chi2[i] == pytest.approx(chi2, rel=1e-7, abs=1e-9)


def test_statistics_against_the_arrays(quadratic_toys):
    """bias, width, coverage, χ² summaries recomputed here from the per-toy arrays."""
    res = quadratic_toys
    for o in res.observables:
        pulls = [(v - res.truth[o]) / e for v, e in zip(res.values[o], res.errors[o], strict=True)]
        mean = sum(pulls) / len(pulls)
        sd = math.sqrt(sum((p - mean) ** 2 for p in pulls) / (len(pulls) - 1))
        assert res.pull_mean[o] == pytest.approx(mean, rel=1e-9, abs=1e-12)
        # quadratic χ²: every toy's σ is the nominal σ₀, so bias and pull mean agree
        assert res.bias[o] == pytest.approx(mean, rel=1e-7, abs=1e-10)
        assert res.sigma[o] == pytest.approx(res.errors[o][0], rel=1e-10)
        assert res.pull_width[o] == pytest.approx(sd, rel=1e-9)
        assert res.pull_width_error[o] == pytest.approx(sd / math.sqrt(2 * (len(pulls) - 1)))
        covered = sum(
            lo <= res.truth[o] <= hi
            for lo, hi in zip(res.interval_low[o], res.interval_high[o], strict=True)
        )
        c = covered / res.n
        assert res.coverage[o] == pytest.approx(c)
        assert res.coverage_error[o] == pytest.approx(math.sqrt(c * (1 - c) / res.n))
    assert res.chi2_ks_pvalue == pytest.approx(stats.kstest(res.chi2, stats.chi2(3).cdf).pvalue)


def test_sect31_pearson_neyman_bias():
    """Two Poisson counts x^a = 10 and x^b = x^a + 3√x^a of one quantity (paper Sect. 3.1 with
    s = 0.1, γ = 3), combined with σ² = n (Neyman) and with the Pearson χ²."""
    xa = 10.0
    xb = xa + 3 * math.sqrt(xa)
    a = Measurement.from_uncertainties({"x": xa}, {"x": math.sqrt(xa)}, name="a")
    b = Measurement.from_uncertainties({"x": xb}, {"x": math.sqrt(xb)}, name="b")
    comb = Combiner([a, b])
    n = 400
    res = run_toys(comb, n, seed=31, stat="poisson", compare=True, intervals=False)
    assert res.n_failed == 0 and res.other is not None and res.other.n_failed == 0
    assert res.other.chi2_definition == "pearson"
    model = ToyModel(comb, stat="poisson")
    diff_n, diff_p = [], []
    for i in range(n):
        toy = model.generate(item_rng(31, i))
        na, nb = toy.estimates["a"][0], toy.estimates["b"][0]  # σ² = x: one unit per event
        neyman = 2 / (1 / na + 1 / nb)
        pearson = math.sqrt((na**2 + nb**2) / 2)
        direct = (na + nb) / 2  # maximum of the Poisson likelihood
        assert res.values["x"][i] == pytest.approx(neyman, rel=1e-9)
        assert res.other.values["x"][i] == pytest.approx(pearson, rel=1e-5)
        assert neyman <= direct * (1 + 1e-12) and direct <= pearson * (1 + 1e-12)
        sigma = math.sqrt(direct / 2)
        diff_n.append((neyman - direct) / sigma)
        diff_p.append((pearson - direct) / sigma)
    # the paper's Fig. 1: Neyman below the direct combination, Pearson above and closer
    assert np.mean(diff_n) < 0 < np.mean(diff_p) < -np.mean(diff_n)
    # against the truth: the exact expectations of the two closed forms over Poisson(μ)²
    mu, sigma0 = res.truth["x"], res.sigma["x"]
    k = np.arange(1, 120)
    p = stats.poisson(mu).pmf(k)
    na, nb = np.meshgrid(k, k)
    w = np.outer(p, p)
    exact_n = (np.sum(w * 2 / (1 / na + 1 / nb)) - mu) / sigma0
    exact_p = (np.sum(w * np.sqrt((na**2 + nb**2) / 2)) - mu) / sigma0
    assert exact_n < 0 < exact_p < -exact_n  # the paper's signs and ordering
    assert within(res.bias["x"], exact_n, res.bias_error["x"])
    assert within(res.other.bias["x"], exact_p, res.other.bias_error["x"])
    assert res.bias["x"] < -3 * res.bias_error["x"]
    m, e = res.difference["x"]
    assert m == pytest.approx(exact_p - exact_n, abs=3.5 * e)
    assert m > 5 * e


def test_failed_recombinations_are_counted_with_their_reason():
    # Pearson needs positive estimates; Gaussian toys of x̂ = 3 ± 2 are often negative
    a = Measurement.from_uncertainties({"x": 3.0}, {"x": 2.0}, name="A")
    b = Measurement.from_uncertainties({"x": 4.0}, {"x": 1.0}, name="B")
    comb = Combiner([a, b], chi2="pearson")
    n = 60
    res = run_toys(comb, n, seed=5, stat="fixed", intervals=False)
    model = ToyModel(comb, stat="fixed")
    negative = [
        any(v[0] <= 0 for v in model.generate(item_rng(5, i)).estimates.values()) for i in range(n)
    ]
    np.testing.assert_array_equal(res.failed, negative)
    assert 0 < res.n_failed < n
    assert all("Pearson χ² needs positive estimates" in r for r in res.failures)
    assert sum(res.failures.values()) == res.n_failed
    ok = ~res.failed
    assert np.all(np.isfinite(res.values["x"][ok])) and np.all(np.isnan(res.values["x"][~ok]))
    assert "failed" in repr(res)


def test_result_object(quadratic_toys):
    res = quadratic_toys
    with pytest.raises(AttributeError):
        res.n = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        res.bias["b0"] = 0.0  # type: ignore[index]
    with pytest.raises(ValueError):
        res.values["b0"][0] = 1.0
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["observables"]["b1"]["bias"] == pytest.approx(res.bias["b1"])
    assert d["failed"] == {"count": 0, "reasons": {}}
    assert d["other"] is None
    r = repr(res)
    assert f"{res.n} toys" in r and "b2" in r and "KS p-value" in r
    from hepcombine.exceptions import UnknownName

    with pytest.raises(UnknownName):
        res.pulls("nope")
    assert res.pulls().size == 3 * res.n


def test_from_arrays_by_hand():
    """Five pseudo-experiments written by hand: one failed, one without a valid interval."""
    arrays = {
        "toy": np.arange(5),
        "values": np.array([[1.0], [2.0], [np.nan], [0.5], [1.5]]),
        "errors": np.array([[1.0], [2.0], [np.nan], [0.5], [1.0]]),
        "low": np.array([[0.0], [0.5], [np.nan], [0.2], [np.nan]]),
        "high": np.array([[2.0], [3.0], [np.nan], [0.9], [np.nan]]),
        "interval": np.array([[True], [True], [False], [True], [False]]),
        "chi2": np.array([0.5, 1.5, np.nan, 2.5, 0.1]),
        "failed": np.array([False, False, True, False, False]),
        "reason": np.array(["", "", "FitError: no", "", ""]),
    }
    meta = {"observables": ["x"], "truth": [1.0], "sigma": [2.0], "ndf": 1, "chi2": "neyman"}
    meta.update(stat="fixed", nuisance="prior")
    res = ToyResult.from_arrays(arrays, meta, seed=1)
    pulls = np.array([0.0, 0.5, -1.0, 0.5])
    shifts = np.array([0.0, 1.0, -0.5, 0.5]) / 2.0  # (x̄ − truth)/σ₀
    assert res.pull_mean["x"] == pytest.approx(pulls.mean())
    assert res.pull_width["x"] == pytest.approx(pulls.std(ddof=1))
    assert res.pull_mean_error["x"] == pytest.approx(pulls.std(ddof=1) / 2)
    assert res.bias["x"] == pytest.approx(shifts.mean())
    assert res.bias_error["x"] == pytest.approx(shifts.std(ddof=1) / 2)
    assert res.n_intervals["x"] == 3
    assert res.coverage["x"] == pytest.approx(2 / 3)  # [0.2, 0.9] misses 1.0
    assert res.coverage_error["x"] == pytest.approx(math.sqrt(2 / 9 / 3))
    assert res.chi2_mean == pytest.approx(np.mean([0.5, 1.5, 2.5, 0.1]))
    assert res.failures == {"FitError: no": 1}
    assert res.n_failed == 1

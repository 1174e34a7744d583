"""Where the χ² method and BLUE coincide (Neyman χ², absolute orthogonal sources, one estimate per
measurement, so no correlation within a measurement: method.md §4), the diagnostics of the χ²
method are BLUE's: its pulls (y_i − x̂)/√(σ_i² − σ_x̂²), its sub-combinations without one input,
its marginal information weights and its pairwise compatibility. BLUE and the χ² engine share
no code."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepcombine import Blue, Combiner, Measurement
from hepcombine.compat import compatibility


def random_correlation(rng, n):
    a = rng.normal(size=(n, n + 1))
    g = a @ a.T + 0.3 * np.eye(n)
    d = np.sqrt(np.diag(g))
    return g / np.outer(d, d)


def pair(rng, n_obs, n_extra, n_src, full_rho=False):
    """The same random combination as BLUE and as a χ² combiner."""
    obs_of = list(range(n_obs)) + list(rng.integers(0, n_obs, size=n_extra))
    n = len(obs_of)
    names = [f"m{i}" for i in range(n)]
    stat = rng.uniform(1.0, 5.0, size=n)
    sigma = rng.uniform(-3.0, 3.0, size=(n, n_src))
    values = rng.uniform(50, 150, size=n_obs)[obs_of] + rng.normal(0, 4, size=n)
    rho = [random_correlation(rng, n) for _ in range(n_src)]
    if full_rho:
        rho[0] = np.ones((n, n))  # one source fully correlated between all inputs
    sources = [f"s{k}" for k in range(n_src)]
    data = {
        names[i]: {"value": values[i], "observable": f"o{obs_of[i]}", "Stat": stat[i]}
        | {s: sigma[i, k] for k, s in enumerate(sources)}
        for i in range(n)
    }
    blue = Blue(data, {"Stat": 0.0} | {s: rho[k] for k, s in enumerate(sources)})
    measurements = [
        Measurement.from_uncertainties(
            {f"o{obs_of[i]}": values[i]},
            {f"o{obs_of[i]}": stat[i]},
            {s: {f"o{obs_of[i]}": sigma[i, k]} for k, s in enumerate(sources)},
            name=names[i],
        )
        for i in range(n)
    ]
    correlations = {
        (f"{names[a]}:{s}", f"{names[b]}:{s}"): rho[k][a, b]
        for k, s in enumerate(sources)
        for a in range(n)
        for b in range(a + 1, n)
    }
    return blue, Combiner(measurements, correlations=correlations), names, obs_of


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_obs=st.integers(1, 3),
    n_extra=st.integers(1, 4),
    n_src=st.integers(1, 3),
    full_rho=st.booleans(),
)
def test_pulls_and_leave_one_out_are_blues(seed, n_obs, n_extra, n_src, full_rho):
    rng = np.random.default_rng(seed)
    blue, comb, names, obs_of = pair(rng, n_obs, n_extra, n_src, full_rho)
    diag = compatibility(comb)
    chi2, ndf = blue.chi2_ndf
    assert diag.chi2 == pytest.approx(chi2, rel=1e-8, abs=1e-10)
    assert diag.ndf == ndf
    observables = list(blue.observables)
    x = blue.combined_result
    x = {observables[0]: x} if len(observables) == 1 else x
    V = np.atleast_2d(blue.combined_covariance)
    for i, m in enumerate(names):
        p = diag.pulls[f"{m}:o{obs_of[i]}"]
        want = blue.pulls[i]
        if math.isnan(want):
            assert math.isnan(p.pull)
        else:
            assert p.pull == pytest.approx(want, rel=1e-6, abs=1e-8)
        # without input i: BLUE's sub-combination
        loo = diag.leave_one_out[m]
        sub = blue[[n for n in names if n != m]]
        sub_x = sub.combined_result
        sub_obs = list(sub.observables)
        sub_x = {sub_obs[0]: sub_x} if len(sub_obs) == 1 else sub_x
        sub_V = np.atleast_2d(sub.combined_covariance)
        assert loo.delta_chi2 == pytest.approx(chi2 - sub.chi2_ndf[0], rel=1e-7, abs=1e-9)
        for j, o in enumerate(observables):
            if o not in sub_obs:
                assert loo.value_status[o] == "not measured without it"
                continue
            k = sub_obs.index(o)
            assert loo.values[o] == pytest.approx(sub_x[o], rel=1e-9)
            assert loo.errors[o] ** 2 == pytest.approx(sub_V[k, k], rel=1e-8)
            var = sub_V[k, k] - V[j, j]  # Gauss–Markov, from BLUE's numbers
            if loo.value_status[o] == "ok":
                assert loo.shift_errors[o] ** 2 == pytest.approx(var, rel=1e-6, abs=1e-9 * V[j, j])
                assert loo.significance[o] == pytest.approx(
                    (sub_x[o] - x[o]) / math.sqrt(var), rel=1e-5, abs=1e-7
                )
            # BLUE's marginal information weight is 1 − σ²/σ²(without i)
            miw = blue.marginal_information_weights
            miw = miw if isinstance(miw, np.ndarray) and miw.ndim == 1 else None
            if miw is not None and obs_of[i] == j:
                assert 1 - V[j, j] / loo.errors[o] ** 2 == pytest.approx(miw[i], abs=1e-8)


def test_two_inputs_leave_one_out_is_pairwise_compatibility():
    """For two inputs of one value: χ² = pairwise χ², |pull| = |significance| = √χ²."""
    rng = np.random.default_rng(3)
    blue, comb, names, _ = pair(rng, 1, 1, 2)
    diag = compatibility(comb)
    (pc,) = blue.pairwise_compatibility().values()
    assert diag.chi2 == pytest.approx(pc.chi2, rel=1e-9)
    for m in names:
        assert abs(diag.leave_one_out[m].significance["o0"]) == pytest.approx(
            math.sqrt(pc.chi2), rel=1e-7
        )
        assert abs(diag.pulls[f"{m}:o0"].pull) == pytest.approx(math.sqrt(pc.chi2), rel=1e-7)
        assert diag.leave_one_out[m].pvalue == pytest.approx(pc.p_value, rel=1e-7)


def test_correlation_within_a_measurement_enters_the_input_variance():
    """A correlation the combination assumes between two sources of one measurement changes the
    input's variance under the combination's model: σ²_in = stat² + (u₁² + u₂² + 2ρu₁u₂), not the
    measurement's own total; the pull uses it (GLS written here)."""
    a = Measurement.from_uncertainties(
        {"x": 10.0}, {"x": 1.0}, {"p": {"x": 1.5}, "q": {"x": 2.0}}, name="A"
    )
    b = Measurement.from_uncertainties({"x": 14.0}, {"x": 1.2}, {"p": {"x": 0.8}}, name="B")
    rho = 0.7
    comb = Combiner([a, b], correlations={("A:p", "A:q"): rho, ("A:p", "B:p"): 0.4})
    diag = compatibility(comb)
    # GLS over the two inputs with the total covariance the assumptions imply
    cov = np.array(
        [
            [1.0 + 1.5**2 + 2.0**2 + 2 * rho * 1.5 * 2.0, 0.4 * 1.5 * 0.8],
            [0.4 * 1.5 * 0.8, 1.2**2 + 0.8**2],
        ]
    )
    ci = np.linalg.inv(cov)
    one = np.ones(2)
    var = 1.0 / (one @ ci @ one)
    w = var * ci @ one
    y = np.array([10.0, 14.0])
    xbar = w @ y
    assert diag.combination.values["x"] == pytest.approx(xbar, rel=1e-10)
    for i, key in enumerate(("A:x", "B:x")):
        e = np.eye(2)[i] - w
        p = diag.pulls[key]
        assert p.input_error**2 == pytest.approx(cov[i, i], rel=1e-10)
        assert p.error**2 == pytest.approx(e @ cov @ e, rel=1e-9)
        assert p.pull == pytest.approx((y[i] - xbar) / math.sqrt(e @ cov @ e), rel=1e-9)
    assert diag.pulls["A:x"].input_error != pytest.approx(a.errors["x"], rel=1e-3)

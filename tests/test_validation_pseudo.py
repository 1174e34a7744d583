"""Validation against direct likelihood combinations (the Convino paper, Sect. 3).

Pseudo-measurements are binned fits built here (``pseudo_measurements.py``), fitted with
iminuit; hepcombine combines their Hessians, the reference minimises the product of their
likelihoods directly. Tolerances are the issue's: 1e-4 σ for Gaussian fixed-variance
likelihoods (where the method is exact), 5 % of σ for the paper's Pearson-variance cases.
"""

import numpy as np
import pytest
from pseudo_measurements import direct_combination, make_pseudo

from hepcombine import Combiner


def combine_pair(pa, pb, c, chi2, with_pulls=True, asymmetry="convino"):
    ma, mb = pa.measurement(with_pulls), pb.measurement(with_pulls)
    observables = {f"x{m}": [f"a:a_x{m}", f"b:b_x{m}"] for m in range(pa.n_est)}
    correlations = (
        {(f"a:{sa}", f"b:{sb}"): c for sa, sb in zip(pa.src_names, pb.src_names, strict=True)}
        if c
        else {}
    )
    return Combiner(
        {"a": ma, "b": mb}, observables, correlations, chi2=chi2, asymmetry=asymmetry
    ).combine()


def reference_pair(pa, pb, c):
    n_a, n_b = pa.n_src, pb.n_src
    C = np.eye(n_a + n_b)
    for j in range(n_a):
        C[j, n_a + j] = C[n_a + j, j] = c
    obs = list(range(pa.n_est))
    return direct_combination([pa, pb], C, [obs, obs])


@pytest.mark.parametrize("t", [0.01, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("c", [0.0, 0.99])
def test_gaussian_fixed_variance_agrees_to_1e4_sigma(t, c):
    rng = np.random.default_rng(int(100 * t) + int(10 * c))
    pa = make_pseudo(rng, "a", 30000.0, t=t)
    pb = make_pseudo(rng, "b", 30600.0, t=t)
    res = combine_pair(pa, pb, c, "neyman")
    ref, err, _ = reference_pair(pa, pb, c)
    assert res.method == "linear solve"
    assert abs(res.values["x0"] - ref[0]) / err[0] < 1e-4
    assert abs(res.errors["x0"] / err[0] - 1) < 1e-4


@pytest.mark.parametrize("seed", range(4))
def test_pulled_nuisances_with_nuisance_values_agree_to_1e4_sigma(seed):
    """Fluctuated data and pulled sources (method.md §1): with λ̂ given the combination is the
    full-likelihood one; ignoring λ̂ moves it visibly."""
    rng = np.random.default_rng(1000 + seed)
    kw = dict(n_bins=4, t=0.3, pulls=0.3, fluctuate=True)
    pa = make_pseudo(rng, "a", 30000.0, **kw)
    pb = make_pseudo(rng, "b", 30600.0, **kw)
    ref, err, _ = reference_pair(pa, pb, 0.99)
    res = combine_pair(pa, pb, 0.99, "neyman")
    assert max(abs(res.pulls[f"a:{s}"]) for s in pa.src_names) > 0.01  # the test has pulls
    assert abs(res.values["x0"] - ref[0]) / err[0] < 1e-4
    assert abs(res.errors["x0"] / err[0] - 1) < 1e-4
    ignored = combine_pair(pa, pb, 0.99, "neyman", with_pulls=False)
    assert (
        abs(ignored.values["x0"] - ref[0]) / err[0] > 10 * abs(res.values["x0"] - ref[0]) / err[0]
    )


@pytest.mark.parametrize("t", [0.01, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("c", [0.0, 0.99])
def test_pearson_variance_sect_3_2_within_5_percent(t, c):
    rng = np.random.default_rng(7 + int(100 * t) + int(10 * c))
    pa = make_pseudo(rng, "a", 30000.0, t=t, pearson=True)
    pb = make_pseudo(rng, "b", 30600.0, t=t, pearson=True)
    res = combine_pair(pa, pb, c, "pearson")
    ref, err, m = reference_pair(pa, pb, c)
    assert res.method == "newton"
    assert abs(res.values["x0"] - ref[0]) / err[0] < 0.05
    assert abs(res.errors["x0"] / err[0] - 1) < 0.05
    # asymmetric profile intervals too (the paper: "equally well described")
    m.minos("xbar0")
    lo, hi = res.interval("x0")
    assert abs((ref[0] + m.merrors["xbar0"].lower) - lo) / err[0] < 0.05
    assert abs((ref[0] + m.merrors["xbar0"].upper) - hi) / err[0] < 0.05


@pytest.mark.parametrize("d", [0.0, 0.3, 0.9])
@pytest.mark.parametrize("t", [0.01, 0.5])
@pytest.mark.parametrize("c", [0.0, 0.99])
def test_statistical_correlation_sect_3_3_within_5_percent(d, t, c):
    rng = np.random.default_rng(int(10 * d) + int(100 * t) + int(1000 * c))
    pa = make_pseudo(rng, "a", [30000.0, 20000.0], t=t, d=d, pearson=True)
    pb = make_pseudo(rng, "b", [30600.0, 20500.0], t=t, d=d, pearson=True)
    res = combine_pair(pa, pb, c, "pearson")
    ref, err, _ = reference_pair(pa, pb, c)
    for i in range(2):
        assert abs(res.values[f"x{i}"] - ref[i]) / err[i] < 0.05
        assert abs(res.errors[f"x{i}"] / err[i] - 1) < 0.05


@pytest.mark.parametrize(
    ("t", "c"),
    # the default run: the smallest and the largest stat. uncertainty, one each uncorrelated
    # and nearly fully correlated; the slow run the paper's whole grid
    [(0.01, 0.99), (0.15, 0.0)]
    + [
        pytest.param(t, c, marks=pytest.mark.slow)
        for t, c in [(0.01, 0.0), (0.1, 0.0), (0.1, 0.99), (0.15, 0.99)]
    ],
)
def test_relative_source_sect_3_4_within_5_percent(t, c):
    """Paper Sect. 3.4 (one relative source per measurement), for every one of 25 random
    pseudo-measurement pairs per setting: no exception, a verified profile interval, and value
    and error within 5 % of σ of the direct likelihood combination."""
    for toy in range(25):
        rng = np.random.default_rng([3 + int(100 * t) + int(10 * c), toy])
        kw = dict(n_bins=2, n_abs=2, n_rel=1, t=t, rel_size=0.05, pearson=True)
        pa = make_pseudo(rng, "a", 30000.0, **kw)
        pb = make_pseudo(rng, "b", 30600.0, **kw)
        res = combine_pair(pa, pb, c, "pearson")
        ref, err, _ = reference_pair(pa, pb, c)
        assert res.has_interval("x0"), (toy, res.interval_status)
        assert abs(res.values["x0"] - ref[0]) / err[0] < 0.05, toy
        assert abs(res.errors["x0"] / err[0] - 1) < 0.05, toy


def test_large_fully_correlated_relative_source():
    """Paper Sect. 3.4, last study: one estimate per measurement, one +15 % relative source
    fully correlated (ρ = 1 exactly) between them; asymmetric combined interval. The reference
    likelihood shares one λ between the two pseudo-measurements."""
    from iminuit import Minuit

    rng = np.random.default_rng(42)
    kw = dict(n_bins=2, n_abs=0, n_rel=1, rel_size=0.15, pearson=True)
    pa = make_pseudo(rng, "a", 30000.0 + rng.uniform(0, 750), **kw)
    pb = make_pseudo(rng, "b", 30000.0 + rng.uniform(0, 750), **kw)
    pa.kappa[:] = 0.15
    pb.kappa[:] = 0.15
    res = combine_pair(pa, pb, 1.0, "pearson")

    def fcn(p):
        x, lam = p[:1], p[1:]
        return pa.chi2_data(x, lam) + pb.chi2_data(x, lam) + float(lam @ lam)

    m = Minuit(fcn, [30000.0, 0.0], name=["x", "lam"])
    m.errordef = 1
    m.strategy = 2
    m.migrad()
    m.minos("x")
    assert m.merrors["x"].is_valid
    sigma = 0.5 * (m.merrors["x"].upper - m.merrors["x"].lower)
    assert abs(res.values["x0"] - m.values["x"]) / sigma < 0.05
    lo, hi = res.interval("x0")
    assert abs((m.values["x"] + m.merrors["x"].lower) - lo) / sigma < 0.05
    assert abs((m.values["x"] + m.merrors["x"].upper) - hi) / sigma < 0.05
    # the interval is really asymmetric (by more than the tolerance above)
    assert (hi - res.values["x0"]) - (res.values["x0"] - lo) > 0.1 * sigma

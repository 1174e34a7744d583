"""BLUE and the χ² engine are the same method for orthogonal absolute inputs with the Neyman χ²
(method.md §4): property test on random combinations with several observables. The two code
paths share nothing: BLUE inverts the total covariance of the inputs, the engine solves the
normal equations of a χ² in (combined values, decorrelated sources)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepcombine import Blue, Combiner, Measurement


def random_correlation(rng, n):
    """A random valid correlation matrix (normalised Gram matrix with some loading)."""
    a = rng.normal(size=(n, n + 1))
    g = a @ a.T + 0.3 * np.eye(n)
    d = np.sqrt(np.diag(g))
    return g / np.outer(d, d)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_obs=st.integers(1, 3),
    n_extra=st.integers(0, 4),
    n_src=st.integers(1, 4),
)
def test_blue_equals_neyman_chi2_with_orthogonal_sources(seed, n_obs, n_extra, n_src):
    rng = np.random.default_rng(seed)
    # every observable measured at least once, then n_extra more measurements
    obs_of = list(range(n_obs)) + list(rng.integers(0, n_obs, size=n_extra))
    n = len(obs_of)
    names = [f"m{i}" for i in range(n)]
    truth = rng.uniform(50, 150, size=n_obs)
    stat = rng.uniform(1.0, 5.0, size=n)
    sigma = rng.uniform(-3.0, 3.0, size=(n, n_src))  # signed shifts
    values = truth[obs_of] + rng.normal(0, 3, size=n)
    rho = [random_correlation(rng, n) for _ in range(n_src)]
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
    res = Combiner(measurements, correlations=correlations).combine()

    observables = [f"o{j}" for j in range(n_obs)]
    got = blue.combined_result
    got = {observables[0]: got} if n_obs == 1 else got
    for o in observables:
        assert res.values[o] == pytest.approx(got[o], rel=1e-9, abs=1e-9)
    cov = np.atleast_2d(blue.combined_covariance)
    assert res.covariance.sub(observables).matrix == pytest.approx(
        cov, rel=1e-9, abs=1e-9 * cov.max()
    )
    chi2, ndf = blue.chi2_ndf
    assert res.chi2 == pytest.approx(chi2, rel=1e-9, abs=1e-11)
    assert res.ndf == ndf
    # the per-source breakdown: signed √(Λᵀ C_k Λ) in both
    unc = blue.combined_uncertainties
    unc = {observables[0]: unc} if n_obs == 1 else unc
    for o in observables:
        for s in sources:
            assert res.breakdown[s][o] == pytest.approx(unc[o][s], rel=1e-7, abs=1e-9)
        assert res.breakdown["stat"][o] == pytest.approx(unc[o]["Stat"], rel=1e-7, abs=1e-9)
        tot = sum(math.copysign(v**2, v) for v in unc[o].values())
        assert tot == pytest.approx(res.errors[o] ** 2, rel=1e-9)

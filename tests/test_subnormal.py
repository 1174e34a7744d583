"""Statistical information matrices with subnormal entries (the inverse of a banded covariance
decays to below 2.2e-308 away from the diagonal) are flushed to zero in the χ²'s blocks: far
below rounding, checked here against the χ² written out with the original matrix."""

from __future__ import annotations

import numpy as np

from hepcombine import Combiner, Measurement


def _banded(n_bins: int, pearson: bool):
    rng = np.random.default_rng(11)
    values = np.linspace(100.0, 50.0, n_bins)
    est = [f"b{i}" for i in range(n_bins)]
    stat = 0.03 * values
    rho = np.eye(n_bins) + 0.2 * (np.eye(n_bins, k=1) + np.eye(n_bins, k=-1))
    shifts = 0.01 * values * rng.normal(size=n_bins)
    x_hat = values * (1 + 0.02 * rng.normal(size=n_bins))
    m = Measurement.from_uncertainties(
        dict(zip(est, x_hat, strict=True)),
        dict(zip(est, stat, strict=True)),
        {"s": dict(zip(est, shifts, strict=True))},
        stat_correlation=rho,
        name="A",
    )
    comb = Combiner([m], chi2="pearson" if pearson else "neyman")
    M_exact = np.linalg.inv(rho * np.outer(stat, stat))
    return comb, x_hat, shifts, M_exact


def test_the_inverse_of_a_banded_covariance_has_subnormal_entries_that_are_flushed():
    comb, _, _, M_exact = _banded(600, False)
    tiny = np.finfo(float).tiny
    assert np.any((M_exact != 0) & (np.abs(M_exact) < tiny))  # the case this is about
    block = comb._model(comb._factor()).blocks[0]
    assert not np.any((block.M != 0) & (np.abs(block.M) < tiny))
    big = np.abs(M_exact) > 1e-99 * np.abs(M_exact).max()
    assert np.allclose(block.M[big], M_exact[big], rtol=1e-9, atol=0.0)
    assert np.all(block.M[np.abs(M_exact) < 1e-101 * np.abs(M_exact).max()] == 0.0)


def test_chi2_with_flushed_information_equals_the_written_out_chi2():
    for pearson in (False, True):
        comb, x_hat, u, M_exact = _banded(600, pearson)
        model = comb._model(comb._factor())
        rng = np.random.default_rng(2)
        for _ in range(3):
            x = x_hat * (1 + 0.03 * rng.normal(size=len(x_hat)))
            lam = rng.normal()
            theta = np.concatenate([x, [lam]])
            X = x - u * lam  # u: the shift of the +1σ result, so the prediction moves by −u
            r = np.sqrt(x_hat / X) * (X - x_hat) if pearson else X - x_hat
            expected = float(r @ M_exact @ r) + lam * lam
            assert abs(model(theta) - expected) <= 1e-12 * expected
        res = comb.combine()
        assert np.isfinite(res.chi2)

"""p-values calibrated with pseudo-experiments. For a quadratic combination every statistic has
a known distribution (χ²_min ~ χ²(ndf), pulls and shift significances ~ N(0, 1), the
leave-one-out Δχ² ~ χ²(Δndf)), so the toys must reproduce the asymptotic p-values; and the
p-value of χ²_min must be that of pseudo-experiments drawn and combined here at the level of the
raw data (tests/compat/raw.py), with no hepcombine code."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import chdtrc

from hepcombine.compat import compatibility
from hepcombine.compat.diagnostics import Setup, diagnose
from hepcombine.compat.toys import CompatibilityTask, LinearToys, statistics
from hepcombine.toys import ToyModel, item_rng, run_chunks

from .raw import random_combination


@pytest.fixture(scope="module")
def raw():
    return random_combination(np.random.default_rng(21), n_meas=3, n_obs=2)


def test_toy_statistics_have_their_distributions(raw):
    comb = raw.combiner()
    nominal = comb.combine()
    setup = Setup.of(comb, None)
    diag = diagnose(setup, nominal)
    task = CompatibilityTask(ToyModel(comb, nominal), setup, LinearToys(setup, diag))
    n = 1500
    arrays, _ = run_chunks(task, n, seed=5)
    assert not arrays["failed"].any()
    se = math.sqrt(2.0 / n)  # standard error of a mean of squares of N(0, 1)
    for k in range(arrays["pulls"].shape[1]):
        p = arrays["pulls"][:, k]
        if np.isfinite(p).all():
            assert np.mean(p**2) == pytest.approx(1.0, abs=4 * se)
    chi2 = arrays["chi2"]
    ndf = nominal.ndf
    assert np.mean(chi2) == pytest.approx(ndf, abs=4 * math.sqrt(2 * ndf / n))
    for k, m in enumerate(setup.leave_out):
        d_ndf = nominal.ndf - diag.subs[m].ndf
        dchi2 = arrays["loo"][:, k]
        assert np.mean(dchi2) == pytest.approx(d_ndf, abs=4 * math.sqrt(2 * d_ndf / n))
        sig = arrays["shifts"][:, k, :]
        for c in range(sig.shape[1]):
            if np.isfinite(sig[:, c]).all():
                assert np.mean(sig[:, c] ** 2) == pytest.approx(1.0, abs=4 * se)


@pytest.mark.parametrize("seed", range(6))
def test_linear_toys_are_the_full_diagnosis_of_the_toy(seed):
    """The shortcut for quadratic combinations gives what combining the pseudo-experiment (and
    every combination without one measurement) gives, on random raw combinations."""
    raw = random_combination(np.random.default_rng(50 + seed), n_meas=3, n_obs=3)
    comb = raw.combiner()
    nominal = comb.combine()
    setup = Setup.of(comb, None)
    linear = LinearToys(setup, diagnose(setup, nominal))
    model = ToyModel(comb, nominal)
    for i in range(3):
        pseudo = model.generate(item_rng(seed, i))
        want = statistics(
            diagnose(setup.with_data(pseudo, False)), setup.leave_out, len(comb.observables)
        )
        got = linear.statistics(pseudo)
        for key, value in want.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-8, atol=1e-9, err_msg=key)


def test_toy_pvalues_against_asymptotic_and_raw_pseudo_experiments(raw):
    comb = raw.combiner()
    n = 1000
    diag = compatibility(comb, toys=n, seed=2)
    t = diag.toys
    assert t.n == n and t.n_failed == 0
    assert t.chi2.pvalue == pytest.approx(
        diag.pvalue, abs=4 * math.sqrt(diag.pvalue * (1 - diag.pvalue) / n) + 1e-3
    )
    for key, p in diag.pulls.items():
        if math.isfinite(p.pull):
            tp = t.pulls[key]
            assert tp.pvalue == pytest.approx(
                p.pvalue, abs=4 * math.sqrt(p.pvalue * (1 - p.pvalue) / n) + 2e-3
            )
    for m, loo in diag.leave_one_out.items():
        tp = t.leave_one_out[m]
        assert tp.pvalue == pytest.approx(
            loo.pvalue, abs=4 * math.sqrt(loo.pvalue * (1 - loo.pvalue) / n) + 2e-3
        )
    # pseudo-experiments of the raw bins, combined by GLS here: the fraction with χ²_min above
    # the observed one (the combination's χ²_min is that of the raw bins minus each
    # measurement's own fit's minimum)
    rng = np.random.default_rng(99)
    keep = list(range(len(raw.raws)))
    lam, _, _ = raw.weights(keep)
    A, cov, _ = raw.layout(keep)
    ci = np.linalg.inv(cov)
    chol = np.linalg.cholesky(cov)
    d = raw.d()
    x_true = lam @ d
    off = raw.offsets()
    m_raw = 3000
    above = 0
    for _ in range(m_raw):
        dd = A @ x_true + chol @ rng.standard_normal(len(d))
        r = dd - A @ (lam @ dd)
        own = sum(ra.own_min(dd[o : o + len(ra.w)]) for ra, o in zip(raw.raws, off, strict=True))
        above += (r @ ci @ r - own) >= diag.chi2
    p_raw = above / m_raw
    err = math.sqrt(p_raw * (1 - p_raw) / m_raw + t.chi2.error**2)
    assert t.chi2.pvalue == pytest.approx(p_raw, abs=4 * err + 1e-3)
    assert diag.pvalue == pytest.approx(chdtrc(diag.ndf, diag.chi2))


def test_results_do_not_depend_on_chunks_and_resume(raw, tmp_path):
    comb = raw.combiner()
    a = compatibility(comb, toys=40, seed=8)
    b = compatibility(comb, toys=40, seed=8, chunk_size=7, output=tmp_path / "run")
    c = compatibility(comb, toys=40, seed=8, output=tmp_path / "run")  # read back from disk
    for other in (b, c):
        assert other.toys.chi2 == a.toys.chi2
        assert other.toys.pulls == a.toys.pulls
        np.testing.assert_array_equal(other.toys.samples["chi2"], a.toys.samples["chi2"])
    assert (tmp_path / "run" / "compatibility.npz").exists()


@pytest.mark.slow
def test_two_dask_workers_give_the_same_pvalues(raw):
    pytest.importorskip("distributed")
    comb = raw.combiner()
    a = compatibility(comb, toys=60, seed=4)
    b = compatibility(comb, toys=60, seed=4, workers=2)
    assert b.toys.pulls == a.toys.pulls
    assert b.toys.leave_one_out == a.toys.leave_one_out
    np.testing.assert_array_equal(b.toys.samples["max_pull"], a.toys.samples["max_pull"])

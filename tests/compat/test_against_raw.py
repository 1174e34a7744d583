"""The diagnostics of a quadratic combination against the full likelihood of the raw data
(tests/compat/raw.py): the measurements are fits of raw bins, reported as Hessians with pulled
sources and data constraints; the reference combines the raw bins directly (GLS with the
sources' prior) and writes every estimate and combined value as a linear map of the bins, so
that Var(x̂ − x̄), Var(shift) and the χ² split are explicit quadratic forms. No hepcombine code is
involved in the reference."""

from __future__ import annotations

import numpy as np
import pytest

from hepcombine.compat import compatibility

from .raw import random_combination


def reference(rc):
    """Pull errors and correlation, leave-one-out values/errors/shift errors, χ² and its split,
    all from the raw bins."""
    all_m = list(range(len(rc.raws)))
    lam, V, measured = rc.weights(all_m)
    assert measured == list(range(rc.n_obs))
    sigma = rc.bins_cov()
    d = rc.d()
    xbar = lam @ d
    off = rc.offsets()
    n_bins = len(d)
    rows, names, diffs = [], [], []
    for i, r in enumerate(rc.raws):
        fm = r.fit_map
        for c, k in enumerate(r.obs):
            g = np.zeros(n_bins)
            g[off[i] : off[i] + len(r.w)] = fm[c]
            rows.append(g - lam[k])
            names.append(f"{r.name}:x{k}")
            diffs.append(float(g @ d - xbar[k]))
    rows = np.array(rows)
    pull_cov = rows @ sigma @ rows.T
    loo = {}
    for i, r in enumerate(rc.raws):
        keep = [j for j in all_m if j != i]
        lam_s, V_s, meas_s = rc.weights(keep)
        full = rc.embed(lam_s, keep)
        delta = full - lam[meas_s]
        cov = delta @ sigma @ delta.T
        loo[r.name] = {
            "values": dict(zip([f"x{k}" for k in meas_s], full @ d, strict=True)),
            "errors": dict(zip([f"x{k}" for k in meas_s], np.sqrt(np.diag(V_s)), strict=True)),
            "shift_errors": dict(
                zip([f"x{k}" for k in meas_s], np.sqrt(np.diag(cov)), strict=True)
            ),
            "gauss_markov": dict(
                zip([f"x{k}" for k in meas_s], np.diag(V_s) - np.diag(V)[meas_s], strict=True)
            ),
            "unmeasured": sorted({f"x{k}" for k in range(rc.n_obs)} - {f"x{k}" for k in meas_s}),
        }
    # the full fit in (x, λ): its χ² minus each measurement's own minimum is hepcombine's χ²
    A, _, _ = rc.layout(all_m)
    n_src = rc.C.shape[0]
    K = np.zeros((n_bins, n_src))
    for i, r in enumerate(rc.raws):
        K[off[i] : off[i] + len(r.w), r.src] = r.K
    # λ̂ given x̄: the conditional mean of the sources (the full fit's λ at its minimum)
    c_lam = rc.C @ K.T @ np.linalg.inv(sigma)
    lam_hat = c_lam @ (d - A @ xbar)
    own = sum(r.own_min(dd) for r, dd in zip(rc.raws, rc.data, strict=True))
    prior = float(lam_hat @ np.linalg.pinv(rc.C) @ lam_hat)
    data_terms = {}
    shares = lam_hat * (np.linalg.pinv(rc.C) @ lam_hat)
    for i, r in enumerate(rc.raws):
        x_r = xbar[r.obs]
        data_terms[r.name] = (
            r.bins_chi2(rc.data[i], x_r, lam_hat[r.src]) - r.own_min(rc.data[i]),
            float(shares[r.src].sum()),
        )
    bins = sum(
        r.bins_chi2(dd, xbar[r.obs], lam_hat[r.src]) for r, dd in zip(rc.raws, rc.data, strict=True)
    )
    return {
        "xbar": xbar,
        "V": V,
        "names": names,
        "diffs": np.array(diffs),
        "pull_cov": pull_cov,
        "loo": loo,
        "chi2": bins + prior - own,
        "data_terms": data_terms,
        "inputs_var": np.array(
            [
                (rows[j] + lam[int(names[j].split(":x")[1])])
                @ sigma
                @ (rows[j] + lam[int(names[j].split(":x")[1])])
                for j in range(len(names))
            ]
        ),
    }


def check(rc, rtol=1e-7):
    comb = rc.combiner()
    diag = compatibility(comb)
    ref = reference(rc)
    res = diag.combination
    np.testing.assert_allclose(
        [res.values[f"x{k}"] for k in range(rc.n_obs)], ref["xbar"], rtol=1e-9
    )
    assert diag.chi2 == pytest.approx(ref["chi2"], rel=1e-7, abs=1e-8)
    # pulls: the difference, its variance, the correlation between pulls
    assert list(diag.pulls) == ref["names"]
    err = np.array([p.error for p in diag.pulls.values()])
    np.testing.assert_allclose(
        err**2, np.diag(ref["pull_cov"]), rtol=rtol, atol=1e-12 * err.max() ** 2
    )
    np.testing.assert_allclose(
        [p.difference for p in diag.pulls.values()], ref["diffs"], rtol=1e-7, atol=1e-9
    )
    d = np.sqrt(np.diag(ref["pull_cov"]))
    np.testing.assert_allclose(
        diag.pull_correlation.matrix, ref["pull_cov"] / np.outer(d, d), atol=1e-6
    )
    # Gauss–Markov: Var(x̂ − x̄) = Var(x̂) − σ²(x̄) with Var(x̂) under the model
    var_in = np.array([p.input_error**2 for p in diag.pulls.values()])
    np.testing.assert_allclose(var_in, ref["inputs_var"], rtol=rtol)
    sig2 = np.array([res.errors[p.observable] ** 2 for p in diag.pulls.values()])
    np.testing.assert_allclose(err**2, var_in - sig2, rtol=1e-6, atol=1e-9 * var_in.max())
    # χ² split: each measurement's data term and its sources' share of the prior
    for m, (data, share) in ref["data_terms"].items():
        c = diag.contributions[m]
        assert c.data == pytest.approx(data, rel=1e-6, abs=1e-8)
        assert c.constraints == pytest.approx(share, rel=1e-6, abs=1e-8)
    assert abs(diag.unattributed) < 1e-8 * max(1.0, diag.chi2)
    # leave-one-out
    for m, want in ref["loo"].items():
        got = diag.leave_one_out[m]
        assert got.status == "ok"
        assert sorted(got.unmeasured) == want["unmeasured"]
        for o, v in want["values"].items():
            assert got.values[o] == pytest.approx(v, rel=1e-9)
            assert got.errors[o] == pytest.approx(want["errors"][o], rel=1e-7)
            if got.value_status[o] == "ok":
                assert got.shift_errors[o] == pytest.approx(want["shift_errors"][o], rel=1e-6)
                # Gauss–Markov: Var(shift) = σ²(without) − σ²
                assert got.shift_errors[o] ** 2 == pytest.approx(
                    want["gauss_markov"][o], rel=1e-6, abs=1e-10 * want["errors"][o] ** 2
                )
                assert got.significance[o] == pytest.approx(
                    (v - ref["xbar"][int(o[1:])]) / want["shift_errors"][o], rel=1e-5, abs=1e-7
                )
        for o in want["unmeasured"]:
            assert np.isnan(got.values[o]) and got.value_status[o] == "not measured without it"
    return diag


def test_three_hessian_measurements_with_shared_sources():
    diag = check(random_combination(np.random.default_rng(4), n_meas=3, n_obs=3))
    assert not diag.linearised


@pytest.mark.parametrize("seed", range(24))
def test_campaign_random_quadratic_combinations(seed):
    """Random numbers of measurements and values, values measured by one measurement only,
    ρ = ±1 between sources, statistical variances from 1e-3 to 1e2 (every third case)."""
    rng = np.random.default_rng(1000 + seed)
    rc = random_combination(
        rng, n_meas=int(rng.integers(2, 5)), n_obs=int(rng.integers(1, 5)), extreme=seed % 3 == 0
    )
    check(rc, rtol=1e-6)


def test_two_hundred_bins():
    rc = random_combination(np.random.default_rng(7), n_meas=2, n_obs=200, full=True)
    check(rc, rtol=1e-6)

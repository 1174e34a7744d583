"""The diagnostics of a χ² that is not quadratic — data/convino_example: Pearson, a relative
luminosity shared by the three measurements (ρ = 1), Convino's kinked asymmetric source, a
pulled source, ρ = 0.5 between two sources — against that χ² written out here measurement by
measurement and minimised with scipy: the leave-one-out values, errors and χ², and the χ²
split. The linearised variances of the pulls are checked against the scatter of
pseudo-experiments of the model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import DATA, minimise_chi2

from hepcombine import load_config
from hepcombine.compat import compatibility
from hepcombine.compat.diagnostics import Setup, diagnose
from hepcombine.toys import ToyModel, item_rng

H_A = np.array([[0.0625, 0.15, 0.30], [0.15, 1.60, 0.74], [0.30, 0.74, 2.50]])  # (x, jes, lumi)
SIG_B = np.array([5.2, 0.85, 0.97])
RHO_B = np.array([[1, -0.35, -0.55], [-0.35, 1, 0.05], [-0.55, 0.05, 1]])


def canonical(h):
    m = h[0, 0]
    u = -h[0, 1:] / m
    d = h[1:, 1:] - np.outer(h[0, 1:], h[0, 1:]) / m - np.eye(2)
    return m, u, d


FITS = {
    "fit_a": (242.0, *canonical(H_A), np.array([0.15, 0.0])),
    "fit_b": (236.5, *canonical(np.linalg.inv(RHO_B * np.outer(SIG_B, SIG_B))), np.zeros(2)),
}


def pearson(x_hat, m, pred):
    return m * (pred - x_hat) ** 2 * x_hat / pred


def data_term(name, p):
    """χ²_α of one measurement at p = (x, λ_lumi, λ_jes_a, λ_jes_b, λ_jes_c) (method.md §1)."""
    x, l_lumi, l_ja, l_jb, l_jc = p
    if name == "table_c":
        shift = 3.2 * l_jc if l_jc >= 0 else 2.6 * l_jc  # (+3.2-2.6): s(−1) = −2.6
        return pearson(239.8, 1 / 4.1**2, x * (1 - (-5.8) * l_lumi / 239.8) - shift)
    x_hat, m, u, d, lam_hat = FITS[name]
    delta = np.array([l_ja if name == "fit_a" else l_jb, l_lumi]) - lam_hat
    pred = x * (1 - u[1] * delta[1] / x_hat) - u[0] * delta[0]
    return pearson(x_hat, m, pred) + delta @ d @ delta - 2 * lam_hat @ delta - lam_hat @ lam_hat


def prior(p, names):
    """λᵀC⁻¹λ of the sources of ``names`` (jes_a, jes_b: ρ = 0.5; without one of them the
    other keeps its unit prior)."""
    _, l_lumi, l_ja, l_jb, l_jc = p
    total = l_lumi**2
    if "fit_a" in names and "fit_b" in names:
        lj = np.array([l_ja, l_jb])
        total += lj @ np.linalg.inv([[1.0, 0.5], [0.5, 1.0]]) @ lj
    else:
        total += (l_ja**2 if "fit_a" in names else 0.0) + (l_jb**2 if "fit_b" in names else 0.0)
    return total + (l_jc**2 if "table_c" in names else 0.0)


def chi2_of(names):
    def chi2(p):
        return sum(data_term(n, p) for n in names) + prior(p, names)

    return chi2


ALL = ("fit_a", "fit_b", "table_c")


def hesse_error(chi2, p, active, h=1e-3):
    """√(2 (H⁻¹)₀₀) from a central-difference Hessian of the written χ² (smooth at p) in the
    parameters ``active``."""
    n = len(active)
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            e_i, e_j = np.eye(len(p))[active[i]] * h, np.eye(len(p))[active[j]] * h
            H[i, j] = (
                chi2(p + e_i + e_j)
                - chi2(p + e_i - e_j)
                - chi2(p - e_i + e_j)
                + chi2(p - e_i - e_j)
            ) / (4 * h * h)
    return math.sqrt(2 * np.linalg.inv(H)[0, 0])


@pytest.fixture(scope="module")
def diag():
    return compatibility(load_config(DATA / "convino_example" / "combination.txt"))


def test_chi2_split_and_leave_one_out_against_the_written_chi2(diag):
    assert diag.linearised
    best = minimise_chi2(chi2_of(ALL), [239.0, 0, 0, 0, 0])
    assert diag.chi2 == pytest.approx(best.fun, abs=1e-6)
    # the split at the minimum: data terms, and the sources' shares of the prior
    p = best.x
    _, l_lumi, l_ja, l_jb, l_jc = p
    c_inv = np.linalg.inv([[1.0, 0.5], [0.5, 1.0]])
    jes = np.array([l_ja, l_jb]) * (c_inv @ np.array([l_ja, l_jb]))
    shares = {
        "fit_a": l_lumi**2 / 3 + jes[0],  # λ_lumi is one parameter for the three (ρ = 1)
        "fit_b": l_lumi**2 / 3 + jes[1],
        "table_c": l_lumi**2 / 3 + l_jc**2,
    }
    for m in ALL:
        c = diag.contributions[m]
        assert c.data == pytest.approx(data_term(m, p), abs=2e-5)
        assert c.constraints == pytest.approx(shares[m], abs=2e-5)
    assert abs(diag.unattributed) < 1e-9
    for m in ALL:
        rest = tuple(n for n in ALL if n != m)
        sub = minimise_chi2(chi2_of(rest), best.x)
        loo = diag.leave_one_out[m]
        assert loo.status == "ok"
        assert loo.values["xsec"] == pytest.approx(sub.x[0], abs=2e-4)
        assert loo.chi2 == pytest.approx(sub.fun, abs=1e-6)
        assert loo.delta_chi2 == pytest.approx(best.fun - sub.fun, abs=2e-6)
        assert loo.delta_ndf == 1
        if m != "fit_a":  # without fit_a, jes_c's kink sits at the minimum: no Hessian there
            active = [0, 1] + [k + 2 for k, n in enumerate(ALL) if n in rest]
            want = hesse_error(chi2_of(rest), sub.x, active)
            assert loo.errors["xsec"] == pytest.approx(want, rel=1e-3)


@pytest.mark.slow
def test_linearised_errors_against_pseudo_experiments(diag):
    """The errors of x̂ − x̄ and of the shifts, linearised at the minimum, against their standard
    deviations over pseudo-experiments of the model (analysed exactly as the data), to the
    toys' precision plus 5 % (the linearisation at jes_c's kink; 3000 toys measured 1–5 %)."""
    comb = load_config(DATA / "convino_example" / "combination.txt").combiner()
    setup = Setup.of(comb, None)
    model = ToyModel(comb, diag.combination)
    n = 400
    diffs, shifts = [], []
    for i in range(n):
        toy = diagnose(setup.with_data(model.generate(item_rng(11, i)), True), correlation=False)
        diffs.append(toy.difference)
        shifts.append([toy.subs[m].shifts[0] for m in ALL])
    sd = np.std(diffs, axis=0, ddof=1)
    ss = np.std(shifts, axis=0, ddof=1)
    tol = 4.0 / math.sqrt(2 * (n - 1)) + 0.05
    for k, m in enumerate(ALL):
        assert diag.pulls[f"{m}:xs_{m[-1]}"].error == pytest.approx(sd[k], rel=tol)
        assert diag.leave_one_out[m].shift_errors["xsec"] == pytest.approx(ss[k], rel=tol)

"""Inputs shared by the pseudo-experiment tests (tests/test_toys_*.py)."""

from __future__ import annotations

import numpy as np

from hepcombine import Combiner, Measurement


def hessian_measurement(rng, name, n_e=3, n_s=3, pulls=True):
    """A Hessian of a nuisance-parameter fit built from its parts: statistical information M,
    shifts U, data information D ≥ 0 on the sources (plus the unit prior)."""
    a = rng.normal(size=(n_e, n_e))
    M = np.linalg.inv(a @ a.T + n_e * np.eye(n_e))
    U = rng.normal(0, 0.8, size=(n_e, n_s))
    b = rng.normal(0, 0.7, size=(n_s, n_s))
    D = b @ b.T
    H = np.block([[M, -M @ U], [-(M @ U).T, np.eye(n_s) + D + U.T @ M @ U]])
    est = [f"{name}_x{i}" for i in range(n_e)]
    src = [f"{name}_s{j}" for j in range(n_s)]
    lam_hat = dict(zip(src, rng.normal(0, 0.4, n_s), strict=True)) if pulls else None
    values = dict(zip(est, 10.0 + 3.0 * np.arange(n_e), strict=True))
    return (
        Measurement.from_hessian(H, est + src, values, nuisance_values=lam_hat, name=name),
        H,
    )


def quadratic_combiner(seed: int = 11, shape: bool = True) -> Combiner:
    """A quadratic combination of 3 bins: an orthogonal table A (lumi, optionally a shape
    source) and a Hessian measurement B with data constraints and pulled sources; A:lumi and
    B's first source are the same variation (ρ = 1), A:shape and B's second ρ = 0.5."""
    h, _ = hessian_measurement(np.random.default_rng(seed), "B")
    syst = {"lumi": {"b0": 0.6, "b1": 0.7, "b2": 1.0}}
    corr = {("A:lumi", "B:B_s0"): 1.0}
    if shape:
        syst["shape"] = {"b0": -0.5, "b1": 0.1, "b2": 0.6}
        corr[("A:shape", "B:B_s1")] = 0.5
    a = Measurement.from_uncertainties(
        {"b0": 10.5, "b1": 12.0, "b2": 17.0}, {"b0": 1.0, "b1": 1.1, "b2": 1.5}, syst, name="A"
    )
    obs = {f"b{k}": [f"A:b{k}", f"B:B_x{k}"] for k in range(3)}
    return Combiner([a, h], obs, corr)


PER_TOY = ("values", "errors", "interval_low", "interval_high", "interval_valid")


def assert_identical(a, b):
    """Two ToyResults hold bit-identical pseudo-experiments and statistics (also those of the
    other χ² definition); only the run directory they were written to may differ."""
    assert a.n == b.n and a.seed == b.seed and a.observables == b.observables
    for f in PER_TOY:
        for o in a.observables:
            np.testing.assert_array_equal(getattr(a, f)[o], getattr(b, f)[o])
    np.testing.assert_array_equal(a.chi2, b.chi2)
    np.testing.assert_array_equal(a.failed, b.failed)
    assert a.reasons == b.reasons
    assert (a.other is None) == (b.other is None)
    if a.other is not None:
        assert_identical(a.other, b.other)
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        d["output"] = None
        if d["other"] is not None:
            d["other"]["output"] = None
    assert da == db

"""Pseudo-experiments of a quadratic combination by linear algebra (hepcombine.toys.linear)
against the generic per-toy combination on the same seeds, and against a GLS written here.

The fast path draws the same pseudo-data (the generic ``ToyModel.generate``'s normal variates,
one call per pseudo-experiment) and recombines all of a chunk with the gain matrix and the
χ²_min quadratic form; every per-toy field must equal the generic ``Combiner.combine`` of the
same pseudo-experiment to rounding, for every nuisance mode, truths, spectators, several
estimates of one measurement mapped to one value, and with ``compare=True``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from toy_inputs import hessian_measurement, quadratic_combiner

from hepcombine import Combiner, Measurement
from hepcombine.toys import ToyModel, ToyTask, item_rng, run_toys
from hepcombine.toys.linear import BLOCK, linear_recombination


def assert_same_toys(fast, generic, rtol=1e-10):
    assert fast.keys() == generic.keys()
    for k, v in generic.items():
        if v.dtype.kind == "f":
            np.testing.assert_allclose(fast[k], v, rtol=rtol, atol=rtol * np.abs(v).max())
        else:
            np.testing.assert_array_equal(fast[k], v)


def spectator_combiner() -> Combiner:
    """A Hessian measurement with two estimates of the same value and a spectator, plus a
    table with a source fully correlated with one of the Hessian's."""
    h, _ = hessian_measurement(np.random.default_rng(5), "H", n_e=4, n_s=3)
    t = Measurement.from_uncertainties(
        {"t0": 11.0, "t1": 15.5},
        {"t0": 0.9, "t1": 1.3},
        {"lumi": {"t0": 0.4, "t1": 0.6}, "shape": {"t0": -0.3, "t1": 0.5}},
        name="T",
    )
    obs = {"x": ["H:H_x0", "H:H_x1", "T:t0"], "y": ["H:H_x2", "T:t1"]}  # H:H_x3 is a spectator
    corr = {("T:lumi", "H:H_s0"): 1.0, ("T:shape", "H:H_s2"): -0.4}
    return Combiner([h, t], obs, corr)


@pytest.mark.parametrize(
    ("which", "options"),
    [
        ("quadratic", {}),
        ("quadratic", {"nuisance": "zero", "truth": {"b1": 13.0}}),
        ("quadratic", {"nuisance": "pulls"}),
        ("quadratic", {"nuisance": {"A:lumi": 0.8, "B:B_s2": -1.1}}),
        ("spectators", {}),
        ("spectators", {"truth": {"H:H_x3": 20.0}}),
    ],
)
def test_fast_path_equals_the_generic_combination(which, options):
    comb = quadratic_combiner(11) if which == "quadratic" else spectator_combiner()
    model = ToyModel(comb, **options)
    fast_task = ToyTask(model)
    assert fast_task.linear_recombination() is not None
    n = BLOCK + 9  # more than one block, not a multiple of it
    fast = fast_task(3, 3 + n, 42)
    generic = ToyTask(model, linear=False)(3, 3 + n, 42)
    assert not generic["failed"].any()
    assert_same_toys(fast, generic)


def test_pseudo_data_are_the_generic_draws():
    comb = spectator_combiner()
    model = ToyModel(comb)
    fast = linear_recombination(model)
    assert fast is not None
    data = fast.pseudo_data(fast.normals(7, 10, 15))
    for j, i in enumerate(range(10, 15)):
        toy = model.generate(item_rng(7, i))
        expected = np.concatenate(
            [np.concatenate([toy.estimates[m], toy.nuisance_values[m]]) for m in ("H", "T")]
        )
        np.testing.assert_allclose(data[j], expected, rtol=1e-13, atol=1e-13)


def test_compare_runs_the_other_definition_generically():
    model = ToyModel(quadratic_combiner(11))
    fast = ToyTask(model, compare=True)(0, 12, 5)
    generic = ToyTask(model, compare=True, linear=False)(0, 12, 5)
    assert_same_toys(fast, generic)


def test_bit_identical_for_any_chunking():
    comb = spectator_combiner()
    ref = run_toys(comb, 2 * BLOCK + 5, seed=3, chunk_size=2 * BLOCK + 5)
    other = run_toys(comb, 2 * BLOCK + 5, seed=3, chunk_size=13)
    for o in ref.observables:
        np.testing.assert_array_equal(ref.values[o], other.values[o])
    np.testing.assert_array_equal(ref.chi2, other.chi2)


def test_closed_form_weighted_mean():
    """Two measurements of one value with a common absolute source (ρ = 1): the combination is
    the GLS mean with covariance diag(σ²) + u uᵀ and χ²_min the GLS χ², both written here for
    each pseudo-experiment drawn by the generic model."""
    a = Measurement.from_uncertainties({"x": 10.0}, {"x": 1.0}, {"c": {"x": 0.5}}, name="A")
    b = Measurement.from_uncertainties({"x": 11.0}, {"x": 2.0}, {"c": {"x": -0.8}}, name="B")
    c = Measurement.from_uncertainties({"x": 9.0}, {"x": 1.5}, {}, name="C")
    comb = Combiner([a, b, c], correlations={("A:c", "B:c"): 1.0})
    model = ToyModel(comb)
    out = ToyTask(model)(0, 20, 11)
    u = np.array([0.5, -0.8, 0.0])
    V = np.diag([1.0, 4.0, 2.25]) + np.outer(u, u)
    W = np.linalg.inv(V)
    one = np.ones(3)
    var = 1.0 / (one @ W @ one)
    for i in range(20):
        toy = model.generate(item_rng(11, i))
        y = np.array([toy.estimates[m][0] for m in "ABC"])
        mean = var * (one @ W @ y)
        r = y - mean
        assert out["values"][i, 0] == pytest.approx(mean, rel=1e-12)
        assert out["errors"][i, 0] == pytest.approx(math.sqrt(var), rel=1e-12)
        assert out["chi2"][i] == pytest.approx(r @ W @ r, rel=1e-10, abs=1e-12)


def test_not_quadratic_or_other_statistics_use_the_generic_path():
    comb = quadratic_combiner(11)
    assert linear_recombination(ToyModel(comb, stat="scaled")) is None
    assert linear_recombination(ToyModel(comb.with_chi2("pearson"), stat="fixed")) is None
    rel = Measurement.from_uncertainties(
        {"x": 10.0}, {"x": 1.0}, {"r": {"x": 0.5}}, relative=["r"], name="R"
    )
    other = Measurement.from_uncertainties({"x": 11.0}, {"x": 2.0}, {"r": {"x": 0.4}}, name="S")
    assert linear_recombination(ToyModel(Combiner([rel, other]))) is None
    absolute = Measurement.from_uncertainties({"x": 10.0}, {"x": 1.0}, {"r": {"x": 0.5}}, name="R")
    eoe = Combiner([absolute, other], errors_on_errors={"r": 0.3})
    assert linear_recombination(ToyModel(eoe)) is None
    assert linear_recombination(ToyModel(Combiner([absolute, other]))) is not None

"""Non-quadratic pseudo-experiments minimised together (hepcombine.toys.batched,
hepcombine.solver.batched) against each one combined alone, and against a χ² written here.

References:
* the χ², gradient and Hessian of every pseudo-experiment's own ``CombinedChi2`` at the same
  points (the batched evaluation is the same formulas with a leading axis);
* the per-pseudo-experiment ``Combiner.combine`` (``ToyTask(batched=False)``) on the same
  seeds: Pearson with relative and asymmetric (kinked) sources, the kinked campaign's Neyman
  and Pearson cases (a pulled Hessian measurement: every pseudo-experiment has its own kinks),
  log-normal and smooth-asymmetric sources, several estimates of one value, spectators,
  ``compare=True``. The minima agree to the precision of ``Combiner.combine`` itself: its last
  Newton steps are decided by the rounding of the χ² (moving its start by 1e-13 moves its
  minimum by up to ~3e-9 relative, ~1e-7 σ; benchmarks/bench_toys_batched.py), so values and
  errors are compared to 1e-8 relative, χ²_min to 1e-11;
* for a Pearson combination, the χ² of method.md §2 written out below for the
  pseudo-measurements and minimised by scipy (BFGS), its profile by scipy at the interval ends.
"""

from __future__ import annotations

import numpy as np
import pytest
from kinked_campaign import generate
from scipy.optimize import brentq, minimize
from toy_inputs import hessian_measurement

from hepcombine import Combiner, Measurement
from hepcombine.solver import _quadratic_start
from hepcombine.solver.batched import (
    BatchedChi2,
    batched_newton,
    far_side_screens,
    quadratic_starts,
)
from hepcombine.solver.newton import (
    KinkGroups,
    Minimum,
    _other_side_may_be_lower,
    newton_minimise,
)
from hepcombine.toys import ToyModel, ToyTask, item_rng
from hepcombine.toys.batched import recombine_batched


def pearson_kinked() -> Combiner:
    """Pearson, a relative source shared with ρ = 1 and an asymmetric (kinked) one."""
    a = Measurement.from_uncertainties(
        {"x": 100.0, "y": 50.0, "z": 30.0},
        {"x": 5.0, "y": 4.0, "z": 3.0},
        {
            "lumi": {"x": 2.0, "y": 1.0, "z": 0.6},
            "asy": {"x": (3.0, -1.0), "y": (1.0, -2.0), "z": (0.5, -0.4)},
        },
        relative=["lumi"],
        name="A",
    )
    b = Measurement.from_uncertainties(
        {"x": 104.0, "y": 47.0, "z": 33.0},
        {"x": 6.0, "y": 3.0, "z": 2.0},
        {"lumi": {"x": 2.5, "y": 1.2, "z": 0.9}, "bkg": {"x": 1.0, "y": -0.5, "z": 0.3}},
        name="B",
    )
    return Combiner([a, b], correlations={("A:lumi", "B:lumi"): 1.0}, chi2="pearson")


def lognormal_smooth() -> Combiner:
    """Neyman, a log-normal source and smooth-asymmetric ones; a Hessian measurement with
    pulled sources and correlated statistics; two estimates of one value in one measurement
    and a spectator."""
    h, _ = hessian_measurement(np.random.default_rng(4), "H", n_e=4, n_s=3)
    t = Measurement.from_uncertainties(
        {"t0": 11.0, "t1": 15.5, "t2": 19.0},
        {"t0": 0.9, "t1": 1.3, "t2": 1.1},
        {
            "eff": {"t0": 0.5, "t1": 0.8, "t2": 0.6},
            "jes": {"t0": (0.7, -0.3), "t1": (0.4, -0.9), "t2": (0.2, -0.1)},
        },
        lognormal=["eff"],
        name="T",
    )
    obs = {"x": ["H:H_x0", "H:H_x1", "T:t0"], "y": ["H:H_x2", "T:t1"], "w": ["T:t2"]}
    corr = {("T:eff", "H:H_s0"): 0.6}
    return Combiner([h, t], obs, corr, asymmetry="smooth")


def kinked_case(chi2: str, seed: int) -> Combiner:
    return generate(
        np.random.default_rng(seed), chi2, small=True, relative=chi2 == "pearson"
    ).combiner()


CASES = {
    "pearson_kinked": pearson_kinked,
    "lognormal_smooth": lognormal_smooth,
    "kinked_neyman": lambda: kinked_case("neyman", 2),
    "kinked_pearson": lambda: kinked_case("pearson", 2),
}


def toy_models(comb: Combiner, n: int, seed: int = 3):
    model = ToyModel(comb)
    factor = comb._factor()
    combs = [model.combiner_for(model.generate(item_rng(seed, i))) for i in range(n)]
    return combs, [c._model(factor) for c in combs]


@pytest.mark.parametrize("case", sorted(CASES))
def test_batched_chi2_equals_each_models_own(case):
    _, models = toy_models(CASES[case](), 7)
    batch = BatchedChi2(models)
    rng = np.random.default_rng(1)
    theta = np.array([m.start() for m in models])
    theta += rng.normal(0, 0.3, theta.shape) * np.maximum(1.0, 0.01 * np.abs(theta))
    idx = np.arange(len(models))
    f, g = batch.values(idx, theta, gradient=True)
    H = batch.hessian(idx, theta)
    sub = np.array([5, 1, 1])  # a subset, in another order, with a repeat
    f_sub, g_sub = batch.values(sub, theta[sub], gradient=True)
    H_sub = batch.subset(sub).hessian(np.arange(3), theta[sub])
    for k, m in enumerate(models):
        f1, g1, H1 = m.evaluate(theta[k], 2)
        assert f[k] == pytest.approx(f1, rel=1e-12)
        np.testing.assert_allclose(g[k], g1, rtol=1e-10, atol=1e-11 * np.abs(g1).max())
        np.testing.assert_allclose(H[k], H1, rtol=1e-10, atol=1e-11 * np.abs(H1).max())
    # the slopes of kinked sources forced (NaN: free), as the solver does at kinks
    n_l = models[0].n_lambda
    sides = np.where(rng.random((len(models), n_l)) < 0.5, np.nan, rng.integers(-1, 2, (7, n_l)))
    f_s, g_s = batch.values(idx, theta, gradient=True, sides=sides)
    for k, m in enumerate(models):
        f1, g1 = m.values_and_gradients(theta[k][:, None], sides=sides[k])
        assert f_s[k] == pytest.approx(f1[0], rel=1e-12)
        np.testing.assert_allclose(g_s[k], g1[:, 0], rtol=1e-10, atol=1e-11 * np.abs(g1).max())
    # a data set's numbers do not depend on the others in its batch (bit for bit)
    np.testing.assert_array_equal(f_sub, f[sub])
    np.testing.assert_array_equal(g_sub, g[sub])
    np.testing.assert_array_equal(H_sub, H[sub])


@pytest.mark.parametrize("case", sorted(CASES))
def test_quadratic_starts_are_minimises(case):
    _, models = toy_models(CASES[case](), 6)
    names = [f"p{i}" for i in range(models[0].npar)]
    theta, sigma, ok = quadratic_starts(BatchedChi2(models))
    assert ok.all()
    for m, t, s in zip(models, theta, sigma, strict=True):
        ref, h, _ = _quadratic_start(m, names)
        np.testing.assert_allclose(t, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())
        np.testing.assert_allclose(s, 1.0 / np.sqrt(0.5 * np.diag(h)), rtol=1e-12)


@pytest.mark.parametrize("case", ["pearson_kinked", "kinked_neyman", "kinked_pearson"])
def test_batched_newton_through_kinks(case):
    """From the mirror images of the minima across a kink (global_minimise's restarts): the
    steps cross the kink, which the batched line search follows as newton_minimise does."""
    _, models = toy_models(CASES[case](), 10)
    names = [f"p{i}" for i in range(models[0].npar)]
    kinks = [KinkGroups.of(m) for m in models]
    starts = [_quadratic_start(m, names) for m in models]
    sigma = np.array([1.0 / np.sqrt(np.clip(0.5 * np.diag(h), 1e-300, None)) for _, h, _ in starts])
    first = [
        newton_minimise(m, s[0], kg, sg)
        for m, s, kg, sg in zip(models, starts, kinks, sigma, strict=True)
    ]
    mirrored = np.array([kg.reflect(f.theta, 0) for kg, f in zip(kinks, first, strict=True)])
    got = batched_newton(BatchedChi2(models), mirrored, kinks, sigma)
    n_p = models[0].n_params
    for m, kg, sg, start, g in zip(models, kinks, sigma, mirrored, got, strict=True):
        ref = newton_minimise(m, start, kg, sg)
        assert g.converged == ref.converged
        assert g.chi2 == pytest.approx(ref.chi2, rel=1e-11)
        np.testing.assert_allclose(g.theta[:n_p], ref.theta[:n_p], rtol=1e-8)
        assert set(g.held) == set(ref.held)
    assert sum(g.message == "batched" for g in got) >= 3


@pytest.mark.parametrize("case", ["pearson_kinked", "kinked_neyman", "kinked_pearson"])
def test_kink_groups_like_a_template_are_of(case):
    _, models = toy_models(CASES[case](), 8)
    template = KinkGroups.of(models[3])
    if case != "pearson_kinked":  # a pulled Hessian: every toy has its kinks elsewhere
        assert any(not np.array_equal(KinkGroups.of(m).offsets, template.offsets) for m in models)
    for m in models:
        a, b = KinkGroups.like(template, m), KinkGroups.of(m)
        np.testing.assert_array_equal(a.normals, b.normals)
        np.testing.assert_array_equal(a.offsets, b.offsets)
        assert [x.tolist() for x in a.members] == [x.tolist() for x in b.members]
        assert [x.tolist() for x in a.signs] == [x.tolist() for x in b.signs]


def test_far_side_screens_are_newtons():
    _, models = toy_models(CASES["kinked_neyman"](), 10)
    names = [f"p{i}" for i in range(models[0].npar)]
    kinks = [KinkGroups.of(m) for m in models]
    firsts = []
    rng = np.random.default_rng(2)
    for m, kg in zip(models, kinks, strict=True):
        theta0, h, _ = _quadratic_start(m, names)
        first = newton_minimise(m, theta0, kg, 1.0 / np.sqrt(0.5 * np.diag(h)))
        firsts.append(first)
        # and a point away from the minimum, where the far sides' steps often cross back
        away = first.theta + rng.normal(0, 1.0, first.theta.shape) / np.sqrt(0.5 * np.diag(h))
        firsts.append(Minimum(away, m(away), 0.0, 0, True))
    models = [m for m in models for _ in range(2)]
    kinks = [k for k in kinks for _ in range(2)]
    pairs = [
        (j, g)
        for j, f in enumerate(firsts)
        for g in range(len(kinks[j]))
        if g not in f.held
        if kinks[j].h(f.theta)[g] != 0.0
    ]
    assert len(pairs) >= 10
    got = far_side_screens(BatchedChi2(models), kinks, pairs, firsts)
    ref = [_other_side_may_be_lower(models[j], kinks[j], firsts[j], g, {}) for j, g in pairs]
    np.testing.assert_array_equal(got, ref)
    assert 0 < got.sum() < len(pairs)  # both answers occur
    assert any(firsts[j].held for j, _ in pairs)  # and minima held on kinks


def assert_same_toys(batched, alone, rtol=1e-8):
    assert batched.keys() == alone.keys()
    for key, ref in alone.items():
        got = batched[key]
        if ref.dtype.kind != "f":
            np.testing.assert_array_equal(got, ref, err_msg=key)
            continue
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=key)
        tol = 1e-11 if key.endswith("chi2") else rtol
        ok = np.isfinite(ref)
        np.testing.assert_allclose(got[ok], ref[ok], rtol=tol, err_msg=key)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("intervals", [False, True])
def test_batched_toys_equal_each_combined_alone(case, intervals):
    comb = CASES[case]()
    model = ToyModel(comb)
    n = 12
    batched = ToyTask(model, intervals=intervals)(2, 2 + n, 42)
    alone = ToyTask(model, intervals=intervals, batched=False)(2, 2 + n, 42)
    assert not alone["failed"].all()
    assert_same_toys(batched, alone)
    # and they were minimised together, not handed back one by one
    combs = [model.combiner_for(model.generate(item_rng(42, i))) for i in range(2, 2 + n)]
    done = recombine_batched(combs, intervals=intervals)
    assert sum(r is not None for r in done) >= n - 2


def test_a_failing_batch_falls_back_to_each_toy_alone(monkeypatch, caplog):
    import hepcombine.toys.study as study

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    model = ToyModel(pearson_kinked())
    alone = ToyTask(model, batched=False)(0, 5, 3)
    monkeypatch.setattr(study, "recombine_batched", broken)
    got = ToyTask(model)(0, 5, 3)
    assert "combining each toy alone" in caplog.text
    for key, ref in alone.items():
        np.testing.assert_array_equal(got[key], ref, err_msg=key)


def test_batched_toys_with_the_other_definition():
    model = ToyModel(pearson_kinked())
    batched = ToyTask(model, compare=True)(0, 9, 5)
    alone = ToyTask(model, compare=True, batched=False)(0, 9, 5)
    assert_same_toys(batched, alone)


def test_batched_toys_do_not_depend_on_the_chunks():
    model = ToyModel(kinked_case("pearson", 2))
    whole = ToyTask(model, intervals=False)(0, 11, 8)
    parts = [ToyTask(model, intervals=False)(a, b, 8) for a, b in ((0, 1), (1, 5), (5, 11))]
    for key, ref in whole.items():
        np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), ref, err_msg=key)


# ---------------------------------------------------------------------- written out
def written_chi2(comb: Combiner, pseudo) -> tuple:
    """χ²(x̄, η) of ``pearson_plain``'s pseudo-measurements, method.md §2: A's prediction
    x̄(1 − u_lumi η_lumi / x̂) (a relative shift keeps its size relative to the estimate, so
    u*/x̂* = u/x̂), B's x̄ − u_lumi η_lumi − u_bkg η_bkg, Pearson residuals √(x̂*/X)(X − x̂*)
    weighted by the pseudo-measurement's information, plus η_lumi² + η_bkg² (ρ = 1: one η)."""
    A, B = comb.measurements["A"], comb.measurements["B"]
    xa, xb = pseudo.estimates["A"], pseudo.estimates["B"]
    Ma = np.diag(pseudo.stat_information["A"])
    Mb = np.diag(pseudo.stat_information["B"])
    ua = A.shifts_up[:, 0] / A.estimates
    ub = B.shifts_up

    def chi2(p):
        x, lumi, bkg = p[:2], p[2], p[3]
        Xa = x * (1.0 - ua * lumi)
        Xb = x - ub[:, 0] * lumi - ub[:, 1] * bkg
        ra = np.sqrt(xa / Xa) * (Xa - xa)
        rb = np.sqrt(xb / Xb) * (Xb - xb)
        return float(Ma @ ra**2 + Mb @ rb**2 + lumi**2 + bkg**2)

    return chi2


def pearson_plain() -> Combiner:
    a = Measurement.from_uncertainties(
        {"x": 100.0, "y": 50.0},
        {"x": 5.0, "y": 4.0},
        {"lumi": {"x": 4.0, "y": 2.0}},
        relative=["lumi"],
        name="A",
    )
    b = Measurement.from_uncertainties(
        {"x": 104.0, "y": 47.0},
        {"x": 6.0, "y": 3.0},
        {"lumi": {"x": 5.0, "y": 2.4}, "bkg": {"x": 2.0, "y": -1.5}},
        name="B",
    )
    return Combiner([a, b], correlations={("A:lumi", "B:lumi"): 1.0}, chi2="pearson")


def profiled(chi2, best, o: int, v: float) -> float:
    """min over the other parameters of ``chi2`` with parameter ``o`` at ``v`` (scipy)."""
    rest = np.delete(best, o)
    return minimize(
        lambda q: chi2(np.insert(q, o, v)), rest, method="BFGS", options={"gtol": 1e-9}
    ).fun


def crossing(chi2, best, o: int, step: float) -> float:
    """Where the profile of parameter ``o`` reaches χ²_min + 1 between 0.5 and 2 ``step``
    from the minimum (scipy's brentq)."""
    x = best.x[o]
    return brentq(
        lambda v: profiled(chi2, best.x, o, v) - best.fun - 1.0,
        x + 0.5 * step,
        x + 2.0 * step,
        xtol=1e-9,
    )


def test_batched_pearson_toys_against_a_written_chi2():
    comb = pearson_plain()
    model = ToyModel(comb)
    got = ToyTask(model)(0, 3, 17)
    assert not got["failed"].any() and got["interval"].all()
    for j in range(3):
        chi2 = written_chi2(comb, model.generate(item_rng(17, j)))
        start = np.concatenate([got["values"][j], [0.0, 0.0]])
        best = minimize(chi2, start + 0.5, method="BFGS", options={"gtol": 1e-9})
        np.testing.assert_allclose(got["values"][j], best.x[:2], rtol=1e-6)
        assert got["chi2"][j] == pytest.approx(best.fun, rel=1e-7, abs=1e-9)
        for o in range(2):
            for end, side in ((got["low"][j, o], -1.0), (got["high"][j, o], 1.0)):
                # the profile crosses χ²_min + 1 at the reported endpoint
                assert profiled(chi2, best.x, o, end) - best.fun == pytest.approx(1.0, abs=2e-6)
                root = crossing(chi2, best, o, side * got["errors"][j, o])
                assert end == pytest.approx(root, rel=1e-6)

"""The generation model of pseudo-experiments (hepcombine.toys.model) against formulas written
out here: the prediction of method.md §1 for absolute, relative and asymmetric sources (both
interpolations), the covariance of toys of a Hessian measurement (its inverse Hessian, built
here, and Measurement.covariance), the statistical models (scaled variance, Poisson counts),
and Combiner.with_estimates against a combiner built from scratch.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from toy_inputs import hessian_measurement

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import InvalidMeasurement, UnknownName
from hepcombine.toys import GenerationError, RunError, ToyModel, item_rng, run_toys


# --------------------------------------------------------------------------- seeds
def test_item_rng_is_child_of_seed_sequence_spawn():
    children = np.random.SeedSequence(1234).spawn(7)
    for i in (0, 3, 6):
        expected = np.random.default_rng(children[i]).standard_normal(5)
        np.testing.assert_array_equal(item_rng(1234, i).standard_normal(5), expected)


# --------------------------------------------------------------------------- prediction
def _shift(up, down, d, asymmetry):
    """s(δ) written out from method.md §1 (Convino: kink at 0; smooth: quadratic inside ±1,
    tangent lines outside)."""
    if asymmetry == "convino":
        return up * d if d >= 0 else -down * d
    a, c = (up - down) / 2, (up + down) / 2
    if abs(d) <= 1:
        return a * d + c * d * d
    edge = np.sign(d)
    value = a * edge + c  # s(±1) = up or down
    slope = a + 2 * c * edge
    return value + slope * (d - edge)


@pytest.mark.parametrize("asymmetry", ["convino", "smooth"])
def test_prediction_absolute_relative_asymmetric(asymmetry):
    x_hat = {"e1": 50.0, "e2": 80.0}
    syst = {
        "abs": {"e1": 2.0, "e2": -1.5},
        "rel": {"e1": 1.0, "e2": 2.4},
        "asy": {"e1": (3.0, -1.0), "e2": (0.5, -2.0)},
        "asr": {"e1": (2.5, -1.5), "e2": (1.0, -3.0)},
    }
    relative = {"rel", "asr"}
    stat = {"e1": 1e-4, "e2": 1e-4}  # the fluctuation is negligible against the shifts
    m = Measurement.from_uncertainties(x_hat, stat, syst, relative=relative, name="A")
    comb = Combiner([m], asymmetry=asymmetry)
    lam = {"abs": 0.7, "rel": -1.3, "asy": -0.6, "asr": 1.4}
    truth = {"e1": 47.0, "e2": 83.0}
    model = ToyModel(comb, truth=truth, nuisance=lam)
    toy = model.generate(item_rng(5, 0))
    for k, e in enumerate(x_hat):
        factor, added = 1.0, 0.0
        for src, shifts in syst.items():
            up, down = shifts[e] if isinstance(shifts[e], tuple) else (shifts[e], -shifts[e])
            s = _shift(up, down, lam[src], asymmetry)
            if src in relative:
                factor *= 1 - s / x_hat[e]
            else:
                added -= s
        expected = truth[e] * factor + added
        assert toy.estimates["A"][k] == pytest.approx(expected, abs=1e-3)
    np.testing.assert_array_equal(toy.nuisance_truth, [lam[s] for s in syst])
    np.testing.assert_array_equal(toy.nuisance_values["A"], np.zeros(4))
    # the pseudo-measurement, recombined at the true sources, predicts itself: the relative
    # shifts keep their size relative to the estimate (Combiner.with_estimates)
    toy_comb = model.combiner_for(toy)
    new = toy_comb.measurements["A"]
    rel_cols = [i for i, s in enumerate(new.source_names) if s in relative]
    ratio = new.estimates / m.estimates
    np.testing.assert_allclose(
        new.shifts_up[:, rel_cols], m.shifts_up[:, rel_cols] * ratio[:, None]
    )
    np.testing.assert_array_equal(new.shifts_up[:, [0, 2]], m.shifts_up[:, [0, 2]])


def test_prediction_lognormal():
    """Log-normal sources (method.md §1): the prediction is scaled by (1 + u/x̂)^(−λ) for a
    symmetric source and piecewise by (1 + u_up/x̂)^(−λ), (1 + u_down/x̂)^(λ) for an asymmetric
    one (Convino form), never negative."""
    x_hat = {"e1": 50.0, "e2": 80.0}
    syst = {"ln": {"e1": 20.0, "e2": 8.0}, "la": {"e1": (5.0, -10.0), "e2": (16.0, -4.0)}}
    stat = {"e1": 1e-4, "e2": 1e-4}
    m = Measurement.from_uncertainties(x_hat, stat, syst, lognormal=["ln", "la"], name="A")
    comb = Combiner([m])
    for lam in ({"ln": 2.5, "la": -1.7}, {"ln": -3.0, "la": 2.2}):
        model = ToyModel(comb, truth={"e1": 47.0, "e2": 83.0}, nuisance=lam)
        toy = model.generate(item_rng(1, 0))
        for k, e in enumerate(x_hat):
            f = (1 + syst["ln"][e] / x_hat[e]) ** (-lam["ln"])
            up, down = syst["la"][e]
            f *= (
                (1 + up / x_hat[e]) ** (-lam["la"])
                if lam["la"] >= 0
                else (1 + down / x_hat[e]) ** lam["la"]
            )
            expected = {"e1": 47.0, "e2": 83.0}[e] * f
            assert toy.estimates["A"][k] == pytest.approx(expected, rel=1e-5)
            assert toy.estimates["A"][k] > 0


# --------------------------------------------------------------------------- Hessian input
def test_toys_of_hessian_measurement_reproduce_its_covariance():
    rng = np.random.default_rng(11)
    meas, H = hessian_measurement(rng, "H")
    comb = Combiner([meas])
    model = ToyModel(comb)  # sources drawn from their unit prior
    n = 20000
    x = np.empty((n, 3))
    lam_hat = np.empty((n, 3))
    lam = np.empty((n, 3))
    for i in range(n):
        toy = model.generate(item_rng(3, i))
        x[i], lam_hat[i], lam[i] = toy.estimates["H"], toy.nuisance_values["H"], toy.nuisance_truth
    truth = model.truth
    # (x̂* − x, λ̂* − λ) ~ N(0, H⁻¹): the original fit's covariance (Bayes-frequentist identity
    # of the linear Gaussian model with λ from its prior)
    joint = np.hstack([x - truth, lam_hat - lam])
    expected = np.linalg.inv(H)
    sample = np.cov(joint, rowvar=False)
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    assert np.max(np.abs(sample - expected) / scale) < 5 / np.sqrt(n)
    assert np.max(np.abs(joint.mean(axis=0)) / np.sqrt(np.diag(expected))) < 5 / np.sqrt(n)
    # the estimates alone: the measurement's total covariance V + U(1 + D)⁻¹Uᵀ
    cov_x = np.cov(x, rowvar=False)
    total = meas.covariance
    scale = np.sqrt(np.outer(np.diag(total), np.diag(total)))
    assert np.max(np.abs(cov_x - total) / scale) < 5 / np.sqrt(n)
    # λ̂* is uncorrelated with x̂* and has covariance D(1 + D)⁻¹
    D = meas.source_information
    expected_l = D @ np.linalg.inv(np.eye(3) + D)
    cov_l = np.cov(lam_hat, rowvar=False)
    assert np.max(np.abs(cov_l - expected_l)) < 5 / np.sqrt(n)
    cross = np.cov(np.hstack([x, lam_hat]), rowvar=False)[:3, 3:]
    assert np.max(np.abs(cross) / np.sqrt(np.diag(total))[:, None]) < 5 / np.sqrt(n)


def test_sources_without_data_information_get_no_pull():
    rng = np.random.default_rng(2)
    meas, _ = hessian_measurement(rng, "H", pulls=False)
    table = meas.with_uncertainties({"extra": {"H_x0": 0.5}})
    model = ToyModel(Combiner([table]))
    toy = model.generate(item_rng(0, 0))
    assert toy.nuisance_values["H"][-1] == 0.0
    assert np.all(toy.nuisance_values["H"][:-1] != 0.0)


def test_negative_source_information_is_an_error():
    M = np.array([[1.0]])
    u = np.array([[1.0]])
    # H_λλ − uᵀMu = 0.5 < 1: less than the unit prior
    H = np.block([[M, -M @ u], [-(M @ u).T, np.array([[0.5]]) + u.T @ M @ u]])
    meas = Measurement.from_hessian(H, ["x", "s"], {"x": 1.0}, name="A")
    with pytest.raises(InvalidMeasurement, match="negative eigenvalue") as exc:
        ToyModel(Combiner([meas]))
    assert "\n" not in str(exc.value)


# --------------------------------------------------------------------------- statistical models
def test_scaled_statistical_model():
    m = Measurement.from_uncertainties(
        {"a": 40.0, "b": 90.0},
        {"a": 4.0, "b": 6.0},
        stat_correlation=[[1.0, 0.3], [0.3, 1.0]],
        name="A",
    )
    comb = Combiner([m], chi2="pearson")
    truth = {"a": 60.0, "b": 45.0}
    model = ToyModel(comb, truth=truth, nuisance="zero")
    assert model.stat == "scaled"
    n = 20000
    x = np.array([model.generate(item_rng(8, i)).estimates["A"] for i in range(n)])
    # variance scaled with the prediction: V_μν √(X_μ/x̂_μ · X_ν/x̂_ν)
    V = np.array([[16.0, 0.3 * 24.0], [0.3 * 24.0, 36.0]])
    r = np.sqrt(np.array([60.0 / 40.0, 45.0 / 90.0]))
    expected = V * np.outer(r, r)
    assert np.all(np.abs(x.mean(axis=0) - [60.0, 45.0]) < 5 * np.sqrt(np.diag(expected) / n))
    sample = np.cov(x, rowvar=False)
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    assert np.max(np.abs(sample - expected) / scale) < 5 / np.sqrt(n)
    # what the pseudo-measurement reports: variance proportional to its own estimate
    toy = model.generate(item_rng(8, 0))
    xs = toy.estimates["A"]
    s = np.sqrt(np.array([40.0, 90.0]) / xs)
    np.testing.assert_allclose(toy.stat_information["A"], np.linalg.inv(V) * np.outer(s, s))
    assert model.combiner_for(toy).measurements["A"].stat_information == pytest.approx(
        np.linalg.inv(V) * np.outer(s, s)
    )


def test_poisson_statistical_model():
    # σ² = x̂/4: each "event" weighs 1/4, x̂ = 100 is 400 effective events
    m = Measurement.from_uncertainties({"a": 100.0}, {"a": 5.0}, name="A")
    comb = Combiner([m])
    model = ToyModel(comb, truth={"a": 80.0}, stat="poisson")
    n = 20000
    x = np.array([model.generate(item_rng(4, i)).estimates["A"][0] for i in range(n)])
    counts = 4.0 * x
    np.testing.assert_array_equal(counts, np.round(counts))  # scaled integer counts
    assert counts.mean() == pytest.approx(320.0, abs=5 * np.sqrt(320.0 / n))
    assert counts.var() == pytest.approx(320.0, rel=5 * np.sqrt(2.0 / n))
    toy = model.generate(item_rng(4, 0))
    assert toy.stat_information["A"][0, 0] == pytest.approx(1.0 / (0.25 * toy.estimates["A"][0]))


def test_poisson_needs_uncorrelated_estimates():
    m = Measurement.from_uncertainties(
        {"a": 10.0, "b": 20.0},
        {"a": 1.0, "b": 2.0},
        stat_correlation=[[1, 0.2], [0.2, 1]],
        name="A",
    )
    with pytest.raises(InvalidMeasurement, match="correlated"):
        ToyModel(Combiner([m]), stat="poisson")


def test_poisson_zero_counts_fail_the_toy_with_its_reason():
    # 0.7 expected events per measurement: P(no event in either) governs the failures
    a = Measurement.from_uncertainties({"x": 0.7}, {"x": 0.7**0.5}, name="A")
    b = Measurement.from_uncertainties({"x": 0.7}, {"x": 0.7**0.5}, name="B")
    comb = Combiner([a, b])
    n = 400
    res = run_toys(comb, n, seed=3, stat="poisson", intervals=False)
    p_fail = 1 - (1 - np.exp(-0.7)) ** 2
    assert res.n_failed == pytest.approx(n * p_fail, abs=4 * np.sqrt(n * p_fail * (1 - p_fail)))
    (reason,) = {r.split(":")[0] for r, f in zip(res.reasons, res.failed, strict=True) if f}
    assert reason == "generation"
    assert all("≤ 0" in r for r in res.failures)
    # the generator raises the same error when asked directly
    model = ToyModel(comb, stat="poisson")
    first_failed = int(np.flatnonzero(res.failed)[0])
    with pytest.raises(GenerationError):
        model.generate(item_rng(3, first_failed))


def test_bad_options():
    m = Measurement.from_uncertainties({"a": 10.0}, {"a": 1.0}, {"s": {"a": 0.5}}, name="A")
    comb = Combiner([m])
    with pytest.raises(RunError, match="stat must be"):
        ToyModel(comb, stat="gaussian")
    with pytest.raises(RunError, match="nuisance must be"):
        ToyModel(comb, nuisance="random")
    with pytest.raises(UnknownName, match="truth given for 'b'"):
        ToyModel(comb, truth={"b": 1.0})
    with pytest.raises(UnknownName):
        ToyModel(comb, nuisance={"nope": 1.0})
    neg = Measurement.from_uncertainties({"a": -10.0}, {"a": 1.0}, name="N")
    with pytest.raises(InvalidMeasurement, match="positive estimates"):
        ToyModel(Combiner([neg]), stat="scaled")


def test_fixed_nuisance_values_and_pulls():
    m = Measurement.from_uncertainties({"a": 10.0}, {"a": 1.0}, {"s": {"a": 0.5}}, name="A")
    comb = Combiner([m])
    toy = ToyModel(comb, nuisance={"A:s": 0.8}).generate(item_rng(0, 0))
    np.testing.assert_array_equal(toy.nuisance_truth, [0.8])
    nominal = comb.combine()
    toy = ToyModel(comb, nominal, nuisance="pulls").generate(item_rng(0, 0))
    np.testing.assert_array_equal(toy.nuisance_truth, [nominal.pulls["A:s"]])


# --------------------------------------------------------------------------- with_estimates
def test_with_estimates_equals_a_combiner_built_from_scratch():
    rng = np.random.default_rng(5)
    h, _ = hessian_measurement(rng, "H")
    t = Measurement.from_uncertainties(
        {"H_x0": 11.0, "H_x1": 12.5},
        {"H_x0": 1.0, "H_x1": 1.2},
        {"lumi": {"H_x0": 0.3, "H_x1": 0.4}, "asy": {"H_x0": (0.5, -0.2)}},
        relative=["lumi"],
        name="T",
    )
    corr = {("H:H_s0", "T:lumi"): 0.6}
    comb = Combiner([h, t], correlations=corr)
    x_h = np.array([9.5, 13.4, 15.9])
    lam_h = np.array([0.1, -0.2, 0.3])
    x_t = np.array([10.4, 12.9])
    m_t = np.diag([0.8, 0.5])
    new = comb.with_estimates({"H": x_h, "T": x_t}, {"H": lam_h}, {"T": m_t})
    scale = x_t / t.estimates
    up, down = t.shifts_up.copy(), t.shifts_down.copy()
    up[:, 0] *= scale
    down[:, 0] *= scale
    t_new = Measurement(
        t.estimate_names, x_t, t.source_names, m_t, up, down,
        t.source_information, t.nuisance_values, t.relative, "T",
    )  # fmt: skip
    h_new = Measurement(
        h.estimate_names, x_h, h.source_names, h.stat_information, h.shifts_up,
        h.shifts_down, h.source_information, lam_h, h.relative, "H",
    )  # fmt: skip
    scratch = Combiner([h_new, t_new], correlations=corr)
    a, b = new.combine(), scratch.combine()
    for o in a.observables:
        assert a.values[o] == pytest.approx(b.values[o], rel=1e-7, abs=1e-9)
        assert a.errors[o] == pytest.approx(b.errors[o], rel=1e-6)
    assert a.chi2 == pytest.approx(b.chi2, rel=1e-6, abs=1e-9)
    # the original combiner is untouched
    np.testing.assert_array_equal(comb.measurements["T"].estimates, t.estimates)
    assert comb.combine().values == pytest.approx(
        Combiner([h, t], correlations=corr).combine().values
    )


def test_with_estimates_errors():
    m = Measurement.from_uncertainties(
        {"a": 10.0, "b": 5.0}, {"a": 1.0, "b": 1.0}, {"r": {"a": 0.5}}, relative=["r"], name="A"
    )
    comb = Combiner([m])
    with pytest.raises(UnknownName, match="no measurement 'B'"):
        comb.with_estimates({"B": [1.0, 2.0]})
    with pytest.raises(InvalidMeasurement, match="expected"):
        comb.with_estimates({"A": [1.0, 2.0, 3.0]})
    with pytest.raises(InvalidMeasurement, match="NaN"):
        comb.with_estimates({"A": [np.nan, 2.0]})
    with pytest.raises(InvalidMeasurement, match="estimates must be numbers"):
        comb.with_estimates({"A": ["a", "b"]})
    with pytest.raises(InvalidMeasurement, match="stat_information has shape"):
        comb.with_estimates({"A": [1.0, 2.0]}, stat_information={"A": np.eye(3)})
    pearson = Combiner([m], chi2="pearson")
    with pytest.raises(InvalidMeasurement, match="positive estimates"):
        pearson.with_estimates({"A": [1.0, -2.0]})


def test_public_api_and_light_import():
    import subprocess

    import hepcombine.toys

    assert sorted(hepcombine.toys.__all__) == [
        "COVERAGE_68",
        "ChunkTask",
        "GaussianFit",
        "GenerationError",
        "PseudoExperiment",
        "RunError",
        "ToyModel",
        "ToyResult",
        "ToyTask",
        "fit_gaussian",
        "item_rng",
        "load_toys",
        "run_chunks",
        "run_toys",
    ]
    code = (
        "import sys, hepcombine.toys; "
        "print(sorted(m for m in ('dask', 'distributed', 'matplotlib', 'iminuit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_prior_draw_follows_the_assumed_correlations():
    from toy_inputs import quadratic_combiner

    comb = quadratic_combiner(11)  # A:lumi ~ B:B_s0 ρ = 1, A:shape ~ B:B_s1 ρ = 0.5
    model = ToyModel(comb)
    sources = list(comb.sources)
    n = 8000
    lam = np.array([model.generate(item_rng(6, i)).nuisance_truth for i in range(n)])
    i, j = sources.index("A:lumi"), sources.index("B:B_s0")
    np.testing.assert_allclose(lam[:, i], lam[:, j], rtol=0, atol=1e-12)  # exactly the same
    expected = np.eye(len(sources))
    k, m = sources.index("A:shape"), sources.index("B:B_s1")
    expected[i, j] = expected[j, i] = 1.0
    expected[k, m] = expected[m, k] = 0.5
    assert np.max(np.abs(np.cov(lam, rowvar=False) - expected)) < 5 * np.sqrt(2 / n)


def test_anticorrelated_sources_and_quadratic_recombination():
    """ρ = −1 between the two measurements' sources: λ_B = −λ_A in every toy, and the toys of
    this quadratic combination still have unit pulls."""
    a = Measurement.from_uncertainties({"x": 10.0}, {"x": 0.5}, {"s": {"x": 1.0}}, name="A")
    b = Measurement.from_uncertainties({"x": 11.0}, {"x": 0.8}, {"s": {"x": -0.6}}, name="B")
    comb = Combiner([a, b], correlations={("A:s", "B:s"): -1.0})
    model = ToyModel(comb)
    lam = np.array([model.generate(item_rng(2, i)).nuisance_truth for i in range(200)])
    np.testing.assert_allclose(lam[:, 1], -lam[:, 0], rtol=0, atol=1e-12)
    res = run_toys(comb, 1500, seed=2)
    assert abs(res.pull_width["x"] - 1) < 3.5 * res.pull_width_error["x"]
    assert abs(res.bias["x"]) < 3.5 * res.bias_error["x"]

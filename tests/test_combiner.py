"""The χ² engine: equivalences, non-quadratic forms against χ² written out here, bad input."""

import math

import numpy as np
import pytest
from conftest import minimise_chi2, profile_interval
from iminuit import Minuit

from hepcombine import (
    Combiner,
    FitError,
    InvalidCorrelation,
    InvalidMeasurement,
    Measurement,
    UnknownName,
)


def quadratic_fit_measurement(name, x_true, k, sigma):
    """A 'fit' with one bin per estimate whose sources are not constrained by the data: its χ²
    is ‖(x + kλ − n)/σ‖² + λᵀλ. Returns the Hessian measurement and the orthogonal table
    derived from it by refitting with λ fixed at ±1 (iminuit)."""
    n_e, n_s = k.shape
    est = [f"{name}_x{i}" for i in range(n_e)]
    src = [f"{name}_s{j}" for j in range(n_s)]

    def fcn(p):
        x, lam = p[:n_e], p[n_e:]
        r = (x + k @ lam - x_true) / sigma
        return float(r @ r + lam @ lam)

    m = Minuit(fcn, np.concatenate([x_true, np.zeros(n_s)]), name=est + src)
    m.errordef = 1
    m.migrad()
    m.hesse()
    # exact Hessian of this quadratic χ² (½∂²): [[W, Wk], [kᵀW, kᵀWk + 1]]
    W = np.diag(1 / sigma**2)
    H = np.block([[W, W @ k], [k.T @ W, k.T @ W @ k + np.eye(n_s)]])
    hess = Measurement.from_hessian(
        H, est + src, dict(zip(est, m.values[:n_e], strict=True)), name=name
    )
    shifts = {}
    for j, s in enumerate(src):
        up_down = []
        for v in (+1.0, -1.0):
            for jj, ss in enumerate(src):
                m.values[ss] = v if jj == j else 0.0
                m.fixed[ss] = True
            m.migrad()
            up_down.append(np.array(m.values[:n_e]) - x_true)
        for ss in src:
            m.fixed[ss] = False
        shifts[s] = {e: (float(up_down[0][i]), float(up_down[1][i])) for i, e in enumerate(est)}
    table = Measurement.from_uncertainties(
        dict(zip(est, x_true, strict=True)), dict(zip(est, sigma, strict=True)), shifts, name=name
    )
    return hess, table


def test_hessian_and_orthogonal_table_give_the_same_combination():
    k = np.array([[2.0, -1.0], [1.5, 0.5]])
    x = np.array([100.0, 50.0])
    hess, table = quadratic_fit_measurement("A", x, k, np.array([3.0, 2.0]))
    # the refit shifts are the negated k (data fixed: x + kλ = n ⇒ x = n − kλ)
    assert table.shifts_up == pytest.approx(-k, abs=1e-4)
    assert hess.shifts_up == pytest.approx(-k, rel=1e-12)
    third = Measurement.from_uncertainties(
        {"B_x0": 103.0, "B_x1": 49.0},
        {"B_x0": 2.5, "B_x1": 1.5},
        {"B_s0": {"B_x0": -1.8, "B_x1": -1.2}, "B_s1": {"B_x0": 0.7, "B_x1": -0.4}},
        name="B",
    )
    obs = {"x0": ["A_x0", "B_x0"], "x1": ["A_x1", "B_x1"]}
    corr = {("A_s0", "B_s0"): 1.0, ("A_s1", "B_s1"): 1.0}
    r1 = Combiner([hess, third], obs, corr).combine()
    r2 = Combiner([table, third], obs, corr).combine()
    for o in obs:
        assert r1.values[o] == pytest.approx(r2.values[o], abs=1e-5 * r1.errors[o])
        assert r1.errors[o] == pytest.approx(r2.errors[o], rel=1e-5)
    # and the +1 correlation means "the same physical variation": combining with a copy of
    # the table whose sources are fully correlated gives back the table's own value
    same = Combiner(
        [table, table.named("C")],
        obs and {o: [f"A:{e}", f"C:{e}"] for o, e in zip(obs, ["A_x0", "A_x1"], strict=True)},
        {("A:A_s0", "C:A_s0"): 1.0, ("A:A_s1", "C:A_s1"): 1.0},
    ).combine()
    assert same.values["x0"] == pytest.approx(100.0, abs=1e-9)


def test_several_observables_and_spectators_against_closed_form_gls():
    rng = np.random.default_rng(5)
    a = Measurement.from_uncertainties(
        {"a1": 10.0, "a2": 20.0, "a3": 5.0},
        {"a1": 1.0, "a2": 1.5, "a3": 0.5},
        {"s": {"a1": 0.5, "a2": 1.0, "a3": 0.2}},
        stat_correlation=[[1, 0.3, 0], [0.3, 1, 0], [0, 0, 1]],
        name="A",
    )
    b = Measurement.from_uncertainties(
        {"b1": 11.0, "b2": 19.0}, {"b1": 0.8, "b2": 2.0}, {"t": {"b1": 0.4, "b2": -0.6}}, name="B"
    )
    res = Combiner([a, b], {"X": ["a1", "b1"], "Y": ["a2", "b2"]}, {("s", "t"): 0.5}).combine()
    assert res.spectators.keys() == {"A:a3"}
    # GLS with the total covariance of all five estimates
    y = np.array([10.0, 20.0, 5.0, 11.0, 19.0])
    stat = np.diag([1.0, 1.5, 0.5, 0.8, 2.0])
    rho = np.eye(5)
    rho[0, 1] = rho[1, 0] = 0.3
    u = np.array([0.5, 1.0, 0.2, 0.0, 0.0])
    v = np.array([0.0, 0.0, 0.0, 0.4, -0.6])
    cov = (
        stat @ rho @ stat
        + np.outer(u, u)
        + np.outer(v, v)
        + 0.5 * (np.outer(u, v) + np.outer(v, u))
    )
    A = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]], dtype=float)
    ci = np.linalg.inv(cov)
    V = np.linalg.inv(A.T @ ci @ A)
    x = V @ A.T @ ci @ y
    assert [res.values["X"], res.values["Y"], res.spectators["A:a3"][0]] == pytest.approx(
        x, rel=1e-12
    )
    assert res.covariance["X", "Y"] == pytest.approx(V[0, 1], rel=1e-10)
    assert res.correlation["X", "Y"] == pytest.approx(
        V[0, 1] / math.sqrt(V[0, 0] * V[1, 1]), rel=1e-10
    )
    assert res.chi2 == pytest.approx((y - A @ x) @ ci @ (y - A @ x), rel=1e-10)
    assert res.ndf == 2
    # breakdown adds up (quadratic case) including the cross-group term between s and t
    for o in ("X", "Y"):
        tot = sum(math.copysign(v[o] ** 2, v[o]) for v in res.breakdown.values())
        assert tot == pytest.approx(res.errors[o] ** 2, rel=1e-10)
    assert "correlations between groups" in res.breakdown
    del rng


def direct_chi2(inputs, corr, pearson):
    """χ² of orthogonal inputs written out (Convino's form): inputs are
    (x̂, σ_stat, {source: (up, down, relative)}); shared sources by name with correlation."""
    names = sorted({s for _, _, src in inputs for s in src})
    C = np.eye(len(names))
    for (a, b), r in corr.items():
        C[names.index(a), names.index(b)] = C[names.index(b), names.index(a)] = r
    Ci = np.linalg.inv(C)

    def chi2(p):
        x, lam = p[0], p[1:]
        total = lam @ Ci @ lam
        for xh, st, src in inputs:
            f, a = 1.0, 0.0
            for s, (up, down, rel) in src.items():
                l = lam[names.index(s)]
                shift = up * l if l >= 0 else -down * l
                if rel:
                    f *= 1 - shift / xh
                else:
                    a += shift
            X = x * f - a
            w = xh / X if pearson else 1.0
            total += w * (X - xh) ** 2 / st**2
        return total

    return chi2, names


def written_minimum_and_interval(inputs, corr, pearson, start, reach):
    """Minimum of the written χ² and the Δχ² = 1 crossings of its profile (scipy, conftest)."""
    chi2, names = direct_chi2(inputs, corr, pearson)
    best = minimise_chi2(chi2, np.concatenate([[start], np.zeros(len(names))]))
    lo, hi = profile_interval(chi2, best, 0, reach)
    return best, lo, hi


@pytest.mark.parametrize("minimiser", ["newton", "minuit"])
@pytest.mark.parametrize("pearson", [False, True])
def test_relative_and_asymmetric_sources_minimise_the_written_chi2(pearson, minimiser):
    inputs = [
        (100.0, 4.0, {"lumiA": (3.0, -3.0, True), "jesA": (2.5, -1.0, False)}),
        (108.0, 5.0, {"lumiB": (4.0, -4.0, True), "jesB": (1.5, -3.0, False)}),
    ]
    corr = {("lumiA", "lumiB"): 0.6, ("jesA", "jesB"): 0.3}
    ms = []
    for i, (xh, st, src) in enumerate(inputs):
        ms.append(
            Measurement.from_uncertainties(
                {"x": xh},
                {"x": st},
                {s: {"x": (up, down)} for s, (up, down, _) in src.items()},
                relative=[s for s, v in src.items() if v[2]],
                name=f"m{i}",
            )
        )
    res = Combiner(
        ms, correlations=corr, chi2="pearson" if pearson else "neyman", minimiser=minimiser
    ).combine()
    best, lo, hi = written_minimum_and_interval(inputs, corr, pearson, start=104.0, reach=30)
    assert res.chi2 == pytest.approx(best.fun, abs=1e-6)
    assert res.values["x"] == pytest.approx(best.x[0], abs=1e-4)
    got = res.interval("x")
    assert got[0] == pytest.approx(lo, abs=2e-3)
    assert got[1] == pytest.approx(hi, abs=2e-3)
    assert res.interval_status["x"] == {"newton": "profile", "minuit": "minos"}[minimiser]


def test_smooth_asymmetry_option_is_differentiable_and_matches_linear_for_symmetric():
    m1 = Measurement.from_uncertainties(
        {"x": 10.0}, {"x": 1.0}, {"s": {"x": (1.0, -1.0)}}, name="a"
    )
    m2 = Measurement.from_uncertainties(
        {"x": 11.0}, {"x": 1.0}, {"t": {"x": (0.5, -0.5)}}, name="b"
    )
    r1 = Combiner([m1, m2], asymmetry="smooth").combine()
    r2 = Combiner([m1, m2]).combine()
    assert r1.values["x"] == pytest.approx(r2.values["x"], rel=1e-12)
    m3 = Measurement.from_uncertainties(
        {"x": 11.0}, {"x": 1.0}, {"t": {"x": (1.5, -0.5)}}, name="c"
    )
    r3 = Combiner([m1, m3], asymmetry="smooth").combine()
    assert r3.interval_status["x"] == "profile"
    assert Combiner([m1, m3], asymmetry="smooth", minimiser="minuit").combine().interval(
        "x"
    ) == pytest.approx(r3.interval("x"), abs=1e-4)  # Minos: ~1e-5 relative


def test_analytic_gradient_and_hessian_match_finite_differences():
    from hepcombine.combiner import Combiner as C

    ms = [
        Measurement.from_uncertainties(
            {"x": 100.0, "y": 50.0},
            {"x": 4.0, "y": 3.0},
            {"r": {"x": (3.0, -2.0), "y": (1.0, -1.5)}, "j": {"x": (2.0, -1.0), "y": 0.5}},
            relative=["r"],
            name="a",
        ),
        Measurement.from_uncertainties(
            {"x": 105.0, "y": 47.0},
            {"x": 5.0, "y": 2.0},
            {"r2": {"x": 4.0, "y": 2.0}, "k": {"x": (1.0, 0.5)}},
            relative=["r2"],
            name="b",
        ),
    ]
    for asym in ("convino", "smooth"):
        comb = C(
            ms, correlations={("r", "r2"): 0.7, ("j", "k"): -0.4}, chi2="pearson", asymmetry=asym
        )
        factor = comb._factor()
        model = comb._model(factor)
        theta = np.array([101.0, 49.0, 0.3, -0.7, 0.4, 1.3])
        assert len(theta) == model.npar
        eps = 1e-6
        g = model.grad(theta)
        h = model.hessian(theta)
        for i in range(len(theta)):
            e = np.zeros(len(theta))
            e[i] = eps
            assert g[i] == pytest.approx(
                (model(theta + e) - model(theta - e)) / (2 * eps), rel=1e-5, abs=1e-6
            )
            gi = (model.grad(theta + e) - model.grad(theta - e)) / (2 * eps)
            assert h[i] == pytest.approx(gi, rel=1e-5, abs=1e-5)


# ---------------------------------------------------------------------- bad input
def simple(name, src="s"):
    return Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, {src: {"x": 0.1}}, name=name)


def test_indefinite_correlation_assumption_names_sources():
    ms = [simple("a", "s1"), simple("b", "s2"), simple("c", "s3")]
    corr = {("s1", "s2"): 0.99, ("s2", "s3"): 0.5, ("s1", "s3"): 0.0}
    with pytest.raises(
        InvalidCorrelation,
        match=r"not positive semi-definite.*a:s1.*b:s2.*c:s3|not positive semi-definite.*b:s2",
    ):
        Combiner(ms, correlations=corr).combine()
    # a case with two negative eigenvalues (det > 0: Convino's determinant test misses it)
    ms4 = [simple(n, f"s{n}") for n in "abcd"]
    c4 = {
        ("sa", "sb"): -0.9,
        ("sa", "sc"): -0.9,
        ("sa", "sd"): 0.0,
        ("sb", "sc"): 0.0,
        ("sb", "sd"): -0.9,
        ("sc", "sd"): 0.9,
    }
    mat = np.eye(4)
    idx = {"sa": 0, "sb": 1, "sc": 2, "sd": 3}
    for (p, q), r in c4.items():
        mat[idx[p], idx[q]] = mat[idx[q], idx[p]] = r
    assert np.linalg.det(mat) > 0 and np.sum(np.linalg.eigvalsh(mat) < 0) == 2
    with pytest.raises(InvalidCorrelation):
        Combiner(ms4, correlations=c4).combine()
    # opt-in repair: reported, result is valid
    res = Combiner(ms, correlations=corr, repair=True).combine()
    assert res.correlation_repairs
    assert np.all(np.linalg.eigvalsh(res.correlation_assumptions.matrix) > -1e-12)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(InvalidMeasurement, match="NaN"):
        Measurement.from_uncertainties({"x": float("nan")}, {"x": 0.1})
    with pytest.raises(InvalidMeasurement, match="NaN"):
        Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, {"s": {"x": float("nan")}})
    with pytest.raises(InvalidMeasurement, match="positive"):
        Measurement.from_uncertainties({"x": 1.0}, {"x": 0.0})
    with pytest.raises(InvalidMeasurement, match="not positive definite.*'x'"):
        Measurement.from_hessian([[1.0, 2.0], [2.0, 1.0]], ["x", "s"], {"x": 1.0}, name="m")
    with pytest.raises(InvalidMeasurement, match="not symmetric"):
        Measurement.from_hessian([[1.0, 0.2], [0.1, 1.0]], ["x", "s"], {"x": 1.0})
    with pytest.raises(InvalidMeasurement, match="unknown estimate 'y'"):
        Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, {"s": {"y": 0.1}})
    with pytest.raises(InvalidMeasurement, match="nuisance values given for"):
        Measurement.from_hessian(np.eye(2), ["x", "s"], {"x": 1.0}, nuisance_values={"t": 0.1})
    ms = [simple("a"), simple("b")]
    with pytest.raises(UnknownName, match="ambiguous.*a:s.*b:s"):
        Combiner(ms, correlations={("s", "b:s"): 0.5})
    with pytest.raises(UnknownName, match="unknown source 'nope'"):
        Combiner(ms, correlations={("nope", "b:s"): 0.5})
    with pytest.raises(UnknownName, match="estimate 'z'"):
        Combiner(ms, observables={"X": ["a:x", "z"]})
    with pytest.raises(InvalidCorrelation, match="outside"):
        Combiner(ms, correlations={("a:s", "b:s"): 1.5})
    with pytest.raises(InvalidCorrelation, match="outside"):
        Combiner(ms, correlations={("a:s", "b:s"): float("nan")})
    with pytest.raises(InvalidMeasurement, match="no name"):
        Combiner([Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1})])
    with pytest.raises(InvalidMeasurement, match="mapped to both"):
        Combiner(ms, observables={"X": ["a:x"], "Y": ["a:x", "b:x"]})
    with pytest.raises(InvalidMeasurement, match="Pearson.*positive"):
        Combiner(
            [Measurement.from_uncertainties({"x": -1.0}, {"x": 0.1}, name="n")], chi2="pearson"
        )


def test_undetermined_combination_is_a_fit_error(caplog):
    m = Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, name="a")
    res = Combiner([m]).combine()
    assert res.values["x"] == 1.0 and res.ndf == 0 and math.isnan(res.pvalue)
    # Hessians claiming the data *loosen* a source beyond its unit prior (S = 0.4 < 1: such a
    # Hessian lacks the prior), shared with ρ = 1: the χ² has no minimum in that source
    u = 0.5
    S = 0.4
    h = np.array([[1.0, -u], [-u, S + u * u]])
    a = Measurement.from_hessian(h, ["x", "s"], {"x": 1.0}, name="a")
    assert "prior" in caplog.text and "'s'" in caplog.text
    b = Measurement.from_hessian(h, ["x", "s"], {"x": 1.2}, name="b")
    with pytest.raises(FitError, match="not positive definite|singular"):
        Combiner([a, b], correlations={("a:s", "b:s"): 1.0}).combine()


def test_result_reprs_and_minuit():
    res = Combiner([simple("a"), simple("b")], correlations={("a:s", "b:s"): 1.0}).combine()
    assert "x = 1.00 ± " in repr(res)  # PDG-rounded: two decimals for an error of 0.1…0.35
    assert "<table>" in res._repr_html_()
    m = res.minuit
    assert m.valid
    assert m.values["x"] == pytest.approx(res.values["x"])
    assert m.errors["x"] == pytest.approx(res.errors["x"], rel=1e-6)


def test_hessian_plus_orthogonal_source_and_correlation_matrix_form():
    """A fitted measurement (one estimate, one fitted source) plus an extra orthogonal source:
    its total variance is (H⁻¹)_xx + u²; combined with an uncorrelated table, GLS in closed form.
    The same fit given as correlation matrix + constraints is the same measurement."""
    h = np.array([[0.05, 0.1], [0.1, 1.6]])  # (x, s)
    fitted = Measurement.from_hessian(h, ["x", "s"], {"x": 10.0}, name="A")
    a = fitted.with_uncertainties({"extra": {"x": 1.5}})
    b = Measurement.from_uncertainties({"x": 12.0}, {"x": 3.0}, name="B")
    res = Combiner([a, b]).combine()
    var_a = np.linalg.inv(h)[0, 0] + 1.5**2
    w = np.array([1 / var_a, 1 / 9.0])
    assert res.values["x"] == pytest.approx((w @ [10.0, 12.0]) / w.sum(), rel=1e-12)
    assert res.errors["x"] == pytest.approx(math.sqrt(1 / w.sum()), rel=1e-12)
    cov = np.linalg.inv(h)
    sig = np.sqrt(np.diag(cov))
    from_corr = Measurement.from_correlation_matrix(
        cov / np.outer(sig, sig), {"x": sig[0], "s": sig[1]}, ["x", "s"], {"x": 10.0}
    )
    assert from_corr.stat_information == pytest.approx(fitted.stat_information, rel=1e-12)
    assert from_corr.shifts_up == pytest.approx(fitted.shifts_up, rel=1e-12)
    assert from_corr.source_information == pytest.approx(
        fitted.source_information, rel=1e-10, abs=1e-12
    )


def test_non_quadratic_result_exposes_its_minuit():
    m1 = Measurement.from_uncertainties(
        {"x": 10.0}, {"x": 1.0}, {"s": {"x": (1.0, -0.5)}}, name="a"
    )
    m2 = Measurement.from_uncertainties({"x": 11.0}, {"x": 1.0}, name="b")
    res = Combiner([m1, m2], chi2="pearson").combine()
    m = res.minuit
    assert m.valid
    assert m.values["x"] == pytest.approx(res.values["x"], rel=1e-9)
    m.minos("x")
    # Minos's own precision is ~1e-4 relative at its default tolerance
    assert m.merrors["x"].lower == pytest.approx(res.interval("x")[0] - res.values["x"], rel=1e-4)
    assert m.ndof == 1  # ndata: the estimates and the sources' priors
    assert res.edm < 1e-14


@pytest.mark.parametrize("minimiser", ["newton", "minuit"])
def test_profile_minimum_on_a_kink(caplog, minimiser):
    """Convino's kinked asymmetric source can leave the profiled minimum on the kink, where
    Minos fails (minuit route: the missing limit is found by the root search of the profiled
    χ², reported as such) and the Venzon–Moolgavkar iteration cannot converge (default: the
    root search, reported). Both must agree with the profile of the χ² written out here."""
    inputs = [
        (
            245.0,
            5.0,
            {"jesA": (2.554519349905405, -2.554519349905405, False), "lumi": (6.0, -6.0, True)},
        ),
        (
            238.0,
            4.0,
            {"jesB": (3.1323322306713424, -4.641003893088278, False), "lumi": (6.0, -6.0, True)},
        ),
    ]
    corr = {("jesA", "jesB"): 0.5}  # the written χ² shares one λ for "lumi"
    ms = [
        Measurement.from_uncertainties(
            {"xs": xh},
            {"xs": st},
            {s: {"xs": (u, d)} for s, (u, d, _) in src.items()},
            relative=[s for s, v in src.items() if v[2]],
            name=f"m{i}",
        )
        for i, (xh, st, src) in enumerate(inputs)
    ]
    res = Combiner(
        ms,
        correlations={("m0:lumi", "m1:lumi"): 1.0, ("jesA", "jesB"): 0.5},
        chi2="pearson",
        minimiser=minimiser,
    ).combine()
    if minimiser == "minuit":
        assert res.interval_status["xs"].startswith("profile scan (Minos failed")
        assert "Minos failed" in caplog.text
    else:
        assert res.interval_status["xs"] in ("profile", "profile scan")
    # independent: the written χ² (one λ for the shared luminosity), profiled with
    # Nelder–Mead, and its Δχ² = 1 crossings
    best, lo, hi = written_minimum_and_interval(inputs, corr, True, start=241.0, reach=20)
    assert res.values["xs"] == pytest.approx(best.x[0], abs=1e-3)
    assert res.interval("xs") == pytest.approx((lo, hi), abs=5e-3)

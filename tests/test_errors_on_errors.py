"""Errors on errors (gamma variance model): the χ² terms, the combination against a likelihood
written out here and minimised and profiled with scipy, the Bartlett factors against the mean
of the statistics over pseudo-experiments of the model, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from hepcombine import Combiner, InvalidArgument, InvalidCorrelation, Measurement, UnknownName
from hepcombine.chi2 import CombinedChi2, GammaConstraint, MeasurementBlock
from hepcombine.errors_on_errors import ErrorOnError


def gvm(q, n, eps):
    """(N + 1/(2ε²)) ln(1 + 2ε²Q), written out (ε > 0), Q for ε = 0."""
    if eps == 0:
        return q
    return (n + 1 / (2 * eps**2)) * math.log1p(2 * eps**2 * q)


# --------------------------------------------------------------------------- the χ² term
def block(rng, n_e=3, n_s=4, rel=False, asym=False):
    up = rng.normal(0, 0.5, (n_e, n_s))
    down = -up * (rng.uniform(0.6, 1.4, (n_e, n_s)) if asym else 1.0)
    return MeasurementBlock(
        x_hat=rng.normal(10, 1, n_e),
        M=np.diag(1 / rng.uniform(0.5, 1, n_e) ** 2),
        up=up,
        down=down,
        D=np.zeros((n_s, n_s)),
        lam_hat=np.zeros(n_s),
        rel=np.array([rel] + [False] * (n_s - 1)),
        asym=np.array([asym] + [False] * (n_s - 1)) if asym else np.zeros(n_s, bool),
        param=np.zeros(n_e, dtype=np.intp),
        src=np.arange(n_s),
    )


def test_term_is_the_gamma_variance_likelihood_and_gaussian_at_zero():
    rng = np.random.default_rng(1)
    b = block(rng)
    L = np.eye(4)
    theta = np.concatenate([[10.0], rng.normal(0, 2, 4)])
    lam = theta[1:]
    plain = CombinedChi2([b], 1, L)
    for eps in (0.05, 0.3, 1.0, 3.0):
        terms = [GammaConstraint(np.eye(4)[:, [0, 2]], eps)]
        m = CombinedChi2([b], 1, L, constraints=terms)
        want = plain(theta) - lam[0] ** 2 - lam[2] ** 2 + gvm(lam[0] ** 2 + lam[2] ** 2, 2, eps)
        assert m(theta) == pytest.approx(want, rel=1e-13)
        assert not m.is_quadratic and not m.is_piecewise_quadratic
    # ε = 0 is the Gaussian term exactly; tiny ε converges to it without cancellation
    zero = CombinedChi2([b], 1, L, constraints=[GammaConstraint(np.eye(4)[:, :2], 0.0)])
    assert zero(theta) == plain(theta)
    np.testing.assert_array_equal(zero.grad(theta), plain.grad(theta))
    np.testing.assert_array_equal(zero.hessian(theta), plain.hessian(theta))
    tiny = CombinedChi2([b], 1, L, constraints=[GammaConstraint(np.eye(4)[:, :2], 1e-9)])
    assert tiny(theta) == pytest.approx(plain(theta), rel=1e-12)
    at_zero = np.concatenate([[10.0], np.zeros(4)])
    assert np.isfinite(tiny.hessian(at_zero)).all()


@pytest.mark.parametrize("seed", range(6))
def test_gradient_and_hessian_against_finite_differences(seed):
    rng = np.random.default_rng(seed)
    b = block(rng, rel=seed % 2 == 1, asym=False)
    # correlated sources: λ = L η with a random factor; terms on rotated directions too
    C = np.array([[1, 0.6, 0, 0], [0.6, 1, 0, 0], [0, 0, 1, -1], [0, 0, -1, 1.0]])
    w, v = np.linalg.eigh(C)
    keep = w > 1e-9
    L = v[:, keep] * np.sqrt(w[keep])
    r = L.shape[1]
    Q = np.linalg.qr(rng.normal(size=(r, r)))[0]
    terms = [GammaConstraint(Q[:, :2], 0.4), GammaConstraint(Q[:, 2:], 0.9)]
    m = CombinedChi2([b], 1, L, pearson=seed % 3 == 0, constraints=terms)
    theta = np.concatenate([[10.0], rng.normal(0, 2.5, r)])
    _, g, H = m.evaluate(theta, 2)
    h = 1e-6
    e = np.eye(len(theta))
    g_num = np.array([(m(theta + h * d) - m(theta - h * d)) / (2 * h) for d in e])
    H_num = np.array([(m.grad(theta + h * d) - m.grad(theta - h * d)) / (2 * h) for d in e])
    np.testing.assert_allclose(g, g_num, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(H, H_num, rtol=1e-5, atol=1e-5)
    # the Gauss–Newton Hessian (the Fisher information of the Bartlett factors) is positive
    # definite even far out, where the term's own Hessian is not
    assert np.linalg.eigvalsh(m.gauss_newton_hessian(theta)).min() > 0
    # rotating η rotates the terms with it: the same χ²
    R = np.linalg.qr(rng.normal(size=(r, r)))[0]
    rot = m.rotated(R)
    theta_r = np.concatenate([theta[:1], R.T @ theta[1:]])
    assert rot(theta_r) == pytest.approx(m(theta), rel=1e-12)


# --------------------------------------------------------------------------- against scipy
def _starts(x0, far):
    """Starting points for a χ² with errors on errors: the point itself and, for every
    nuisance parameter ``far`` of a term, that parameter far out on either side (where the
    flattened term lets an outlier pull it: the far branch)."""
    out = [np.array(x0, dtype=float)]
    for j in far:
        for far_out in (-5.0, 5.0):
            x = np.array(x0, dtype=float)
            x[j] = far_out
            out.append(x)
    return out


def _scipy_fit(chi2, start, far):
    """The global minimum of a χ² written out here: BFGS from every start of :func:`_starts`,
    the best polished by Nelder–Mead."""
    best = None
    for x0 in _starts(start, far):
        r = minimize(chi2, x0, method="BFGS", options={"gtol": 1e-10})
        if best is None or r.fun < best.fun:
            best = r
    opts = {"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20000}
    polished = minimize(chi2, best.x, method="Nelder-Mead", options=opts)
    return polished if polished.fun < best.fun else best


def _profile(chi2, best, index, x, far):
    """The profiled χ² at parameter ``index`` = x, the lowest over the starts of
    :func:`_starts` (all branches)."""

    def g(q):
        return chi2(np.insert(q, index, x))

    base = np.delete(best.x, index)
    shifted = [j - (j > index) for j in far]
    return min(
        minimize(g, s, method="BFGS", options={"gtol": 1e-10}).fun for s in _starts(base, shifted)
    )


def _assert_interval(chi2, best, index, level, interval, sigma, far):
    """``interval`` is the connected Δχ² < level region around the minimum of the written χ²:
    the profile crosses the level within 1e-5 σ of each end and stays below it inside."""
    x0 = best.x[index]
    for end in interval:
        for t in np.linspace(0.1, 0.97, 6):
            assert _profile(chi2, best, index, x0 + t * (end - x0), far) - best.fun < level
        d = 1e-5 * sigma * np.sign(end - x0)
        assert _profile(chi2, best, index, end - d, far) - best.fun < level
        assert _profile(chi2, best, index, end + d, far) - best.fun > level


def orthogonal_case(eps, kind):
    """Four measurements of x (one an outlier); 'model' in each, ATLAS/CMS 'model' correlated
    with ρ = 0.5, C/D with ρ = 1 (one nuisance parameter); 'det' uncorrelated. Returns the
    combiner and the χ² written out (parameters x, λ_A, λ_B, λ_CD, d_A … d_D)."""
    y = np.array([10.0, 10.6, 12.9, 9.7])
    stat = np.array([0.5, 0.6, 0.7, 0.5])
    model = np.array([0.8, 0.7, 0.9, 0.6])
    det = np.array([0.3, 0.4, 0.2, 0.3])
    names = "ABCD"
    ms = {
        n: Measurement.from_uncertainties(
            {"x": y[i]}, {"x": stat[i]}, {"model": {"x": model[i]}, "det": {"x": det[i]}}
        )
        for i, n in enumerate(names)
    }
    rho = {("A:model", "B:model"): 0.5, ("C:model", "D:model"): 1.0}
    # dependent: all four 'model', N = 3 (the ρ = 1 pair is one parameter); independent: one
    # term per measurement's 'det'
    eoe = {"model": eps} if kind == "dependent" else {"det": (eps, "independent")}
    comb = Combiner(ms, correlations=rho, errors_on_errors=eoe)
    Cab = np.array([[1, 0.5], [0.5, 1]])

    def chi2(p):
        x, la, lb, lcd = p[:4]
        d = p[4:]
        lam = np.array([la, lb, lcd, lcd])
        pred = x - model * lam - det * d
        c = float(np.sum(((y - pred) / stat) ** 2))
        q_model = float(np.array([la, lb]) @ np.linalg.solve(Cab, [la, lb]) + lcd**2)
        if kind == "dependent":
            c += gvm(q_model, 3, eps) + float(d @ d)
        else:
            c += q_model + sum(gvm(di * di, 1, eps) for di in d)
        return c

    far = [1, 2, 3] if kind == "dependent" else [4, 5, 6, 7]
    return comb, chi2, np.r_[y.mean(), np.zeros(7)], far


def hessian_case(eps, kind):
    """Two Hessian measurements of x (each with its own sources in the original fit) and one
    orthogonal; errors on errors on the sources of the Hessian inputs (on their priors)."""
    rng = np.random.default_rng(7)
    meas = {}
    parts = []
    for name, xhat, s in (("H1", 5.0, 0.3), ("H2", 5.9, 0.4)):
        k = rng.normal(0, 0.6, 2)
        # the original fit: χ² = ((x + k·λ − n)/σ)² + λᵀλ + a data constraint on λ
        D = np.diag(rng.uniform(0.2, 0.8, 2))
        H = np.block(
            [
                [np.array([[1 / s**2]]), (k / s**2)[None, :]],
                [(k / s**2)[:, None], np.outer(k, k) / s**2 + np.eye(2) + D],
            ]
        )
        meas[name] = Measurement.from_hessian(H, ["x", "a", "b"], {"x": xhat})
        parts.append((xhat, H))
    meas["O"] = Measurement.from_uncertainties({"x": 5.2}, {"x": 0.5}, {"a": {"x": 0.4}})
    rho = {("H1:a", "H2:a"): 0.7}
    # dependent: H1:a, H2:a and O:a (uncorrelated with them, in the same group all the same)
    eoe = {"a": eps} if kind == "dependent" else {"b": (eps, "independent")}
    comb = Combiner(meas, correlations=rho, errors_on_errors=eoe)
    C = np.array([[1, 0.7, 0], [0.7, 1, 0], [0, 0, 1.0]])

    def chi2(p):
        x, a1, b1, a2, b2, ao = p
        c = 0.0
        for (xhat, H), (a, b) in zip(parts, ((a1, b1), (a2, b2)), strict=True):
            t = np.array([x - xhat, a, b])
            c += float(t @ H @ t) - a * a - b * b
        c += ((5.2 - (x - 0.4 * ao)) / 0.5) ** 2
        lam_a = np.array([a1, a2, ao])
        qa = float(lam_a @ np.linalg.solve(C, lam_a))
        if kind == "dependent":
            c += gvm(qa, 3, eps) + b1 * b1 + b2 * b2
        else:
            c += qa + gvm(b1 * b1, 1, eps) + gvm(b2 * b2, 1, eps)
        return c

    far = [1, 3, 5] if kind == "dependent" else [2, 4]
    return comb, chi2, np.r_[5.4, np.zeros(5)], far


def differential_case(eps, kind):
    """Two measurements of a 3-bin distribution, bin by bin; a luminosity shared with ρ = 1
    (dependent: one parameter, N = 1) and a shape source each (independent)."""
    y1 = np.array([20.0, 12.0, 5.0])
    y2 = np.array([21.5, 11.0, 5.6])
    s1 = np.array([0.8, 0.6, 0.4])
    s2 = np.array([0.9, 0.5, 0.4])
    lumi1, lumi2 = 0.02 * y1, 0.025 * y2
    shape1 = np.array([0.6, -0.1, -0.3])
    shape2 = np.array([-0.5, 0.3, 0.2])
    bins = ["b0", "b1", "b2"]

    def m(y, s, lumi, shape):
        return Measurement.from_uncertainties(
            dict(zip(bins, y, strict=True)),
            dict(zip(bins, s, strict=True)),
            {
                "lumi": dict(zip(bins, lumi, strict=True)),
                "shape": dict(zip(bins, shape, strict=True)),
            },
        )

    ms = {"m1": m(y1, s1, lumi1, shape1), "m2": m(y2, s2, lumi2, shape2)}
    eoe = {"lumi": eps} if kind == "dependent" else {"shape": (eps, "independent")}
    comb = Combiner(ms, correlations={("m1:lumi", "m2:lumi"): 1.0}, errors_on_errors=eoe)

    def chi2(p):
        x = p[:3]
        lum, sh1, sh2 = p[3:]
        c = float(np.sum(((y1 - (x - lumi1 * lum - shape1 * sh1)) / s1) ** 2))
        c += float(np.sum(((y2 - (x - lumi2 * lum - shape2 * sh2)) / s2) ** 2))
        if kind == "dependent":
            c += gvm(lum * lum, 1, eps) + sh1 * sh1 + sh2 * sh2
        else:
            c += lum * lum + gvm(sh1 * sh1, 1, eps) + gvm(sh2 * sh2, 1, eps)
        return c

    far = [3] if kind == "dependent" else [4, 5]
    return comb, chi2, np.r_[(y1 + y2) / 2, np.zeros(3)], far


CASES = {"orthogonal": orthogonal_case, "hessian": hessian_case, "differential": differential_case}


@pytest.mark.parametrize("form", list(CASES))
@pytest.mark.parametrize("kind", ["dependent", "independent"])
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3, 0.6, 1.0])
def test_minimum_against_scipy(form, kind, eps):
    comb, chi2, start, far = CASES[form](eps, kind)
    res = comb.combine()
    best = _scipy_fit(chi2, start, far)
    assert res.chi2 == pytest.approx(best.fun, abs=1e-7)
    for i, o in enumerate(res.observables):
        assert res.values[o] == pytest.approx(best.x[i], abs=1e-6 * res.errors[o])
    assert bool(res.errors_on_errors) and res.errors_on_errors[0].eps == eps
    if eps == 0:
        assert res.method == "linear solve" and res.bartlett is None


@pytest.mark.parametrize("form", list(CASES))
@pytest.mark.parametrize("kind", ["dependent", "independent"])
@pytest.mark.parametrize("eps", [0.3, 1.0])
def test_intervals_against_scipy_profile(form, kind, eps):
    comb, chi2, start, far = CASES[form](eps, kind)
    best = _scipy_fit(chi2, start, far)
    res = comb.combine()
    o = res.observables[0]
    _assert_interval(chi2, best, 0, 1.0, res.interval(o), res.errors[o], far)
    if eps < 1.0:
        return
    # Bartlett-corrected: at Δχ² = b
    corr = Combiner(**_arguments(comb), bartlett=True).combine()
    b = corr.bartlett.profile[o]
    assert corr.interval_levels[o] == b and b > 1.0
    _assert_interval(chi2, best, 0, b, corr.interval(o), res.errors[o], far)
    assert corr.bartlett.goodness_of_fit == pytest.approx(res.chi2 * res.ndf / corr.bartlett.chi2)


def _arguments(comb):
    s = comb.sources
    return {
        "measurements": comb.measurements,
        "observables": {
            o: [
                f"{m}:{e}"
                for m, meas in comb.measurements.items()
                for e in meas.estimate_names
                if e == o
            ]
            for o in comb.observables
        },
        "correlations": {(s[i], s[j]): r for (i, j), r in comb.correlations.items()},
        "errors_on_errors": comb.errors_on_errors,
    }


def test_variance_factor_and_pull_of_an_outlier():
    """The fitted variance factor ŝ = (1 + 2ε²Q)/(1 + 2Nε²) of the 'model' group, Q from its
    pulls and assumed correlations (ρ = 0.5 for A, B; C and D one parameter)."""
    res = orthogonal_case(0.6, "dependent")[0].combine()
    (term,) = res.errors_on_errors
    assert term.n == 3 and term.sources == ("A:model", "B:model", "C:model", "D:model")
    lam = np.array([res.pulls["A:model"], res.pulls["B:model"]])
    q = float(lam @ np.linalg.solve([[1, 0.5], [0.5, 1]], lam)) + res.pulls["C:model"] ** 2
    assert res.pulls["C:model"] == res.pulls["D:model"]
    assert term.variance_factor == pytest.approx((1 + 2 * 0.36 * q) / (1 + 2 * 3 * 0.36))


# --------------------------------------------------------------------------- Bartlett factors
def test_bartlett_factors_against_the_mean_over_pseudo_experiments():
    """E[q] of the profile statistic of μ and E[χ²_min] over pseudo-experiments of the gamma
    variance model itself (measurements, global observables u ~ N(θ, s) and variance
    estimates v ~ Γ(α, α/s), α = 1/(4ε²), all drawn), against the factors computed from the
    Fisher information at the minimum of the nominal data set."""
    eps = 0.4
    alpha = 1 / (4 * eps**2)
    stat = np.array([0.3, 0.25, 0.35, 0.3])  # systematics dominate: b − 1 is large
    sig = np.array([1.0, 0.7, 1.3, 0.5])  # one dependent group, uncorrelated: N = 4
    n = len(stat)
    ms = {
        f"m{i}": Measurement.from_uncertainties({"mu": 0.0}, {"mu": stat[i]}, {"s": {"mu": sig[i]}})
        for i in range(n)
    }
    res = Combiner(ms, errors_on_errors={"s": eps}).combine()
    b_prof, b_chi2 = res.bartlett.profile["mu"], res.bartlett.chi2

    def nll(p, y, u, v):
        mu, th = p[0], p[1:]
        r = (y - mu - sig * th) / stat
        q = float(np.sum((u - th) ** 2))
        return float(r @ r) + (n + 2 * alpha) * math.log1p(q / (2 * alpha * v))

    rng = np.random.default_rng(11)
    qs, chis = [], []
    for _ in range(1200):
        # truth μ = 0, θ = 0, s = 1: the measurements, the global observables and the
        # estimate of the variance factor are drawn
        y = rng.normal(0.0, stat)
        u = rng.normal(0.0, 1.0, n)
        v = rng.gamma(alpha, 1 / alpha)
        start = np.r_[0.0, np.zeros(n)]
        free = minimize(nll, start, args=(y, u, v), method="BFGS", options={"gtol": 1e-9})
        fixed = minimize(
            lambda t, *a: nll(np.r_[0.0, t], *a),
            free.x[1:],
            args=(y, u, v),
            method="BFGS",
            options={"gtol": 1e-9},
        )
        qs.append(fixed.fun - free.fun)
        # χ²_min relative to the saturated fit: each y exactly, θ at u, so the terms vanish
        chis.append(free.fun)
    qs, chis = np.array(qs), np.array(chis)
    mean_q, se_q = qs.mean(), qs.std() / math.sqrt(len(qs))
    mean_c, se_c = chis.mean(), chis.std() / math.sqrt(len(chis))
    ndf = n - 1
    # the uncorrected asymptotic values are rejected …
    assert abs(mean_c - ndf) > 5 * se_c and abs(mean_q - 1) > 5 * se_q
    # … the factors (first order in ε²) describe the means (measured: 1.462 against
    # 1.375 ± 0.058 and 5.69 against 5.64 ± 0.14)
    assert b_prof == pytest.approx(mean_q, abs=3 * se_q + 0.25 * (b_prof - 1))
    assert b_chi2 == pytest.approx(mean_c, abs=3 * se_c + 0.25 * (b_chi2 - ndf))


def test_bartlett_closed_form_of_a_gamma_scale():
    """For q of all N directions of one group and nothing else, the first-order factor is
    N(1 + (N + 2)ε²), the leading term of the exact (N + 2α)[ψ(α + N/2) − ψ(α)]."""
    from scipy.special import digamma

    for n in (1, 3, 6):
        for eps in (0.02, 0.05):
            a = 1 / (4 * eps**2)
            exact = (n + 2 * a) * (digamma(a + n / 2) - digamma(a))
            first = n * (1 + (n + 2) * eps**2)
            assert first == pytest.approx(exact, rel=4 * eps**4 * n * n)


# --------------------------------------------------------------------------- bad input
def two():
    return {
        "A": Measurement.from_uncertainties(
            {"x": 1.0}, {"x": 0.1}, {"lumi": {"x": 0.05}, "jes": {"x": 0.1}}
        ),
        "B": Measurement.from_uncertainties(
            {"x": 1.1}, {"x": 0.1}, {"lumi": {"x": 0.04}, "jes": {"x": 0.1}}
        ),
    }


@pytest.mark.parametrize(
    "bad", [-0.1, math.nan, math.inf, "0.3", True, None, (0.3, "both"), {"eps": 0.2, "typo": 1}]
)
def test_bad_eps(bad):
    with pytest.raises(InvalidArgument, match="lumi"):
        Combiner(two(), errors_on_errors={"lumi": bad})


def test_unknown_source_says_did_you_mean():
    with pytest.raises(UnknownName, match="did you mean 'lumi'"):
        Combiner(two(), errors_on_errors={"lumo": 0.2})
    with pytest.raises(UnknownName, match="matches no source"):
        Combiner(two(), errors_on_errors={"pdf*": 0.2})


def test_source_named_twice():
    with pytest.raises(InvalidArgument, match="twice"):
        Combiner(two(), errors_on_errors={"lumi": 0.2, "A:lumi": 0.3})


def test_dependent_needs_the_whole_correlated_group():
    comb = Combiner(
        two(), correlations={("A:lumi", "B:lumi"): 0.8}, errors_on_errors={"A:lumi": 0.3}
    )
    with pytest.raises(InvalidCorrelation, match=r"A:lumi is correlated with B:lumi \(ρ = 0.8\)"):
        comb.combine()
    # naming both works
    Combiner(
        two(), correlations={("A:lumi", "B:lumi"): 0.8}, errors_on_errors={"lumi": 0.3}
    ).combine()


def test_independent_needs_uncorrelated_sources():
    comb = Combiner(
        two(),
        correlations={("A:lumi", "B:lumi"): 0.8},
        errors_on_errors={"lumi": (0.3, "independent")},
    )
    with pytest.raises(InvalidCorrelation, match="use 'dependent'"):
        comb.combine()
    # ρ = 1: one nuisance parameter, independent is fine (and the same as dependent)
    ind = Combiner(
        two(),
        correlations={("A:lumi", "B:lumi"): 1.0},
        errors_on_errors={"lumi": (0.3, "independent")},
    ).combine()
    dep = Combiner(
        two(), correlations={("A:lumi", "B:lumi"): 1.0}, errors_on_errors={"lumi": 0.3}
    ).combine()
    assert ind.values["x"] == pytest.approx(dep.values["x"], abs=1e-12)
    assert [t.n for t in ind.errors_on_errors] == [1]


def test_bartlett_needs_newton():
    with pytest.raises(InvalidArgument, match="newton"):
        Combiner(two(), errors_on_errors={"lumi": 0.3}, bartlett=True, minimiser="minuit")


def test_spec_objects_and_patterns():
    res = Combiner(
        two(), errors_on_errors={"*:jes": ErrorOnError(0.4, "independent"), "lumi": {"eps": 0.2}}
    ).combine()
    kinds = sorted((t.entry, t.kind, t.n) for t in res.errors_on_errors)
    assert kinds == [
        ("*:jes", "independent", 1),
        ("*:jes", "independent", 1),
        ("lumi", "dependent", 2),
    ]


# --------------------------------------------------------------------------- YAML, scans
def test_yaml_errors_on_errors(tmp_path):
    from hepcombine import load_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        """
measurements:
  A: {estimates: {x: 10.0}, stat: 0.5, uncertainties: {model: 0.8, det: 0.3}}
  B: {estimates: {x: 10.6}, stat: 0.6, uncertainties: {model: 0.7, det: 0.4}}
  C: {estimates: {x: 12.9}, stat: 0.7, uncertainties: {model: 0.9, det: 0.2}}
  D: {estimates: {x: 9.7}, stat: 0.5, uncertainties: {model: 0.6, det: 0.3}}
correlations:
  - {a: 'A:model', b: 'B:model', rho: 0.5}
  - {a: 'C:model', b: 'D:model', rho: 1.0}
errors_on_errors:
  model: 0.6
"""
    )
    res = load_config(cfg).combiner().combine()
    direct = orthogonal_case(0.6, "dependent")[0].combine()
    assert res.values["x"] == pytest.approx(direct.values["x"], abs=1e-12)
    cfg.write_text(cfg.read_text().replace("\n  model: 0.6\n", "\n  modl: 0.6\n"))
    with pytest.raises(
        Exception, match=r"line 11, at errors_on_errors/modl: .*did you mean 'model'"
    ):
        load_config(cfg)
    cfg.write_text(cfg.read_text().replace("\n  modl: 0.6\n", "\n  model: {eps: -1}\n"))
    with pytest.raises(Exception, match="errors_on_errors/model"):
        load_config(cfg)


def test_eps_scan_in_process_and_on_dask():
    from hepcombine import scan_errors_on_errors

    comb = orthogonal_case(0.0, "dependent")[0]
    grid = [0.0, 0.3, 0.6]
    scan = scan_errors_on_errors(comb, "model", grid)
    for i, e in enumerate(grid):
        one = orthogonal_case(e, "dependent")[0].combine()
        assert scan.values["x"][i] == one.values["x"]
        assert (scan.interval_low["x"][i], scan.interval_high["x"][i]) == one.interval("x")
        assert scan.chi2[i] == one.chi2
    assert scan.b_profile["x"][0] == 1.0 and scan.b_chi2[0] == scan.ndf
    assert "errors-on-errors scan of model" in scan.to_table()
    pytest.importorskip("distributed")
    on_dask = scan_errors_on_errors(comb, "model", grid, workers=2, chunk_size=1)
    np.testing.assert_array_equal(on_dask.values["x"], scan.values["x"])
    np.testing.assert_array_equal(on_dask.goodness_of_fit, scan.goodness_of_fit)


def test_eps_scan_plot(tmp_path):
    from hepcombine import scan_errors_on_errors
    from hepcombine.plots.scan import plot_eps_scan

    comb = Combiner(**_arguments(orthogonal_case(0.0, "dependent")[0]), bartlett=True)
    scan = scan_errors_on_errors(comb, "model", [0.0, 0.2, 0.4, 0.6])
    fig = plot_eps_scan(scan, "x")
    out = tmp_path / "eps.png"
    fig.savefig(out)
    assert out.stat().st_size > 10_000
    with pytest.raises(UnknownName):
        plot_eps_scan(scan, "y")

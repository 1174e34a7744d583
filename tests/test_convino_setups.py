"""The real ATLAS/CMS Convino setups of data/convino_setups/ run unchanged, through the command
line and the API, and give the numbers of an independent computation written here.

Reference. The numbers are taken from the files by a minimal parser written here for their
shapes (not hepcombine's reader): per measurement the estimates x̂, their correlation matrix ρ
with the constraints σ (statistical covariance C = ρ σσᵀ, M = C⁻¹) and the orthogonal
absolute shifts U (estimates × sources) of ``[not fitted]``. Each combined value is one
estimate, so with the χ² of method.md §2,

    χ²(x̄, λ) = r(X)ᵀ M r(X) + λᵀλ,   X = x̄ − Uλ,
    r(X) = X − x̂ (Neyman),  √(x̂/X) (X − x̂) (Pearson, element-wise),

* Neyman (closed form): x̄ = x̂, covariance C + UUᵀ, intervals x̄ ± σ, χ²_min = 0; Convino's
  impact of a group g is √(diag(U_g U_gᵀ)) (fixing its sources removes exactly that variance),
  and the statistical one √diag(C);
* Pearson (profile scan, scipy): λ enters only through s = Uλ, and min λᵀλ subject to Uλ = s is
  sᵀ(UUᵀ)⁻¹s (UUᵀ has full rank here), so χ² = r(X)ᵀ M r(X) + (x̄ − X)ᵀ S⁻¹ (x̄ − X) with
  S = UUᵀ; with x̄_k fixed at t, minimising over the other x̄ leaves (t − X_k)²/S_kk. The
  profiled χ² of x̄_k is therefore min over X of r(X)ᵀ M r(X) + (t − X_k)²/S_kk (without
  sources: X_k = t, the other X free), minimised by BFGS with its analytic gradient, and the
  Δχ² = 1 crossings are found by Brent's method.

Tolerances: values 1e-6 relative, interval endpoints 1e-4 of the error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA

from hepcombine import load_config
from hepcombine.cli import main

SETUPS = DATA / "convino_setups"
ATLAS = "ATLAS13OnlyTest"
ATLAS_IMPACTS = "ATLAS13Only"
COMBINATION = "Combination_ATLAS813CMS13_corrV2_statonly"


# --------------------------------------------------------------------------- a minimal parser
def _block(text: str, name: str) -> list[str]:
    """The non-empty, comment-free lines of the first non-empty block ``[name]``."""
    pattern = re.compile(rf"^\s*\[{name}\]\s*$(.*?)^\s*\[end {name}\]\s*$", re.M | re.S)
    for body in pattern.findall(text):
        lines = [ln.split("#")[0].strip() for ln in body.splitlines()]
        lines = [ln for ln in lines if ln]
        if lines:
            return lines
    return []


def _measurement(path: Path) -> dict:
    text = path.read_text()
    est = dict(ln.replace(" ", "").split("=", 1) for ln in _block(text, "estimates"))
    n = int(est["n_estimates"])
    names = [est[f"name_{i}"] for i in range(n)]
    x_hat = np.array([float(est[f"value_{i}"]) for i in range(n)])
    rows = _block(text, "correlation matrix")
    order, sigma, rho = [], [], []
    for ln in rows:
        m = re.match(r"(\S+)\s*\(([^)]*)\)\s*(.*)", ln)
        assert m, ln
        order.append(m.group(1))
        sigma.append(float(m.group(2)))
        rho.append([float(v) for v in m.group(3).split()])
    assert order == names
    k = len(order)
    full = np.zeros((k, k))
    for i, r in enumerate(rho):  # lower triangle or full square
        full[i, : len(r)] = r
    if len(rho[0]) == 1:
        full = np.tril(full) + np.tril(full, -1).T
    sigma_arr = np.array(sigma)
    cov = full * np.outer(sigma_arr, sigma_arr)
    nf = _block(text, "not fitted")
    sources: list[str] = nf[0].split() if nf else []
    u = np.zeros((n, len(sources)))
    for ln in nf[1:]:
        name, *values = ln.split()
        u[names.index(name)] = [float(v) for v in values]
    return {"names": names, "x_hat": x_hat, "cov": cov, "sources": sources, "u": u}


def _setup(folder: str) -> list[dict]:
    base = (SETUPS / folder / "rho_config.txt").read_text()
    files = [v.split("=", 1)[1].strip() for v in _block(base, "inputs") if v.startswith("file")]
    return [_measurement(SETUPS / folder / f) for f in files]


# --------------------------------------------------------------------------- the reference
def _pearson_profile(x_hat, m_inv_cov, s_kk, k, t, x0):
    """min over X of r(X)ᵀ M r(X) + (t − X_k)²/s_kk (s_kk = 0: X_k = t exactly)."""
    from scipy.optimize import minimize

    n = len(x_hat)
    free = np.arange(n) if s_kk > 0 else np.delete(np.arange(n), k)

    def full(z):
        X = np.empty(n)
        if s_kk > 0:
            X[:] = z
        else:
            X[k] = t
            X[free] = z
        return X

    def f(z):
        X = full(z)
        q = np.sqrt(x_hat / X)
        r = q * (X - x_hat)
        Mr = m_inv_cov @ r
        value = r @ Mr
        dr = q + (X - x_hat) * (-0.5) * q / X  # d r_μ / d X_μ
        grad_x = 2.0 * Mr * dr
        if s_kk > 0:
            value += (t - X[k]) ** 2 / s_kk
            grad_x[k] -= 2.0 * (t - X[k]) / s_kk
        return value, grad_x[free]

    start = np.asarray(x0, dtype=float)[free]
    res = minimize(f, start, jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 2000})
    return float(res.fun), full(res.x)


def _pearson_interval(x_hat, cov, u, k):
    from scipy.optimize import brentq

    m_inv = np.linalg.inv(cov)
    s_kk = float((u @ u.T)[k, k]) if u.size else 0.0
    sigma = np.sqrt(cov[k, k] + s_kk)
    warm = {"X": x_hat.copy()}

    def excess(t):
        value, X = _pearson_profile(x_hat, m_inv, s_kk, k, t, warm["X"])
        warm["X"] = X
        return value - 1.0

    # the Pearson χ² grows without bound as the prediction goes to 0: bracket inside x > 0
    lo = brentq(excess, max(x_hat[k] - 3 * sigma, 0.05 * x_hat[k]), x_hat[k], xtol=1e-8 * sigma)
    warm["X"] = x_hat.copy()
    hi = brentq(excess, x_hat[k], x_hat[k] + 3 * sigma, xtol=1e-8 * sigma)
    return lo, hi, sigma


def _reference(folder: str, chi2: str) -> dict[str, tuple[float, float, float, float]]:
    """{estimate: (value, error, low, high)} of the setup, combined value = estimate."""
    out = {}
    for meas in _setup(folder):
        x_hat, cov, u = meas["x_hat"], meas["cov"], meas["u"]
        total = cov + u @ u.T
        for k, name in enumerate(meas["names"]):
            error = float(np.sqrt(total[k, k]))
            if chi2 == "neyman":
                lo, hi = x_hat[k] - error, x_hat[k] + error
            else:
                lo, hi, _ = _pearson_interval(x_hat, cov, u, k)
            out[name] = (float(x_hat[k]), error, lo, hi)
    return out


def _check(combined: dict, reference: dict) -> None:
    """``combined``: {observable: (value, error, low, high)} from hepcombine."""
    assert list(combined) == list(reference)
    for name, (value, error, lo, hi) in reference.items():
        v, e, clo, chi = combined[name]
        assert v == pytest.approx(value, rel=1e-6), name
        assert e == pytest.approx(error, rel=1e-6), name
        assert abs(clo - lo) < 1e-4 * error, (name, clo, lo)
        assert abs(chi - hi) < 1e-4 * error, (name, chi, hi)


# --------------------------------------------------------------------------- the tests
_CACHE: dict = {}


def reference(folder: str, chi2: str) -> dict:
    if (folder, chi2) not in _CACHE:
        _CACHE[(folder, chi2)] = _reference(folder, chi2)
    return _CACHE[(folder, chi2)]


@pytest.mark.parametrize("chi2", ["pearson", "neyman"])
@pytest.mark.parametrize("folder", [ATLAS, ATLAS_IMPACTS, COMBINATION])
def test_real_setup_through_the_api(folder, chi2):
    spec = load_config(SETUPS / folder / "rho_config.txt")
    assert spec.default_chi2 == "pearson"  # a Convino file: Pearson, as the original program
    result = spec.combiner(chi2=chi2).combine()
    assert result.chi2_definition == chi2
    combined = {
        o: (result.values[o], result.errors[o], *result.interval(o)) for o in result.observables
    }
    _check(combined, reference(folder, chi2))
    assert abs(result.chi2) < 1e-8  # every combined value is one estimate


@pytest.mark.parametrize("folder", [ATLAS, ATLAS_IMPACTS, COMBINATION])
def test_real_setup_through_the_command_line(folder, tmp_path, capsys, caplog):
    base = SETUPS / folder / "rho_config.txt"
    argv = ["combine", str(base), "--output-dir", str(tmp_path), "--json", str(tmp_path / "r.json")]
    assert main(argv) == 0  # Pearson: the default of a Convino base file
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["chi2_definition"] == "pearson"
    combined = {o: (c["value"], c["error"], *c["interval"]) for o, c in data["combined"].items()}
    _check(combined, reference(folder, "pearson"))
    assert (tmp_path / "result.txt").stat().st_size > 1000
    out = capsys.readouterr().out
    assert next(iter(combined)) in out


def test_the_impact_groups_of_a_real_setup_are_convinos(tmp_path):
    """ATLAS13Only's 16 [uncertainty impacts] groups (143 sources): with the Neyman χ² each
    impact is √(Σ_{i∈g} u_i²) and the statistical one √C_kk (closed form, module docstring)."""
    (meas,) = _setup(ATLAS_IMPACTS)
    base = (SETUPS / ATLAS_IMPACTS / "rho_config.txt").read_text()
    groups = {}
    for ln in _block(base, "uncertainty impacts"):
        name, members = ln.split("=", 1)
        groups[name.strip()] = [s.strip() for s in members.split("+") if s.strip()]
    assert len(groups) == 16
    result = (
        load_config(SETUPS / ATLAS_IMPACTS / "rho_config.txt").combiner(chi2="neyman").combine()
    )
    u = meas["u"]
    for k, o in enumerate(meas["names"]):
        assert result.impacts["stat"][o] == pytest.approx(np.sqrt(meas["cov"][k, k]), rel=1e-6)
        for g, members in groups.items():
            idx = [meas["sources"].index(s) for s in members]
            expected = np.sqrt(np.sum(u[k, idx] ** 2))
            assert result.impacts[g][o] == pytest.approx(expected, rel=1e-6, abs=1e-9), (g, o)


def test_the_setups_warn_where_the_original_ignores_something(caplog):
    """The ATLAS file has a stray [end systematics] (line 163): read, with a warning naming
    the file and line; the statistical-only setup (empty [hessian]/[not fitted] blocks, an
    empty included file) reads without any warning."""
    import logging

    with caplog.at_level(logging.WARNING, logger="hepcombine"):
        load_config(SETUPS / ATLAS / "rho_config.txt")
    (warning,) = caplog.records
    assert "ATLAS13TeV_ConvinoInput_withSystsSmoothed_ChangeSign.txt, line 163" in warning.message
    assert "[end systematics]" in warning.message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hepcombine"):
        spec = load_config(SETUPS / COMBINATION / "rho_config.txt")
    assert caplog.records == []
    assert list(spec.measurements) == [
        "CMS_13TeV_2016_dil_inputs",
        "ATLAS8TeV_ConvinoInput_withSystsSmoothed",
        "ATLAS13TeV_ConvinoInput_withSystsSmoothed",
    ]
    assert spec.correlations == {} and spec.scans == []


def test_contour_of_the_143_source_setup_is_on_the_level():
    """Two bins of the ATLAS setup (Pearson, 143 sources): at every contour point the profiled
    χ² of the reduced form (module docstring; with two values fixed the prior term is
    (t − X_kl)ᵀ S_kl⁻¹ (t − X_kl)) is χ²_min + 2.30."""
    from scipy.optimize import minimize

    (meas,) = _setup(ATLAS)
    x_hat, m_inv = meas["x_hat"], np.linalg.inv(meas["cov"])
    s = meas["u"] @ meas["u"].T
    result = load_config(SETUPS / ATLAS / "rho_config.txt").combiner().combine()
    names = result.observables
    k, l = 5, 6  # the two highest bins: the least Gaussian
    c = result.contour(names[k], names[l], n_points=16)
    assert c.method == "profile"
    s_inv = np.linalg.inv(s[np.ix_([k, l], [k, l])])

    def profiled(t):
        def f(X):
            q = np.sqrt(x_hat / X)
            r = q * (X - x_hat)
            d = t - X[[k, l]]
            grad = 2.0 * (m_inv @ r) * 0.5 * q * (1.0 + x_hat / X)
            grad[[k, l]] -= 2.0 * s_inv @ d
            return r @ m_inv @ r + d @ s_inv @ d, grad

        x0 = x_hat.copy()
        x0[[k, l]] = t
        return minimize(f, x0, jac=True, method="BFGS", options={"gtol": 1e-10}).fun

    for x, y in zip(c.x, c.y, strict=True):
        level = -2.0 * np.log(1.0 - 0.6827)  # the default 68.27 % for two parameters
        assert profiled(np.array([x, y])) - c.chi2_min == pytest.approx(level, rel=1e-6)

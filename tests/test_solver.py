"""The solver (issue 14): exact minima and verified profile intervals of non-quadratic χ².

Every reference here is independent of the engine: numbers computed by hand from the written
χ² (the issue's reproducers), or the χ² written out in the test and minimised / profiled with
scipy.
"""

import logging
import math

import numpy as np
import pytest
from scipy.optimize import brentq, minimize, minimize_scalar

from hepcombine import Combiner, InvalidMeasurement, Measurement


def one(name, x, stat, systematics, **kw):
    return Measurement.from_uncertainties({"x": x}, {"x": stat}, systematics, name=name, **kw)


# ---------------------------------------------------------------------- the reproducers
@pytest.mark.parametrize(
    ("chi2", "value", "chi2_min", "interval"),
    [
        # exact answers of issue 14: the χ² written by hand, minimised on each side of the kink
        ("neyman", 101.0, 2.0, (100.174258, 101.734946)),
        ("pearson", 101.014850, 1.999559, (100.193856, 101.754151)),
    ],
)
def test_kink_reproducer(chi2, value, chi2_min, interval):
    """A = 102 ± 1 with s (+3, −1), B = 100 ± 1 with s (+1, −2), the two s correlated +1: the
    minimum sits on the kink (λ = 0), where Migrad never converges."""
    a = one("A", 102.0, 1.0, {"s": {"x": (3.0, -1.0)}})
    b = one("B", 100.0, 1.0, {"s": {"x": (1.0, -2.0)}})
    res = Combiner([a, b], correlations={("A:s", "B:s"): 1.0}, chi2=chi2).combine()
    assert res.values["x"] == pytest.approx(value, abs=2e-6)
    assert res.chi2 == pytest.approx(chi2_min, abs=2e-6)
    assert res.pulls["A:s"] == pytest.approx(0.0, abs=1e-12)  # on the kink
    assert res.interval("x") == pytest.approx(interval, abs=2e-6)
    assert res.has_interval("x")


def test_relative_pearson_reproducer():
    """Issue 14: Pearson with relative sources only; Minos refused to start before."""
    a = one(
        "A",
        3.391628801646982,
        0.045306899150693206,
        {"lumi": {"x": 0.8539261275325022}},
        relative=["lumi"],
    )
    b = one(
        "B",
        3.4365799418472354,
        0.47546301986572254,
        {"lumi": {"x": 0.2893863472604125}},
        relative=["lumi"],
    )
    res = Combiner([a, b], chi2="pearson").combine()
    assert res.values["x"] == pytest.approx(3.42352125, abs=1e-8)
    assert res.chi2 == pytest.approx(0.0019179208, abs=1e-10)
    assert res.interval("x") == pytest.approx((2.995438, 3.937633), abs=1e-6)


# ---------------------------------------------------------------------- log-normal sources
def lognormal_profile(xh, stat, u, pearson=False):
    """The written χ² of one measurement with one log-normal source, (x κ^(−λ) − x̂)²/σ² + λ²
    (κ = 1 + u/x̂), profiled over λ by a bounded 1-D minimisation."""
    kappa = 1.0 + u / xh

    def chi2(x, lam):
        X = x * kappa ** (-lam)
        r = (X - xh) * (math.sqrt(xh / X) if pearson else 1.0)
        return (r / stat) ** 2 + lam**2

    def profile(x):
        return minimize_scalar(
            lambda lam: chi2(x, lam), bounds=(-20, 20), method="bounded", options={"xatol": 1e-12}
        ).fun

    return profile


@pytest.mark.parametrize("pearson", [False, True])
@pytest.mark.parametrize("u", [3.0, 30.0, 150.0])
def test_lognormal_single_source_profile(u, pearson):
    xh, stat = 100.0, 5.0
    m = one("A", xh, stat, {"lumi": {"x": u}}, lognormal=["lumi"])
    res = Combiner([m], chi2="pearson" if pearson else "neyman").combine()
    profile = lognormal_profile(xh, stat, u, pearson)
    # one measurement: the minimum is the measurement itself, χ² = 0
    assert res.values["x"] == pytest.approx(xh, rel=1e-10)
    assert res.chi2 == pytest.approx(0.0, abs=1e-12)
    lo, hi = res.interval("x")
    ref_lo = brentq(lambda x: profile(x) - 1.0, 1e-6, xh)
    ref_hi = brentq(lambda x: profile(x) - 1.0, xh, 100 * xh)
    err = res.errors["x"]
    assert lo == pytest.approx(ref_lo, abs=1e-6 * err)
    assert hi == pytest.approx(ref_hi, abs=1e-6 * err)
    # log-normal: the interval is asymmetric upwards and never reaches zero
    assert lo > 0
    if u >= 30:
        assert hi - xh > 1.1 * (xh - lo)


def test_lognormal_keeps_predictions_positive_where_relative_cannot():
    """A +150 % uncertainty: the relative form lets the prediction change sign, the log-normal
    one cannot; the log-normal interval is the written profile's."""
    xh, stat, u = 10.0, 1.0, 15.0
    ln = Combiner([one("A", xh, stat, {"s": {"x": u}}, lognormal=["s"])]).combine()
    lo, hi = ln.interval("x")
    profile = lognormal_profile(xh, stat, u)
    assert lo == pytest.approx(brentq(lambda x: profile(x) - 1.0, 1e-9, xh), rel=1e-7)
    assert hi == pytest.approx(brentq(lambda x: profile(x) - 1.0, xh, 1e3 * xh), rel=1e-7)
    assert lo > 0


def test_lognormal_shared_luminosity_against_written_chi2():
    """Two measurements sharing a log-normal luminosity (ρ = 1), one an asymmetric log-normal
    (Convino form); the written χ² minimised by scipy."""
    a = one(
        "A", 100.0, 2.0, {"lumi": {"x": 10.0}, "ja": {"x": (3.0, -2.0)}}, lognormal=["lumi", "ja"]
    )
    b = one("B", 92.0, 3.0, {"lumi": {"x": 8.0}})
    b = b._replace(lognormal=frozenset({"lumi"}))
    res = Combiner([a, b], correlations={("A:lumi", "B:lumi"): 1.0}).combine()

    def chi2(p):
        x, lam, j = p
        ka, kb = 1 + 10.0 / 100.0, 1 + 8.0 / 92.0
        ja = (1 + 3.0 / 100.0) ** (-j) if j >= 0 else (1 - 2.0 / 100.0) ** j
        Xa = x * ka ** (-lam) * ja
        Xb = x * kb ** (-lam)
        return ((Xa - 100.0) / 2.0) ** 2 + ((Xb - 92.0) / 3.0) ** 2 + lam**2 + j**2

    best = min(
        (
            minimize(
                chi2,
                [96.0, 0.0, s],
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000},
            )
            for s in (-0.5, 0.5)
        ),
        key=lambda r: r.fun,
    )
    assert res.chi2 == pytest.approx(best.fun, abs=1e-8)
    assert res.values["x"] == pytest.approx(best.x[0], abs=1e-5 * res.errors["x"])


@pytest.mark.parametrize(
    ("shift", "message"),
    [({"x": -120.0}, "is not positive"), ({"x": (5.0, -101.0)}, "is not positive")],
)
def test_lognormal_needs_positive_variations(shift, message):
    with pytest.raises(InvalidMeasurement, match=message):
        one("A", 100.0, 1.0, {"s": shift}, lognormal=["s"])


def test_lognormal_and_relative_are_exclusive():
    with pytest.raises(InvalidMeasurement, match="both relative and log-normal"):
        one("A", 1.0, 0.1, {"s": {"x": 0.1}}, relative=["s"], lognormal=["s"])
    with pytest.raises(InvalidMeasurement, match="log-normal sources"):
        one("A", 1.0, 0.1, {"s": {"x": 0.1}}, lognormal=["t"])


def test_small_lognormal_equals_relative_to_first_order():
    a = [one("A", 100.0, 2.0, {"l": {"x": 0.1}}), one("B", 104.0, 3.0, {"l": {"x": 0.1}})]
    corr = {("A:l", "B:l"): 1.0}
    ln = Combiner([m._replace(lognormal=frozenset({"l"})) for m in a], correlations=corr).combine()
    rel = Combiner([m._replace(relative=frozenset({"l"})) for m in a], correlations=corr).combine()
    assert ln.values["x"] == pytest.approx(rel.values["x"], abs=1e-4 * rel.errors["x"])


# ---------------------------------------------------------------------- Newton vs Minuit
@pytest.mark.parametrize("seed", range(6))
def test_newton_and_minuit_agree_where_minos_succeeds(seed):
    rng = np.random.default_rng(seed)
    ms = []
    for i in range(3):
        syst = {
            "lumi": {"x": float(rng.uniform(1, 4))},
            f"j{i}": {"x": (float(rng.uniform(1, 3)), float(-rng.uniform(0.5, 3)))},
        }
        ms.append(
            one(f"m{i}", 100 + rng.normal(0, 3), float(rng.uniform(1, 3)), syst, relative=["lumi"])
        )
    corr = {("m0:lumi", "m1:lumi"): 1.0, ("m1:lumi", "m2:lumi"): 1.0, ("m0:lumi", "m2:lumi"): 1.0}
    new = Combiner(ms, correlations=corr, chi2="pearson").combine()
    old = Combiner(ms, correlations=corr, chi2="pearson", minimiser="minuit").combine()
    assert new.chi2 <= old.chi2 + 1e-9
    assert new.values["x"] == pytest.approx(old.values["x"], abs=1e-3 * new.errors["x"])
    if old.interval_status["x"] == "minos":
        # Minos's own precision at its default tolerance is ~1e-4 σ
        assert new.interval("x") == pytest.approx(old.interval("x"), abs=1e-3 * new.errors["x"])


# ---------------------------------------------------------------------- reporting
def test_minimum_on_a_kink_is_noted():
    a = one("A", 102.0, 1.0, {"s": {"x": (3.0, -1.0)}})
    b = one("B", 100.0, 1.0, {"s": {"x": (1.0, -2.0)}})
    res = Combiner([a, b], correlations={("A:s", "B:s"): 1.0}).combine()
    assert any("kink" in n for n in res.notes)
    assert "A:s" in " ".join(res.notes)


def test_fallback_is_logged_never_silent(caplog):
    """Where the Venzon–Moolgavkar iteration cannot be used (the endpoint's profiled minimum on
    a kink), the root search is used and logged; the status says so."""
    a = one("A", 102.0, 1.0, {"s": {"x": (3.0, -1.0)}})
    b = one("B", 100.0, 1.0, {"s": {"x": (1.0, -2.0)}})
    with caplog.at_level(logging.INFO, logger="hepcombine"):
        res = Combiner([a, b], correlations={("A:s", "B:s"): 1.0}).combine()
    if res.interval_status["x"] == "profile scan":
        assert "root search" in caplog.text

"""Shared builders and asserts of the test suite (import them as ``from conftest import ...``).

* files: :func:`write` (dedented text), :func:`line_of` (the line a message must name);
* histograms: :func:`weighted_hist`, :func:`hist2d` (``hist`` objects as the readers meet them),
  :func:`root_file` (write them into a ROOT file with uproot);
* references: :func:`gls` (closed-form generalised least squares), :func:`minimise_chi2` and
  :func:`profile_interval` (a χ² written out in a test, minimised and profiled with scipy);
* asserts: :func:`assert_same_measurement`, :func:`assert_same_spec`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


# --------------------------------------------------------------------------- files
def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (parents created); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based number of the (unique) line of ``path`` containing ``needle``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    assert len(hits) == 1, hits
    return hits[0]


# --------------------------------------------------------------------------- histograms
def weighted_hist(
    values: Any,
    variances: Any,
    edges: Any,
    flow: tuple[float, float] = (0.0, 0.0),
    name: str = "pt",
    label: str = "p_{T} [GeV]",
) -> Any:
    """A 1-d ``Weight`` histogram with variable ``edges`` and under/overflow ``flow``."""
    import hist

    h = hist.Hist(hist.axis.Variable(edges, name=name, label=label), storage=hist.storage.Weight())
    view = h.view(flow=True)
    view.value = [flow[0], *values, flow[1]]
    view.variance = [0.0, *variances, 0.0]
    return h


def hist2d(matrix: Any, edges: Any) -> Any:
    """A 2-d histogram of ``matrix`` with ``edges`` on both axes (a TH2 covariance)."""
    import hist

    h = hist.Hist(hist.axis.Variable(edges), hist.axis.Variable(edges))
    h[...] = matrix
    return h


def root_file(path: Path, objects: Mapping[str, Any]) -> Path:
    """Write ``objects`` (histograms) into a new ROOT file with uproot."""
    import uproot

    with uproot.recreate(path) as f:
        for key, obj in objects.items():
            f[key] = obj
    return path


# --------------------------------------------------------------------------- references
def gls(y: Any, design: Any, v: Any) -> tuple[Any, Any, Any]:
    """Closed-form GLS: x = (AᵀV⁻¹A)⁻¹AᵀV⁻¹y, its covariance and the weights Λ (x = Λᵀy)."""
    vinv = np.linalg.inv(v)
    cov = np.linalg.inv(design.T @ vinv @ design)
    lam = vinv @ design @ cov
    return lam.T @ y, cov, lam


def minimise_chi2(chi2: Callable[[Any], float], start: Any) -> Any:
    """The minimum of a χ² written out in a test: BFGS, polished by Nelder–Mead (scipy; no
    hepcombine code involved). Returns scipy's result (``.x``, ``.fun``)."""
    from scipy.optimize import minimize

    best = minimize(chi2, np.asarray(start, dtype=float), method="BFGS", tol=1e-12)
    opts = {"xatol": 1e-10, "fatol": 1e-13, "maxiter": 40000, "maxfev": 40000}
    return minimize(chi2, best.x, method="Nelder-Mead", options=opts)


def profile_interval(
    chi2: Callable[[Any], float], best: Any, index: int, reach: float
) -> tuple[float, float]:
    """The Δχ² = 1 interval of parameter ``index`` of a written χ², by profiling the other
    parameters (:func:`minimise_chi2`) and bracketing the crossings within ``± reach``."""
    from scipy.optimize import brentq

    x0 = np.asarray(best.x, dtype=float)

    def excess(x: float) -> float:
        def g(q: Any) -> float:
            return chi2(np.insert(q, index, x))

        return float(minimise_chi2(g, np.delete(x0, index)).fun - best.fun - 1.0)

    lo = brentq(excess, x0[index] - reach, x0[index], xtol=1e-9)
    hi = brentq(excess, x0[index], x0[index] + reach, xtol=1e-9)
    return lo, hi


# --------------------------------------------------------------------------- asserts
def assert_same_measurement(a: Any, b: Any) -> None:
    """Names, relative sources and every array of two measurements agree (to 1e-12)."""
    assert a.name == b.name
    assert a.estimate_names == b.estimate_names
    assert a.source_names == b.source_names
    assert a.relative == b.relative
    for field in (
        "estimates",
        "stat_information",
        "shifts_up",
        "shifts_down",
        "source_information",
        "nuisance_values",
    ):
        x, y = getattr(a, field), getattr(b, field)
        scale = max(np.max(np.abs(x), initial=0.0), 1e-300)
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12 * scale, err_msg=field)


def assert_same_spec(a: Any, b: Any, *, unordered_pairs: bool = False) -> None:
    """Two specifications describe the same combination. ``unordered_pairs``: a correlation
    or scanned pair may be written as (b, a) (e.g. after a write → read round trip)."""
    assert list(a.measurements) == list(b.measurements)
    for name in a.measurements:
        assert_same_measurement(a.measurements[name], b.measurements[name])
    assert a.observables == b.observables
    if unordered_pairs:

        def unordered(corr: Mapping[Any, float]) -> dict[frozenset[str], float]:
            return {frozenset(k): v for k, v in corr.items()}

        assert unordered(a.correlations) == unordered(b.correlations)
        assert [(g.name, g.n_points) for g in a.scans] == [(g.name, g.n_points) for g in b.scans]
        for ga, gb in zip(a.scans, b.scans, strict=True):
            assert {frozenset(p[:2]): p[2:] for p in ga.pairs} == {
                frozenset(p[:2]): p[2:] for p in gb.pairs
            }
    else:
        assert a.correlations == b.correlations
        assert a.scans == b.scans
    assert a.impacts == b.impacts
    assert (a.differential, a.normalise) == (b.differential, b.normalise)

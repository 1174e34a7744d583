"""iminuit's Migrad and Minos, as an explicit option (``Combiner(..., minimiser="minuit")``).

The default solver (:mod:`hepcombine.solver.newton`, :mod:`hepcombine.solver.intervals`) finds
the exact minimum and verified profile intervals; this route reproduces what the original
Convino program does (Migrad, then Minos), for comparison. Its failures are reported, never
hidden: a Migrad that does not converge raises :class:`~hepcombine.FitError`; a Minos limit that
fails is found by the verified root search of the default solver instead and reported as
``"profile scan (Minos failed: …)"``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ..exceptions import FitError

__all__ = ["TOLERANCE", "make_minuit", "migrad", "minos"]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: iminuit tolerance for Migrad and Minos (EDM goal 0.002 · tol)
TOLERANCE = 1e-6


def make_minuit(model: CombinedChi2, theta: Array, names: Sequence[str]) -> Any:
    """An iminuit object for ``model`` with analytic gradient and Hessian, starting at θ."""
    from iminuit import Minuit

    m = Minuit(
        model,
        np.array(theta, dtype=float),
        grad=model.grad,
        hessian=model.hessian,
        name=list(names),
    )
    m.print_level = 0
    return m


def migrad(model: CombinedChi2, theta0: Array, names: Sequence[str]) -> Any:
    """Migrad from θ₀ (strategy 0, then 1); raises :class:`FitError` if it does not converge."""
    m = make_minuit(model, theta0, names)
    m.strategy = 0
    m.tol = TOLERANCE
    m.migrad()
    if not m.valid:
        log.info("Migrad with strategy 0 did not converge; retrying with strategy 1")
        m.strategy = 1
        m.migrad()
    if not m.valid:
        raise FitError(f"Migrad did not converge:\n{m.fmin}")
    return m


def minos(m: Any, name: str) -> tuple[float, float, str]:
    """Minos limits of ``name`` as absolute values, and "" or the reason of a failure (then the
    failed limit is NaN)."""
    v = float(m.values[name])
    if not m.valid:
        # Minos refuses to start on an invalid minimum (e.g. after hesse() re-estimated the
        # EDM above the goal): polish it first
        m.migrad()
    try:
        m.minos(name)
        me = m.merrors[name]
    except RuntimeError as exc:
        return math.nan, math.nan, f"Minos failed: {exc}"
    if me.is_valid:
        return v + me.lower, v + me.upper, ""
    problems = [
        what
        for what, flag in (
            ("lower limit not found", not me.lower_valid),
            ("upper limit not found", not me.upper_valid),
            ("parameter limit reached", me.at_lower_limit or me.at_upper_limit),
            ("call limit reached", me.at_lower_max_fcn or me.at_upper_max_fcn),
            ("new minimum found", me.lower_new_min or me.upper_new_min),
        )
        if flag
    ]
    lo = v + me.lower if me.lower_valid else math.nan
    hi = v + me.upper if me.upper_valid else math.nan
    return lo, hi, "Minos failed: " + (", ".join(problems) or "invalid")


def __dir__() -> list[str]:
    return list(__all__)

"""A combination as a CMS simplified likelihood (covariance plus third moments).

The simplified likelihood of CMS (CMS-NOTE-2017-001; Buckley et al., arXiv:1809.05548,
"SLv2") describes a set of correlated quantities by their first three moments: the mean m₁,
the covariance m₂ and the diagonal third central moments m₃,ᵢ = E[(xᵢ − m₁,ᵢ)³]. From them it
builds the quadratic model

    xᵢ = aᵢ + bᵢ θᵢ + cᵢ θᵢ²,     θ ~ N(0, ρ) (unit variances, correlations ρ),

whose first three moments are exactly m₁, m₂ and m₃ (arXiv:1809.05548 eqs. 2.9–2.12):

    cᵢ = −sign(m₃,ᵢ) √(2 m₂,ᵢᵢ) cos(4π/3 + ⅓ arctan √(8 m₂,ᵢᵢ³/m₃,ᵢ² − 1)),
    bᵢ = √(m₂,ᵢᵢ − 2cᵢ²),   aᵢ = m₁,ᵢ − cᵢ,
    ρᵢⱼ = (√((bᵢbⱼ)² + 8cᵢcⱼ m₂,ᵢⱼ) − bᵢbⱼ) / (4cᵢcⱼ)   (→ m₂,ᵢⱼ/(bᵢbⱼ) as cᵢcⱼ → 0).

:func:`simplified_likelihood` gives these moments for the combined values: the distribution
of the combined values when the measurements are drawn from the combination's own model at its
best fit (the pseudo-experiments of :mod:`hepcombine.toys`: sources from their prior, the
statistical model of the χ² definition).

* A **quadratic** χ² (Neyman, absolute, symmetric sources) makes the combined values a linear
  function of Gaussian data: m₁ = the combined values, m₂ = their covariance, m₃ = 0 exactly,
  computed without pseudo-experiments (``method="exact"``).
* Otherwise the moments are **estimated from pseudo-experiments** (``method="toys"``, ``n_toys``
  of them, seeded): sample mean, covariance and third central moments, with the statistical
  error of each third moment (√(Var[(x − m₁)³]/N), the bootstrap-free estimate). The error of
  m₃ grows like σ³√(15/N): for a skewness below ~0.1 it takes 10⁴ pseudo-experiments to see.

The quadratic model exists only for |m₃,ᵢ| ≤ √8 m₂,ᵢᵢ^{3/2} (skewness up to 2√2) and a ρ that is
a correlation matrix; where it does not, ``a``, ``b``, ``c``, ``rho`` are ``None`` and the reason
is in ``flags`` (the moments are still given).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import InvalidArgument, OutputError

if TYPE_CHECKING:
    from ..combiner import Combiner
    from ..result import CombinationResult

__all__ = ["SimplifiedLikelihood", "quadratic_model", "simplified_likelihood"]

FloatArray = NDArray[np.float64]
FORMAT = "CMS simplified likelihood v2 (arXiv:1809.05548): mean, covariance, third moments"


@dataclass(frozen=True, eq=False)
class SimplifiedLikelihood:
    """The moments of the combined values and the simplified likelihood's quadratic model.

    Attributes
    ----------
    names:
        The combined values, in order.
    central:
        The combined values of the nominal combination.
    mean, covariance, third_moments:
        m₁, m₂ and the diagonal m₃ of the combined values' distribution.
    third_moments_error:
        The statistical error of each m₃ (zeros for ``method="exact"``).
    method:
        ``"exact"`` (quadratic χ²) or ``"toys"``.
    n_toys, n_failed, seed:
        Pseudo-experiments used, failed (left out), and their seed (``method="toys"``).
    a, b, c, rho:
        The quadratic model (module docstring), or ``None`` where it does not exist.
    flags:
        Why the quadratic model is missing, or what else limits the moments.
    """

    names: tuple[str, ...]
    central: FloatArray
    mean: FloatArray
    covariance: FloatArray
    third_moments: FloatArray
    third_moments_error: FloatArray
    method: str
    n_toys: int = 0
    n_failed: int = 0
    seed: int | None = None
    a: FloatArray | None = None
    b: FloatArray | None = None
    c: FloatArray | None = None
    rho: FloatArray | None = None
    flags: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""

        def arr(x: FloatArray | None) -> Any:
            return None if x is None else np.asarray(x).tolist()

        return {
            "format": FORMAT,
            "names": list(self.names),
            "central": arr(self.central),
            "mean": arr(self.mean),
            "covariance": arr(self.covariance),
            "third_moments": arr(self.third_moments),
            "third_moments_error": arr(self.third_moments_error),
            "method": self.method,
            "n_toys": self.n_toys,
            "n_failed": self.n_failed,
            "seed": self.seed,
            "quadratic_model": None
            if self.a is None
            else {"a": arr(self.a), "b": arr(self.b), "c": arr(self.c), "rho": arr(self.rho)},
            "flags": list(self.flags),
        }

    def to_json(self) -> str:
        """The JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"


def quadratic_model(
    mean: FloatArray, covariance: FloatArray, third: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(a, b, c, rho)`` of the simplified likelihood (module docstring) for the moments.

    Raises
    ------
    OutputError
        If a third moment is too large for the model (|m₃| > √8 m₂^{3/2}), a variance is not
        positive, or ρ is not a correlation matrix; the message names the quantity.
    """
    m1 = np.asarray(mean, dtype=float)
    m2 = np.asarray(covariance, dtype=float)
    m3 = np.asarray(third, dtype=float)
    var = np.diag(m2)
    if np.any(~(var > 0)):
        raise OutputError(
            f"variances must be positive for the simplified likelihood: {var.tolist()}"
        )
    c = np.zeros_like(m1)
    for i in range(len(m1)):
        if m3[i] == 0.0:
            continue
        ratio = 8.0 * var[i] ** 3 / m3[i] ** 2
        if ratio < 1.0:
            raise OutputError(
                f"quantity {i}: the third moment {m3[i]:.4g} exceeds √8 σ³ = "
                f"{math.sqrt(8) * var[i] ** 1.5:.4g}; the quadratic model cannot reproduce it"
            )
        c[i] = (
            -math.copysign(1.0, m3[i])
            * math.sqrt(2.0 * var[i])
            * math.cos(4.0 * math.pi / 3.0 + math.atan(math.sqrt(ratio - 1.0)) / 3.0)
        )
    b = np.sqrt(np.clip(var - 2.0 * c * c, 0.0, None))
    a = m1 - c
    n = len(m1)
    rho = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            bb, cc = b[i] * b[j], c[i] * c[j]
            disc = bb * bb + 8.0 * cc * m2[i, j]
            if disc < 0 or math.sqrt(disc) + bb == 0:
                raise OutputError(
                    f"quantities {i} and {j}: their covariance cannot be reproduced by the "
                    "quadratic model (negative discriminant)"
                )
            # (√disc − bb)/(4cc), written without the cancellation as cc → 0
            r = 2.0 * m2[i, j] / (math.sqrt(disc) + bb)
            rho[i, j] = rho[j, i] = r
    w = np.linalg.eigvalsh(rho) if n else np.zeros(0)
    if n and (np.any(np.abs(rho) > 1 + 1e-12) or w[0] < -1e-10):
        raise OutputError(
            "the correlations θ of the quadratic model are not a correlation matrix (smallest "
            f"eigenvalue {w[0]:.3g}); the simplified likelihood cannot reproduce the covariance"
        )
    return a, b, c, rho


def simplified_likelihood(
    result: CombinationResult,
    combiner: Combiner,
    *,
    observables: list[str] | None = None,
    n_toys: int = 10_000,
    seed: int | None = 1,
) -> SimplifiedLikelihood:
    """The simplified likelihood of a combination (module docstring).

    Parameters
    ----------
    result, combiner:
        The combination and the combiner that made it (for the pseudo-experiments).
    observables:
        The combined values it describes, in order (default: the fitted observables, without
        reported linear quantities such as a total beside the bins).
    n_toys, seed:
        Number and seed of the pseudo-experiments (used for a χ² that is not quadratic).
    """
    names = list(result.fitted_observables if observables is None else observables)
    unknown = [o for o in names if o not in result.values]
    if unknown:
        raise InvalidArgument(f"{unknown} are not combined values")
    central = np.array([result.values[o] for o in names])
    quadratic = all(result.interval_status[o] == "exact" for o in result.observables)
    flags: list[str] = []
    if quadratic:
        mean = central.copy()
        cov = result.covariance.sub(names).matrix.copy()
        third = np.zeros(len(names))
        third_err = np.zeros(len(names))
        method, used, failed, used_seed = "exact", 0, 0, None
    else:
        if not (isinstance(n_toys, int) and n_toys >= 100):
            raise InvalidArgument(f"n_toys must be an integer of at least 100, not {n_toys!r}")
        from ..toys import run_toys

        toys = run_toys(combiner, n_toys, seed=seed, intervals=False, nominal=result)
        ok = ~np.asarray(toys.failed)
        x = np.array([np.asarray(toys.values[o])[ok] for o in names]).T
        used, failed, used_seed = int(ok.sum()), int(toys.n_failed), int(toys.seed)
        if failed:
            flags.append(f"{failed} of {n_toys} pseudo-experiments failed and are left out")
        mean = x.mean(axis=0)
        d = x - mean
        cov = np.atleast_2d(np.cov(x, rowvar=False))
        third = np.mean(d**3, axis=0) * used**2 / ((used - 1) * (used - 2))
        third_err = np.std(d**3, axis=0, ddof=1) / math.sqrt(used)
        method = "toys"
    a = b = c = rho = None
    try:
        a, b, c, rho = quadratic_model(mean, cov, third)
    except OutputError as exc:
        flags.append(f"no quadratic model: {exc}")
    return SimplifiedLikelihood(
        tuple(names),
        central,
        mean,
        cov,
        third,
        third_err,
        method,
        used,
        failed,
        used_seed,
        a,
        b,
        c,
        rho,
        tuple(flags),
    )


def __dir__() -> list[str]:
    return list(__all__)

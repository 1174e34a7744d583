"""Dense linear algebra the solvers share: Cholesky factors, inverses, BLAS threads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import LinAlgError, cho_factor, cho_solve, lapack

from ..exceptions import FitError

Array = NDArray[np.float64]
Factor = tuple[Array, bool]

#: below this many parameters, BLAS threads cost more than they bring (measured in
#: benchmarks/bench_threads.py: a 7-bin, 143-source combination is 3-4× slower with two
#: OpenBLAS threads on a loaded 2-core machine)
SMALL_PROBLEM = 600


def null_direction(h: Array, names: Sequence[str]) -> str:
    """A description of the flattest direction of ``h``, for error messages."""
    w, v = np.linalg.eigh(h)
    vec = v[:, 0]
    involved = [names[i] for i in np.argsort(-np.abs(vec))[:5] if abs(vec[i]) > 0.1]
    return f"smallest curvature {w[0]:.3g} along {involved}"


def factor_or_raise(h: Array, names: Sequence[str]) -> Factor:
    """The Cholesky factor of ``h``, or a :class:`FitError` naming the flat direction."""
    try:
        return cho_factor(h, check_finite=False)
    except (LinAlgError, ValueError):
        if not np.all(np.isfinite(h)):
            raise FitError("the χ² Hessian has NaN or infinite entries") from None
        raise FitError(
            "the χ² has no unique minimum: its Hessian is not positive definite "
            f"({null_direction(h, names)}); a combined value or source is not constrained by any input"
        ) from None


def try_factor(h: Array) -> Factor | None:
    """The Cholesky factor of ``h``, or None when it is not positive definite."""
    try:
        return cho_factor(h, check_finite=False)
    except (LinAlgError, ValueError):
        return None


def damped_factor(h: Array) -> tuple[Factor, float]:
    """Cholesky factor of ``h + τ·diag(h)`` with the smallest τ in 0, 1e-8, 1e-6, … that makes
    it positive definite (Levenberg–Marquardt damping of a Newton step)."""
    f = try_factor(h)
    if f is not None:
        return f, 0.0
    scale = np.abs(np.diag(h)).copy()
    scale[scale <= 0] = 1.0
    for tau in (1e-8, 1e-6, 1e-4, 1e-2, 1.0, 1e2, 1e4):
        f = try_factor(h + np.diag(tau * scale))
        if f is not None:
            return f, tau
    raise FitError("the χ² Hessian could not be made positive definite by damping")


def solve(f: Factor, b: Array) -> Array:
    """``A⁻¹ b`` from the Cholesky factor of A."""
    return cho_solve(f, b, check_finite=False)


def inverse(f: Factor) -> Array:
    """A⁻¹ from the Cholesky factor of A (LAPACK potri)."""
    c, lower = f
    inv, info = lapack.dpotri(c, lower=lower)
    if info != 0:
        raise FitError(f"inverting the χ² Hessian failed (LAPACK potri info={info})")
    inv = np.tril(inv) if lower else np.triu(inv)  # potri fills one triangle only
    return inv + inv.T - np.diag(np.diag(inv))


@contextlib.contextmanager
def blas_threads(n_params: int) -> Iterator[None]:
    """One BLAS thread while a small problem is solved; the caller's setting is restored on
    exit, so the user's own process keeps what it had."""
    if n_params >= SMALL_PROBLEM:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    limiter: Any = threadpool_limits(limits=1, user_api="blas")
    try:
        yield
    finally:
        limiter.restore_original_limits()

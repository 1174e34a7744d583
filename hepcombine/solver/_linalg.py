"""Dense linear algebra the solvers share: Cholesky factors, inverses, BLAS threads.

A :class:`Factor` is the Cholesky factor of a symmetric positive definite matrix A, with its
solves and its inverse. Small matrices (fewer than :data:`NUMPY_BELOW` rows, such as the
Convino example's) are factorised with numpy alone: A = L Lᵀ, L⁻¹ once (a few hundred
microseconds at most), then every solve is two matrix products, so that a small combination
never imports scipy.linalg (about 0.1 s of a whole process, most of ``hepcombine combine``'s
import floor; issue 22). Larger ones use LAPACK's potrf/potrs/potri through scipy.linalg.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import FitError

Array = NDArray[np.float64]

#: below this many rows a matrix is factorised with numpy (module docstring)
NUMPY_BELOW = 64


class Factor:
    """The Cholesky factor of a symmetric positive definite matrix (build it with
    :func:`try_factor` or :func:`factor_or_raise`)."""

    __slots__ = ("_cho", "_linv")

    def __init__(self, cho: tuple[Array, bool] | None, linv: Array | None) -> None:
        self._cho = cho  # LAPACK potrf's factor and whether it is the lower one, or None
        self._linv = linv  # L⁻¹ of the numpy path, or None

    def solve(self, b: Array) -> Array:
        """A⁻¹ b (b a vector or a matrix of columns)."""
        if self._linv is not None:
            return self._linv.T @ (self._linv @ b)
        from scipy.linalg import lapack

        assert self._cho is not None
        c, lower = self._cho
        # LAPACK potrs directly: what scipy.linalg.cho_solve calls, without its checks and
        # batching wrapper (≈ 10 µs a call, a tenth of a dense solve of 135 parameters)
        x, info = lapack.dpotrs(c, b, lower=lower)
        if info != 0:
            raise ValueError(f"LAPACK potrs: illegal argument {-info}")
        return x

    def inverse(self) -> Array:
        """A⁻¹ (symmetric)."""
        if self._linv is not None:
            return self._linv.T @ self._linv
        from scipy.linalg import lapack

        assert self._cho is not None
        c, lower = self._cho
        inv, info = lapack.dpotri(c, lower=lower)
        if info != 0:
            raise FitError(f"inverting the χ² Hessian failed (LAPACK potri info={info})")
        # potri fills one triangle only: mirror it (the same numbers as triu(inv) + its
        # transpose − its diagonal, in one pass)
        on_lower = _lower_mask(len(inv))
        return np.where(on_lower, inv, inv.T) if lower else np.where(on_lower, inv.T, inv)


@functools.lru_cache(maxsize=8)
def _lower_mask(n: int) -> NDArray[np.bool_]:
    """The lower triangle (diagonal included) of an n × n matrix, as a read-only mask."""
    mask = np.tri(n, dtype=bool)
    mask.setflags(write=False)
    return mask


def _factor(h: Array) -> Factor:
    """The factor of ``h``; raises ``numpy.linalg.LinAlgError`` / ``ValueError`` when ``h`` is
    not positive definite."""
    h = np.asarray(h, dtype=float)
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        raise ValueError(f"expected a square matrix, got shape {h.shape}")
    if h.shape[0] < NUMPY_BELOW:
        lower = np.linalg.cholesky(h)
        return Factor(None, np.linalg.inv(lower))
    from scipy.linalg import lapack

    # LAPACK potrf directly, as scipy.linalg.cho_factor(h, check_finite=False) calls it (the
    # upper factor, the other triangle left as it is)
    c, info = lapack.dpotrf(h, lower=False, clean=False)
    if info > 0:
        raise np.linalg.LinAlgError(f"{info}-th leading minor not positive definite")
    if info < 0:
        raise ValueError(f"LAPACK potrf: illegal argument {-info}")
    return Factor((c, False), None)


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
        return _factor(h)
    except (np.linalg.LinAlgError, ValueError):
        if not np.all(np.isfinite(h)):
            raise FitError("the χ² Hessian has NaN or infinite entries") from None
        raise FitError(
            "the χ² has no unique minimum: its Hessian is not positive definite "
            f"({null_direction(h, names)}); a combined value or source is not constrained by any input"
        ) from None


def try_factor(h: Array) -> Factor | None:
    """The Cholesky factor of ``h``, or None when it is not positive definite."""
    try:
        return _factor(h)
    except (np.linalg.LinAlgError, ValueError):
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


class NewtonSystem:
    """Solves H z = b for the Newton step when H may be indefinite.

    ``kind`` is ``"cholesky"`` (H positive definite), ``"lu"`` (the plain Newton step of an
    indefinite H, tried first because it is often still a good descent direction), or
    ``"modified"`` (H with its eigenvalues replaced by their absolute values, floored, in the
    coordinates scaled by ``scale``: always a descent direction).
    """

    def __init__(self, h: Array, scale: Array | None = None, *, modified: bool = False) -> None:
        self.kind = "cholesky"
        self._f: Any = None if modified else try_factor(h)
        if self._f is not None:
            return
        if not modified:
            from scipy.linalg import lu_factor

            self.kind = "lu"
            try:
                with np.errstate(all="ignore"):
                    self._f = lu_factor(h, check_finite=False)
                if np.all(np.isfinite(self._f[0])) and np.all(np.abs(np.diag(self._f[0])) > 0):
                    return
            except (np.linalg.LinAlgError, ValueError):
                pass
        self.kind = "modified"
        d = np.ones(len(h)) if scale is None else np.asarray(scale, dtype=float)
        hs = h * np.outer(d, d)
        w, v = np.linalg.eigh(0.5 * (hs + hs.T))
        floor = 1e-8 * max(float(np.max(np.abs(w))), 1e-300)
        self._f = (d, v, np.maximum(np.abs(w), floor))

    @property
    def positive_definite(self) -> bool:
        return self.kind == "cholesky"

    def solve(self, b: Array) -> Array:
        if self.kind == "cholesky":
            return self._f.solve(b)
        if self.kind == "lu":
            from scipy.linalg import lu_solve

            return lu_solve(self._f, b, check_finite=False)
        d, v, w = self._f
        bs = b * (d if b.ndim == 1 else d[:, None])
        z = v @ ((v.T @ bs) / (w if b.ndim == 1 else w[:, None]))
        return z * (d if b.ndim == 1 else d[:, None])


def solve(f: Factor, b: Array) -> Array:
    """``A⁻¹ b`` from the Cholesky factor of A."""
    return f.solve(b)


def inverse(f: Factor) -> Array:
    """A⁻¹ from the Cholesky factor of A (LAPACK potri, or L⁻ᵀL⁻¹ for a small A)."""
    return f.inverse()


#: (whether scipy.linalg was loaded, the controller, its BLAS libraries) of the last
#: :func:`_controller` call
_CONTROLLER: list[tuple[bool, Any, list[Any]]] = []


def load_scipy_blas() -> None:
    """Import scipy.linalg, which loads a BLAS library of its own (scipy's OpenBLAS, not
    numpy's): a thread limit set before it is loaded does not reach it, so whatever limits the
    threads of work that will use scipy.linalg loads it first."""
    import scipy.linalg  # noqa: F401


def _controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, built once, and again once scipy's
    own BLAS has been loaded (building it reads the process's memory map, ~0.4 ms)."""
    return _state()[1]


def _blas_libraries() -> list[Any]:
    """threadpoolctl's controllers of the loaded BLAS libraries (of :func:`_controller`)."""
    return _state()[2]


def _state() -> tuple[bool, Any, list[Any]]:
    import sys

    scipy_loaded = "scipy.linalg" in sys.modules
    if not _CONTROLLER or _CONTROLLER[0][0] != scipy_loaded:
        from threadpoolctl import ThreadpoolController

        controller = ThreadpoolController()
        libraries = list(controller.select(user_api="blas").lib_controllers)
        _CONTROLLER[:] = [(scipy_loaded, controller, libraries)]
    return _CONTROLLER[0]


@contextlib.contextmanager
def blas_threads(n_params: int) -> Iterator[None]:
    """One BLAS thread while a small problem is solved; the caller's setting is restored on
    exit, so the user's own process keeps what it had. A problem of :data:`NUMPY_BELOW`
    parameters or more is factorised by scipy.linalg, whose BLAS is loaded first so that the
    limit reaches it. Each library is asked and set directly (a few µs; threadpoolctl's
    ``limit`` and its restore cost ~20 µs, a fifth of a dense solve of 135 parameters)."""
    if n_params >= SMALL_PROBLEM:
        yield
        return
    if n_params >= NUMPY_BELOW:
        load_scipy_blas()
    try:
        libraries = _blas_libraries()
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    before = [lib.get_num_threads() for lib in libraries]
    changed = [
        (lib, n) for lib, n in zip(libraries, before, strict=True) if n is not None and n != 1
    ]
    for lib, _ in changed:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in changed:
            lib.set_num_threads(n)

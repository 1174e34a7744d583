"""The Best Linear Unbiased Estimate (BLUE) of one or several observables (method.md §4).

n inputs y, m observables, uncertainty sources k with per-input uncertainties σ_ik and assumed
correlations ρ^k between the inputs::

    C_k = ρ^k ∘ (σ_k σ_kᵀ),   C = Σ_k C_k,   U (n×m) maps inputs to observables
    V = (Uᵀ C⁻¹ U)⁻¹,   Λ = C⁻¹ U V (weights),   x̂ = Λᵀ y
    V_k = Λᵀ C_k Λ (per-source contribution, Σ_k V_k = V)

Several observables follow Valassi (NIM A 500 (2003) 391): the weights of one observable can
be non-zero for inputs of another one when the inputs are correlated, and the combined values
are correlated with each other (:attr:`Blue.combined_correlations`).

The interface is the one of the ATLAS–CMS 8 TeV tt̄ combination notebook::

    comb = Blue(df, correlations)
    comb.combined_result, comb.combined_uncertainties, comb.weights, comb.chi2_ndf

The table forms ``data`` and ``correlations`` can take are those of
:class:`~hepcombine.blue.inputs.BlueInputs`. :attr:`Blue.result` is the frozen
:class:`~hepcombine.blue.result.BlueResult`, keyed by name (``values``, ``errors``,
``covariance``, ``breakdown``, ``weights``, ``chi2``, ``ndf``, ``pvalue``), the vocabulary of the
χ² method's :class:`~hepcombine.result.CombinationResult`.

Iterative BLUE for uncertainties that scale with the true value: pass ``iterative=True``; each
σ_ik is re-evaluated at the current combined value of its observable (``"sqrt"`` for
statistical sources, ``"linear"`` for the others unless ``scaling=`` says otherwise, or
σ² = a0 + a1|x| + a2x² from given coefficients) until every combined value changes by less
than ``tolerance`` times its uncertainty.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import FitError, InvalidCorrelation, InvalidMeasurement, UnknownName
from ..result import NamedMatrix, Table
from .inputs import BlueInputs, Scaling
from .result import BlueResult

__all__ = [
    "Blue",
    "Compatibility",
    "CorrelationScan",
    "blue_from_csv",
]

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


class Compatibility(NamedTuple):
    """Compatibility of two inputs that measure the same observable."""

    chi2: float
    """(y_a − y_b)² / Var(y_a − y_b) with the total covariance."""
    ndf: int
    """Always 1."""
    p_value: float
    """Probability of a χ² at least this large for one degree of freedom."""


class CorrelationScan(NamedTuple):
    """Result of :meth:`Blue.scan_correlations`. Arrays have one row per factor and one column
    per observable (in the order of :attr:`observables`)."""

    source: str | None
    """The scaled source, or ``None`` for all sources."""
    pairs: tuple[tuple[str, str], ...] | None
    """The scaled pairs of measurements, or ``None`` for all pairs."""
    factors: FloatArray
    """The factors the off-diagonal correlations were multiplied by."""
    observables: tuple[str, ...]
    """Names of the combined observables (columns of the arrays below)."""
    values: FloatArray
    """Combined values at each factor (NaN where the total covariance is not positive
    definite, see ``valid``)."""
    uncertainties: FloatArray
    """Total combined uncertainties at each factor."""
    value_shifts: FloatArray
    """``values`` minus the nominal combined values (factor 1)."""
    uncertainty_shifts: FloatArray
    """``uncertainties`` minus the nominal combined uncertainties."""
    valid: NDArray[np.bool_]
    """False where the scaled total covariance is not positive definite."""


def _solve(
    y: FloatArray, U: FloatArray, covs: FloatArray, sources: Sequence[str], names: Sequence[str]
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One BLUE solve. Returns (C, V, Λ, x̂); raises InvalidCorrelation if C is not PD."""
    C = covs.sum(axis=0)
    try:
        L = np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        raise _not_positive_definite(C, covs, sources, names) from None
    # reject numerically singular matrices as well (e.g. two identical inputs)
    d = np.diag(L)
    if d.min() <= 1e-10 * d.max():
        raise _not_positive_definite(C, covs, sources, names)
    Cinv_U = np.linalg.solve(L.T, np.linalg.solve(L, U))
    F = U.T @ Cinv_U
    V = np.linalg.inv(F)
    V = 0.5 * (V + V.T)
    Lam = Cinv_U @ V
    return C, V, Lam, Lam.T @ y


def _not_positive_definite(
    C: FloatArray, covs: FloatArray, sources: Sequence[str], names: Sequence[str]
) -> InvalidCorrelation:
    w, v = np.linalg.eigh(C)
    vec = v[:, 0]
    along = np.einsum("i,kij,j->k", vec, covs, vec)
    negative = [sources[k] for k in np.argsort(along) if along[k] < 0]
    involved = [names[i] for i in np.argsort(-np.abs(vec)) if abs(vec[i]) > 0.1]
    msg = (
        f"the total covariance of the inputs is not positive definite (smallest eigenvalue "
        f"{w[0]:.3g}) along a direction involving measurements {involved}"
    )
    if negative:
        msg += f"; sources with negative variance along it: {negative}"
    else:
        msg += "; the inputs are (numerically) fully correlated there"
    msg += ". Check the correlation assumptions of these sources."
    return InvalidCorrelation(msg)


# --------------------------------------------------------------------------------------------
# the class
# --------------------------------------------------------------------------------------------


class Blue:
    """BLUE combination of measurements of one or several observables.

    Parameters
    ----------
    data
        One row per measurement: the measured value and one column per uncertainty source
        (absolute, in the units of the value; the sign of an entry is the direction of the
        shift and matters for correlated sources). Accepted forms: a pandas ``DataFrame``
        indexed by measurement (or with a ``measurement`` column), a mapping
        ``measurement -> {column: value}``, a mapping ``column -> values`` or a 2-d array
        (then pass ``measurements=`` and ``columns=``). An optional string column
        ``observable`` assigns measurements to observables.
    correlations
        For every source: a scalar (the correlation of every pair of inputs), an n×n matrix, its
        upper triangle (matrix or flat, with or without diagonal) or a mapping
        ``(measurement_a, measurement_b) -> rho`` (missing pairs uncorrelated). A pandas
        ``Series`` indexed by source works.
    observables
        ``observable -> [measurements]`` for several observables. Overrides an ``observable``
        column. Default: one observable.
    results_column
        Name of the value column. Default: ``value`` if present, else the only column that is
        neither a source in ``correlations`` nor ``observable``/``measurement`` (``Experiment``
        in the seed notebook).
    measurements, columns
        Names for array input.
    iterative
        Re-evaluate the uncertainties at the combined value until it is stable.
    scaling
        Per source: ``"absolute"``, ``"linear"`` (σ ∝ |x|), ``"sqrt"`` (σ ∝ √|x|), coefficients
        ``(a0, a1, a2)`` of σ² = a0 + a1|x| + a2x² for every measurement, or a mapping
        ``measurement -> (a0, a1, a2)``. Sources not listed: ``"sqrt"`` if in
        ``statistical``, else ``"linear"``. Giving it implies ``iterative=True``.
    statistical
        Statistical sources (default: those whose name starts with ``stat``, any case).
    tolerance
        Convergence of the iteration: every combined value changes by less than
        ``tolerance`` times its combined uncertainty.
    max_iterations
        Raise :class:`~hepcombine.exceptions.FitError` if not converged after this many.
    linear
        ``{measurement: {observable: a}}``: inputs that measure a linear combination
        Σ a_o x_o of the observables (a total, a bin spanning several combined bins) instead
        of one of them; the combination is then the generalised least squares with the design
        matrix U whose rows are these coefficients (one-hot rows for the other inputs). With
        ``observables=`` such an input need not be listed (it is kept under the first
        observable of its combination for the bookkeeping); pairwise compatibilities leave
        it out.

    Raises
    ------
    InvalidMeasurement
        NaN or non-numeric input, inconsistent table.
    InvalidCorrelation
        A correlation outside [-1, 1], a malformed matrix, a missing source, or a total
        covariance that is not positive definite (the message names the sources).
    UnknownName
        A source or measurement that is not in the table.
    """

    def __init__(
        self,
        data: Any,
        correlations: Mapping[str, Any] | Any,
        *,
        observables: Mapping[str, Iterable[str]] | None = None,
        results_column: str | None = None,
        measurements: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        iterative: bool = False,
        scaling: Mapping[str, Scaling] | None = None,
        statistical: Iterable[str] | None = None,
        tolerance: float = 1e-8,
        max_iterations: int = 100,
        linear: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        linear = {
            str(k): {str(o): float(a) for o, a in v.items()} for k, v in (linear or {}).items()
        }
        if linear and observables is not None:
            mapped: dict[str, list[str]] = {
                str(o): list(members) for o, members in observables.items()
            }
            for mm, coefficients in linear.items():
                listed = [o for o, members in mapped.items() if mm in members]
                if not listed and coefficients:
                    first = next(iter(coefficients))
                    if first not in mapped:
                        raise UnknownName(
                            f"linear: input {mm!r} combines {first!r}, which is not an "
                            f"observable ({list(mapped)})"
                        )
                    mapped[first].append(mm)
            observables = mapped
        inputs = BlueInputs.from_table(
            data,
            correlations,
            observables=observables,
            results_column=results_column,
            measurements=measurements,
            columns=columns,
            scaling=scaling,
            statistical=statistical,
        )
        self._setup(
            statistical=inputs.statistical,
            names=inputs.names,
            sources=inputs.sources,
            observables=inputs.observables,
            observable_of=inputs.observable_of,
            values=inputs.values,
            sigma=inputs.sigma,
            rho=inputs.rho,
            results_column=inputs.results_column,
            iterative=bool(iterative or inputs.iterative),
            modes=dict(inputs.modes),
            tolerance=float(tolerance),
            max_iterations=int(max_iterations),
            linear=linear,
        )

    # ---------------------------------------------------------------- construction internals

    def _setup(
        self,
        *,
        statistical: frozenset[str],
        names: tuple[str, ...],
        sources: tuple[str, ...],
        observables: tuple[str, ...],
        observable_of: tuple[str, ...],
        values: FloatArray,
        sigma: FloatArray,
        rho: FloatArray,
        results_column: str,
        iterative: bool,
        modes: dict[str, Any],
        tolerance: float,
        max_iterations: int,
        quiet: bool = False,
        linear: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self._statistical = statistical
        self._names = names
        self._sources = sources
        self._observables = observables
        self._observable_of = observable_of
        self._values = values
        self._sigma0 = sigma
        self._rho = rho
        self._results_column = results_column
        self._iterative = iterative
        self._modes = modes
        self._tolerance = tolerance
        self._max_iterations = max_iterations

        n, m = len(names), len(observables)
        U = np.zeros((n, m))
        for i, o in enumerate(observable_of):
            U[i, observables.index(o)] = 1.0
        self._linear = {k: dict(v) for k, v in (linear or {}).items() if k in names}
        for mm in linear or {}:
            if mm not in names:
                raise UnknownName(f"linear: {mm!r} is not an input; the inputs are {list(names)}")
        for mm, coefficients in self._linear.items():
            i = names.index(mm)
            U[i] = 0.0
            for o, coef in coefficients.items():
                if o not in observables:
                    raise UnknownName(
                        f"linear: input {mm!r} combines {o!r}, which is not an observable "
                        f"({list(observables)})"
                    )
                U[i, observables.index(o)] = coef
        empty = [o for j, o in enumerate(observables) if not U[:, j].any()]
        if empty:
            raise InvalidMeasurement(f"observable(s) {empty} have no measurement")
        self._U = U
        if iterative:
            for s in sources:
                zero = [names[i] for i in np.flatnonzero(values == 0.0)]
                if modes[s] in ("linear", "sqrt") and zero:
                    raise InvalidMeasurement(
                        f"source {s!r} scales with the value, but measurement(s) {zero} have "
                        "value 0; give its scaling as 'absolute' or (a0, a1, a2)"
                    )

        self._non_psd = []
        for k, s in enumerate(sources):
            if np.linalg.eigvalsh(rho[k])[0] < -1e-10:
                self._non_psd.append(s)
        if self._non_psd and not quiet:
            log.warning(
                "correlation matrices of source(s) %s are not positive semi-definite; "
                "their contributions to the combined variance may be negative and are "
                "reported signed",
                self._non_psd,
            )

        sig = sigma
        C, V, Lam, x = _solve(values, U, self._covs(sig), sources, names)
        iterations = 0
        if iterative:
            for iterations in range(1, max_iterations + 1):  # noqa: B007
                sig = self._scaled_sigma(U @ x)
                C, V, Lam, x_new = _solve(values, U, self._covs(sig), sources, names)
                step = np.abs(x_new - x)
                x = x_new
                if np.all(step <= tolerance * np.sqrt(np.diag(V))):
                    break
            else:
                raise FitError(
                    f"iterative BLUE did not converge in {max_iterations} iterations "
                    f"(last change {step.tolist()} for observables {list(observables)}); "
                    "raise max_iterations or tolerance"
                )
            log.debug("iterative BLUE converged after %d iterations", iterations)
        self._iterations = iterations
        self._sigma = sig
        self._C = C
        self._V = V
        self._Lam = Lam
        self._x = x
        self._Vk = np.einsum("ia,kij,jb->kab", Lam, self._covs(sig), Lam)

        self._result = self._make_result()
        neg = self.negative_weights
        if neg and not quiet:
            log.warning(
                "negative BLUE weights: %s",
                ", ".join(f"{mm} -> {o}: {w:.4g}" for o, mm, w in neg),
            )
        for a in (self._values, self._sigma0, self._rho, self._sigma, self._C, self._V):
            a.setflags(write=False)
        self._frozen = True

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(
                f"Blue is immutable: cannot set {name!r}; build a new Blue, use "
                "blue[[...]] for a subset or scan_correlations for other assumptions"
            )
        object.__setattr__(self, name, value)

    def _make_result(self) -> BlueResult:
        obs, names, sources = self._observables, self._names, self._sources
        err = np.sqrt(np.diag(self._V))
        chi2, ndf = self.chi2_ndf
        diag = np.diagonal(self._Vk, axis1=1, axis2=2)  # (k, m)
        return BlueResult(
            observables=obs,
            measurements=names,
            sources=sources,
            values={o: float(self._x[j]) for j, o in enumerate(obs)},
            errors={o: float(err[j]) for j, o in enumerate(obs)},
            covariance=NamedMatrix(obs, self._V.copy()),
            correlation=NamedMatrix(obs, self._V / np.outer(err, err)),
            breakdown=Table(sources, obs, np.sign(diag) * np.sqrt(np.abs(diag))),
            weights=Table(obs, names, self._Lam.T.copy()),
            chi2=chi2,
            ndf=ndf,
            pvalue=_pvalue(chi2, ndf),
            method="iterative blue" if self._iterative else "blue",
            iterations=self._iterations,
            statistical_sources=tuple(s for s in sources if s in self._statistical),
        )

    @property
    def result(self) -> BlueResult:
        """The frozen result, keyed by name (values, errors, covariance, breakdown, weights,
        χ², ndf, p-value)."""
        return self._result

    def _covs(self, sigma: FloatArray) -> FloatArray:
        return self._rho * np.einsum("ik,jk->kij", sigma, sigma)

    def _scaled_sigma(self, x: FloatArray) -> FloatArray:
        """σ_ik re-evaluated at x (the current combined value of each input's observable)."""
        out = self._sigma0.copy()
        y = self._values
        for k, s in enumerate(self._sources):
            mode = self._modes[s]
            if mode == "absolute":
                continue
            if isinstance(mode, str):
                ratio = np.abs(x) / np.abs(y)
                out[:, k] *= ratio if mode == "linear" else np.sqrt(ratio)
                continue
            for i, coeff in enumerate(mode):
                a0, a1, a2 = coeff
                var = a0 + a1 * abs(x[i]) + a2 * x[i] ** 2
                if var < 0:
                    raise FitError(
                        f"source {s!r}, measurement {self._names[i]!r}: σ² = a0 + a1|x| + a2x² "
                        f"= {var:g} < 0 at x = {x[i]:g}"
                    )
                sign = -1.0 if self._sigma0[i, k] < 0 else 1.0
                out[i, k] = sign * math.sqrt(var)
        return out

    def _derived(
        self,
        keep: Sequence[int] | None = None,
        rho: FloatArray | None = None,
        quiet: bool = True,
    ) -> Blue:
        """A new Blue on a subset of inputs and/or with other correlations."""
        idx = list(range(len(self._names))) if keep is None else list(keep)
        r = self._rho if rho is None else rho
        names = tuple(self._names[i] for i in idx)
        obs_of = tuple(self._observable_of[i] for i in idx)
        modes = {
            s: (m if isinstance(m, str) else [m[i] for i in idx]) for s, m in self._modes.items()
        }
        new = Blue.__new__(Blue)
        new._setup(
            statistical=self._statistical,
            names=names,
            sources=self._sources,
            observables=tuple(o for o in self._observables if o in obs_of),
            observable_of=obs_of,
            values=self._values[idx],
            sigma=self._sigma0[idx],
            rho=r[:, idx][:, :, idx],
            results_column=self._results_column,
            iterative=self._iterative,
            modes=modes,
            tolerance=self._tolerance,
            max_iterations=self._max_iterations,
            quiet=quiet,
            linear={k: v for k, v in self._linear.items() if k in names},
        )
        return new

    # ---------------------------------------------------------------- alternative constructors

    @classmethod
    def from_csv(
        cls, table: str | Path, correlations: str | Path | None = None, **kwargs: Any
    ) -> Blue:
        """Same as :func:`blue_from_csv`."""
        return blue_from_csv(table, correlations, **kwargs)

    # ---------------------------------------------------------------- names

    @property
    def measurements(self) -> tuple[str, ...]:
        """Names of the inputs, in the order of every array over inputs."""
        return self._names

    @property
    def sources(self) -> tuple[str, ...]:
        """Names of the uncertainty sources."""
        return self._sources

    @property
    def observables(self) -> tuple[str, ...]:
        """Names of the combined observables."""
        return self._observables

    @property
    def observable_of(self) -> dict[str, str]:
        """measurement -> the observable it measures."""
        return dict(zip(self._names, self._observable_of, strict=True))

    @property
    def results_column(self) -> str:
        """Name of the value column of the input table."""
        return self._results_column

    @property
    def values(self) -> FloatArray:
        """The input values y."""
        return self._values.copy()

    @property
    def uncertainties(self) -> FloatArray:
        """Per-input, per-source uncertainties (n × sources) used in the combination; for
        iterative BLUE the ones evaluated at the combined value."""
        return self._sigma.copy()

    @property
    def input_uncertainties(self) -> FloatArray:
        """Per-input, per-source uncertainties as given (n × sources)."""
        return self._sigma0.copy()

    @property
    def correlation_matrices(self) -> dict[str, FloatArray]:
        """source -> its assumed n×n correlation matrix."""
        return {s: self._rho[k].copy() for k, s in enumerate(self._sources)}

    @property
    def non_psd_sources(self) -> tuple[str, ...]:
        """Sources whose correlation matrix is not positive semi-definite (allowed, reported)."""
        return tuple(self._non_psd)

    @property
    def statistical_sources(self) -> frozenset[str]:
        """The statistical sources (√x scaling in iterative BLUE, drawn separately in the
        summary plot)."""
        return self._statistical

    @property
    def iterative(self) -> bool:
        """Whether the uncertainties were re-evaluated at the combined value."""
        return self._iterative

    @property
    def iterations(self) -> int:
        """Number of re-evaluations of the uncertainties (0 without iteration)."""
        return self._iterations

    # ---------------------------------------------------------------- helpers for results

    def _per_obs(self, array: FloatArray) -> Any:
        """Column j of an (n × m) array: 1-d array for one observable, else dict by name."""
        if len(self._observables) == 1:
            return array[:, 0].copy()
        return {o: array[:, j].copy() for j, o in enumerate(self._observables)}

    def _scalar_per_obs(self, vector: FloatArray) -> Any:
        if len(self._observables) == 1:
            return float(vector[0])
        return {o: float(vector[j]) for j, o in enumerate(self._observables)}

    # ---------------------------------------------------------------- results

    @property
    def combined_result(self) -> float | dict[str, float]:
        """The combined value (a float for one observable, else observable -> value)."""
        return self._scalar_per_obs(self._x)

    @property
    def combined_uncertainty(self) -> float | dict[str, float]:
        """Total uncertainty of the combined value(s)."""
        return self._scalar_per_obs(np.sqrt(np.diag(self._V)))

    @property
    def combined_uncertainties(self) -> dict[str, float] | dict[str, dict[str, float]]:
        """Per-source uncertainty of the combined value: sign(V_k)·√|V_k| with
        V_k = Λᵀ C_k Λ (negative only for sources whose correlation matrix is not positive
        semi-definite; never NaN). For one observable a mapping source -> value, else
        observable -> (source -> value)."""
        diag = np.diagonal(self._Vk, axis1=1, axis2=2)  # (k, m)
        signed = np.sign(diag) * np.sqrt(np.abs(diag))
        per = {
            o: {s: float(signed[k, j]) for k, s in enumerate(self._sources)}
            for j, o in enumerate(self._observables)
        }
        return per[self._observables[0]] if len(self._observables) == 1 else per

    @property
    def source_covariances(self) -> dict[str, FloatArray]:
        """source -> its contribution V_k = Λᵀ C_k Λ to the combined covariance (m × m)."""
        return {s: self._Vk[k].copy() for k, s in enumerate(self._sources)}

    @property
    def weights(self) -> FloatArray | dict[str, FloatArray]:
        """BLUE weights Λ: a 1-d array over inputs for one observable, else observable ->
        array over all inputs (inputs of other observables can have non-zero weight)."""
        return self._per_obs(self._Lam)

    @property
    def weight_matrix(self) -> FloatArray:
        """The n × m weight matrix Λ (inputs × observables)."""
        return self._Lam.copy()

    @property
    def weights_table(self) -> dict[str, float] | dict[str, dict[str, float]]:
        """Weights by name: measurement -> weight (one observable) or observable ->
        (measurement -> weight)."""
        per = {
            o: {m: float(self._Lam[i, j]) for i, m in enumerate(self._names)}
            for j, o in enumerate(self._observables)
        }
        return per[self._observables[0]] if len(self._observables) == 1 else per

    @property
    def negative_weights(self) -> list[tuple[str, str, float]]:
        """(observable, measurement, weight) for every negative weight of an input of that
        observable."""
        out = []
        for j, o in enumerate(self._observables):
            for i, m in enumerate(self._names):
                if self._observable_of[i] == o and self._Lam[i, j] < 0:
                    out.append((o, m, float(self._Lam[i, j])))
        return out

    @property
    def chi2_ndf(self) -> tuple[float, int]:
        """(χ², ndf) of the inputs with respect to the combination, ndf = n − m."""
        r = self._values - self._U @ self._x
        chi2 = float(r @ np.linalg.solve(self._C, r))
        return chi2, len(self._names) - len(self._observables)

    @property
    def p_value(self) -> float:
        """χ² probability of :attr:`chi2_ndf` (NaN for ndf = 0, as the χ² method's
        ``pvalue``: with no degree of freedom there is nothing to test)."""
        return self._result.pvalue

    @property
    def total_covariance(self) -> FloatArray:
        """The total covariance C of the inputs (n × n)."""
        return self._C.copy()

    @property
    def total_correlations(self) -> FloatArray:
        """The total correlation matrix of the inputs (n × n)."""
        d = np.sqrt(np.diag(self._C))
        return self._C / np.outer(d, d)

    @property
    def combined_covariance(self) -> FloatArray:
        """Covariance V of the combined observables (m × m, also for one observable)."""
        return self._V.copy()

    @property
    def combined_correlations(self) -> FloatArray:
        """Correlation matrix of the combined observables (m × m)."""
        d = np.sqrt(np.diag(self._V))
        return self._V / np.outer(d, d)

    @property
    def pulls(self) -> FloatArray:
        """(y_i − x̂) / √(σ_i² − σ_x̂²) per input (x̂ of the input's observable). NaN only when
        the denominator vanishes, i.e. the input alone determines the combination."""
        U = self._U  # one-hot rows; a linear input's row holds its coefficients
        num = self._values - U @ self._x
        den = np.diag(self._C) - np.einsum("ia,ab,ib->i", U, self._V, U)
        ok = den > 1e-12 * np.diag(self._C)
        out = np.full(len(num), np.nan)
        out[ok] = num[ok] / np.sqrt(den[ok])
        return out

    @property
    def intrinsic_information_weights(self) -> FloatArray | dict[str, FloatArray]:
        """IIW_i = σ_x̂² / σ_i² for the inputs of each observable (0 for other inputs)."""
        out = np.zeros_like(self._Lam)
        for j, o in enumerate(self._observables):
            for i in range(len(self._names)):
                if self._observable_of[i] == o:
                    out[i, j] = self._V[j, j] / self._C[i, i]
        return self._per_obs(out)

    @property
    def correlation_weight(self) -> float | dict[str, float]:
        """1 − Σ_i IIW_i: the information attributed to correlations."""
        iiw = self.intrinsic_information_weights
        if isinstance(iiw, dict):
            return {o: float(1.0 - v.sum()) for o, v in iiw.items()}
        return float(1.0 - iiw.sum())

    @property
    def marginal_information_weights(self) -> FloatArray | dict[str, FloatArray]:
        """MIW_i = 1 − σ_x̂² / σ_x̂²(without input i); 1 when input i is the only input of
        the observable. The uncertainties are kept at their current values."""
        n = len(self._names)
        out = np.zeros_like(self._Lam)
        for i in range(n):
            keep = [k for k in range(n) if k != i]
            obs_left = {self._observable_of[k] for k in keep}
            if keep:
                cols = [j for j, o in enumerate(self._observables) if o in obs_left]
                sub_U = self._U[np.ix_(keep, cols)]
                sub_C = self._C[np.ix_(keep, keep)]
                sub_V = np.linalg.inv(sub_U.T @ np.linalg.solve(sub_C, sub_U))
            for j, o in enumerate(self._observables):
                if o not in obs_left:
                    out[i, j] = 1.0
                else:
                    out[i, j] = 1.0 - self._V[j, j] / sub_V[cols.index(j), cols.index(j)]
        return self._per_obs(out)

    @property
    def relative_importance(self) -> FloatArray | dict[str, FloatArray]:
        """RI_i = |Λ_i| / Σ_j |Λ_j| per observable."""
        a = np.abs(self._Lam)
        return self._per_obs(a / a.sum(axis=0))

    def pairwise_compatibility(self) -> dict[tuple[str, str], Compatibility]:
        """χ² of the difference of every pair of inputs of the same observable, with the
        total covariance (1 degree of freedom)."""
        from scipy.stats import chi2 as chi2_dist

        out = {}
        C, y = self._C, self._values
        for a in range(len(y)):
            for b in range(a + 1, len(y)):
                if self._observable_of[a] != self._observable_of[b]:
                    continue
                if self._names[a] in self._linear or self._names[b] in self._linear:
                    continue
                var = C[a, a] + C[b, b] - 2 * C[a, b]
                d = y[a] - y[b]
                if var <= 1e-12 * (C[a, a] + C[b, b]):
                    c = 0.0 if d == 0 else math.inf
                else:
                    c = float(d * d / var)
                out[(self._names[a], self._names[b])] = Compatibility(
                    c, 1, float(chi2_dist.sf(c, 1))
                )
        return out

    # ---------------------------------------------------------------- sub-combinations, scans

    def __getitem__(self, key: str | Iterable[str]) -> Blue:
        """``blue[["ATLAS", "CMS"]]``: the combination of a subset of the inputs, with the
        same correlation assumptions (and iteration settings)."""
        keys = [key] if isinstance(key, str) else [str(k) for k in key]
        unknown = [k for k in keys if k not in self._names]
        if unknown:
            raise UnknownName(f"unknown measurement(s) {unknown}; known: {list(self._names)}")
        if not keys:
            raise InvalidMeasurement("a sub-combination needs at least one measurement")
        return self._derived(keep=[self._names.index(k) for k in dict.fromkeys(keys)])

    def scan_correlations(
        self,
        source: str | None = None,
        *,
        pairs: Iterable[tuple[str, str]] | None = None,
        factors: ArrayLike | None = None,
    ) -> CorrelationScan:
        """Multiply assumed off-diagonal correlations by each factor and recombine.

        ``source`` alone scales all pairs of that source; ``pairs`` alone scales those pairs of
        measurements for every source; both: only those pairs of that source. Factors default
        to 0, 0.1, ..., 1. Points where the total covariance is no longer positive definite
        are NaN and marked in ``valid`` (a warning is logged)."""
        if source is None and pairs is None:
            raise InvalidCorrelation("scan_correlations needs a source, pairs, or both")
        if source is not None and source not in self._sources:
            raise UnknownName(f"unknown source {source!r}; known: {list(self._sources)}")
        n = len(self._names)
        mask = np.zeros((n, n), dtype=bool)
        pair_list: tuple[tuple[str, str], ...] | None = None
        if pairs is None:
            mask[:] = True
        else:
            pair_list = tuple((str(a), str(b)) for a, b in pairs)
            for a, b in pair_list:
                for x in (a, b):
                    if x not in self._names:
                        raise UnknownName(f"unknown measurement {x!r} in scanned pairs")
                ia, ib = self._names.index(a), self._names.index(b)
                mask[ia, ib] = mask[ib, ia] = True
        np.fill_diagonal(mask, False)
        ks = [self._sources.index(source)] if source is not None else range(len(self._sources))
        f = np.linspace(0.0, 1.0, 11) if factors is None else np.atleast_1d(factors).astype(float)
        m = len(self._observables)
        vals = np.full((len(f), m), np.nan)
        errs = np.full((len(f), m), np.nan)
        for point, fac in enumerate(f):
            rho = self._rho.copy()
            for k in ks:
                rho[k][mask] *= fac
            try:
                sub = self._derived(rho=rho)
            except InvalidCorrelation as exc:
                log.warning("correlation scan: factor %g skipped: %s", fac, exc)
                continue
            vals[point] = sub._x
            errs[point] = np.sqrt(np.diag(sub._V))
        err0 = np.sqrt(np.diag(self._V))
        return CorrelationScan(
            source=source,
            pairs=pair_list,
            factors=f,
            observables=self._observables,
            values=vals,
            uncertainties=errs,
            value_shifts=vals - self._x,
            uncertainty_shifts=errs - err0,
            valid=np.isfinite(vals).all(axis=1),
        )

    # ---------------------------------------------------------------- display

    def _summary_lines(self) -> list[str]:
        chi2, ndf = self.chi2_ndf
        n, k, m = len(self._names), len(self._sources), len(self._observables)
        lines = [
            f"Blue: {n} measurement{'s' * (n != 1)}, {k} source{'s' * (k != 1)}, "
            f"{m} observable{'s' * (m != 1)}"
            + (f", iterative ({self._iterations} iterations)" if self._iterative else "")
        ]
        for j, o in enumerate(self._observables):
            lines.append(f"  {o} = {self._x[j]:.6g} ± {math.sqrt(self._V[j, j]):.4g}")
            w = ", ".join(
                f"{mm} {self._Lam[i, j]:.4f}"
                for i, mm in enumerate(self._names)
                if self._observable_of[i] == o or abs(self._Lam[i, j]) > 1e-12
            )
            lines.append(f"    weights: {w}")
        lines.append(f"  chi2/ndf = {chi2:.4g}/{ndf}, p = {self.p_value:.4g}")
        if self.negative_weights:
            lines.append(
                "  negative weights: "
                + ", ".join(f"{mm} ({o}) {w:.4f}" for o, mm, w in self.negative_weights)
            )
        if self._non_psd:
            lines.append(f"  non-PSD correlation matrices: {self._non_psd}")
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._summary_lines())

    def _repr_html_(self) -> str:
        e = html.escape
        chi2, ndf = self.chi2_ndf
        head = "".join(f"<th>{e(o)} weight</th>" for o in self._observables)
        rows = []
        for i, mm in enumerate(self._names):
            tot = math.sqrt(self._C[i, i])
            w = "".join(f"<td>{self._Lam[i, j]:.4f}</td>" for j in range(len(self._observables)))
            rows.append(
                f"<tr><td>{e(mm)}</td><td>{e(self._observable_of[i])}</td>"
                f"<td>{self._values[i]:.6g}</td><td>{tot:.4g}</td>{w}</tr>"
            )
        res = "".join(
            f"<tr><th>{e(o)}</th><td>{self._x[j]:.6g} ± {math.sqrt(self._V[j, j]):.4g}</td></tr>"
            for j, o in enumerate(self._observables)
        )
        warn = ""
        if self.negative_weights:
            warn = "<p>negative weights: " + e(
                ", ".join(f"{mm} ({o}) {w:.4f}" for o, mm, w in self.negative_weights)
            )
            warn += "</p>"
        return (
            "<div><strong>Blue combination</strong>"
            f"<table><tr><th>measurement</th><th>observable</th><th>value</th>"
            f"<th>total unc.</th>{head}</tr>{''.join(rows)}</table>"
            f"<table>{res}<tr><th>χ²/ndf</th><td>{chi2:.4g}/{ndf} "
            f"(p = {self.p_value:.4g})</td></tr></table>{warn}</div>"
        )


def _pvalue(chi2: float, ndf: int) -> float:
    if ndf <= 0:
        return math.nan
    from scipy.special import chdtrc

    return float(chdtrc(ndf, chi2))


def blue_from_csv(table: str | Path, correlations: str | Path | None = None, **kwargs: Any) -> Blue:
    """Build a :class:`Blue` from the CSV files of ``data/`` (read by
    :func:`hepcombine.inputs.csv.read_blue_csv`: ``table`` has one row per measurement with
    columns ``measurement``, optionally ``observable``, ``value``, then one column per source;
    ``correlations`` the long form ``source, measurement_a, measurement_b, rho``; pairs and
    sources not listed are uncorrelated). Further keyword arguments go to :class:`Blue`
    (``iterative=``, ``scaling=``, ...)."""
    from ..inputs.csv import read_blue_csv

    data, pairs = read_blue_csv(table, correlations)
    return Blue(data, pairs, results_column="value", **kwargs)


def __dir__() -> list[str]:
    return list(__all__)

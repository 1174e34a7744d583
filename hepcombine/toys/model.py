r"""Pseudo-experiments of a combination: how pseudo-measurements are generated.

A pseudo-experiment replaces the data of every measurement of a combination by a random draw
from the model the combination itself assumes, at a chosen truth, and recombines it with the
same assumptions (correlations, χ² definition, asymmetry interpolation). Notation as in
method.md §1–2: measurement α reports estimates x̂ with statistical information M (covariance
V = M⁻¹), shifts u (up/down) of its sources, source information D and fitted source values λ̂.

Truth
    Combined values x̄: the nominal combination's values (spectators: their fitted values), or
    values the user gives. Sources λ (all sources of all measurements, as
    ``Combiner.sources``): by default drawn per pseudo-experiment from their prior
    N(0, C), C the assumed correlation matrix (λ = L ξ, C = L Lᵀ, ξ ~ N(0, 1)); this is what
    the combination's prior term λᵀC⁻¹λ means, and with it the pulls of a quadratic
    combination are exactly N(0, 1) (the estimator's error is Gaussian with the inverse
    Hessian as covariance). Optionally λ is fixed: at 0, at the nominal post-fit pulls, or at
    given values (a conditional study: pull widths are then < 1 and bias can appear).

The data part of a measurement (method.md §1)
    χ²_α(x, λ) = ‖x − x̂ − U(λ − λ̂)‖²_M + (λ − λ̂)ᵀD(λ − λ̂) − 2λ̂ᵀλ + λ̂ᵀλ̂
is, up to a constant, the χ² of two independent pseudo-observations:
    z = x̂ − Uλ̂                 with mean x − Uλ and information M, and
    a = D⁺(1 + D)λ̂            with mean λ and information D (on the range of D),
since (λ − λ̂)ᵀD(λ − λ̂) − 2λ̂ᵀλ = (λ − a)ᵀD(λ − a) + const. Conversely the original fit,
χ²_α + λᵀλ minimised over (x, λ), maps (z, a) back to λ̂ = (1 + D)⁻¹D a and x̂ = z + Uλ̂.
A pseudo-measurement therefore draws, with D = Q diag(d) Qᵀ (d > 0 kept):

    λ̂* = Q [(d ∘ Qᵀλ + √d ∘ ξ_a) / (1 + d)],    ξ_a ~ N(0, 1)
    x̂* = X(x̄, λ; λ̂*) + ε

where X is the prediction of the estimates the combination uses (``chi2.py``), with δ = λ − λ̂*:

    X_μ = x̄_c(μ) · Π_rel (1 − s_μi(δ_i)/x̂_μ) − Σ_abs s_μi(δ_i),

s the shift of each source (u·δ; Convino's piecewise-linear or the smooth interpolation for
asymmetric sources). For absolute sources this is x̂* = z* + Uλ̂* with z* ~ N(x − Uλ, V), i.e.
exactly the pseudo-observations above; consequently (x̂* − x, λ̂* − λ) has covariance H⁻¹ (the
inverse Hessian of the original fit) and x̂* alone the measurement's total covariance
V + U(1 + D)⁻¹Uᵀ when λ is drawn from its prior (checked in the tests). Directions of λ the
measurement's data do not inform (d = 0) get λ̂* = 0 there. Each source type's response is one
function in :data:`RESPONSES` (absolute: an added shift, relative: a factor 1 − s/x̂,
log-normal: a factor exp(ℓ(δ)), never negative).

Statistical fluctuation ε and what the pseudo-measurement reports (``stat=``)
    ``"fixed"`` (default for Neyman): ε ~ N(0, V); the pseudo-measurement reports M.
    ``"scaled"`` (default for Pearson): the variance scales with the prediction, as the
        Pearson χ² assumes (method.md §2: M_μν · √(x̂_μ/X_μ · x̂_ν/X_ν)), so
        ε ~ N(0, V_μν √(X_μ/x̂_μ · X_ν/x̂_ν)); the pseudo-measurement reports the variance
        a counting experiment would, proportional to its own estimate:
        M*_μν = M_μν √(x̂_μ/x̂*_μ · x̂_ν/x̂*_ν).
    ``"poisson"``: each estimate is a scaled count, as the pseudo-measurements of the Convino
        paper's Sect. 3: x̂*_μ = w_μ n_μ with n_μ ~ Poisson(X_μ / w_μ), w_μ = V_μμ/x̂_μ the
        variance per event (x̂_μ/w_μ = (x̂_μ/σ_μ)² effective events); reported as for
        ``"scaled"`` (M* = 1/(w x̂*)). Needs uncorrelated statistical uncertainties.

With these choices the χ² of the pseudo-measurement as the combiner builds it (relative
shifts keep their size relative to the estimate, ``Combiner.with_estimates``) is the
combination's own model with new data: for Neyman and ``"fixed"`` it is −2 ln L of the
generated data up to a constant; for Pearson and ``"scaled"`` the variance model
V·X/x̂ is the one the data were drawn with. Neyman applied to ``"scaled"`` or ``"poisson"``
data (σ² estimated from the observed value) is biased low and Pearson high by about half as
much (Convino paper, Sect. 3.1): the pseudo-experiments show it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from ..exceptions import GenerationError, InvalidMeasurement, RunError, UnknownName

if TYPE_CHECKING:
    from ..combiner import Combiner
    from ..measurement import Measurement
    from ..result import CombinationResult

__all__ = [
    "RESPONSES",
    "PseudoExperiment",
    "ToyModel",
    "combiner_with_definition",
    "estimate_parameters",
]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]
StatModel = Literal["fixed", "scaled", "poisson"]
NuisanceMode = Literal["prior", "zero", "pulls"]

STAT_MODELS = ("fixed", "scaled", "poisson")
NUISANCE_MODES = ("prior", "zero", "pulls")


# --------------------------------------------------------------------------- responses
def interpolate(up: Array, down: Array, delta: Array, asymmetry: str) -> Array:
    """Shift s(δ) of every (estimate, source): u·δ for symmetric sources; for asymmetric ones
    Convino's piecewise-linear form (up·δ for δ ≥ 0, −down·δ below) or the smooth one
    (a δ + c δ² inside |δ| ≤ 1 with a = (up − down)/2, c = (up + down)/2, linear outside)."""
    if asymmetry == "convino":
        return np.where(delta >= 0, up, -down) * delta
    a = 0.5 * (up - down)
    c = 0.5 * (up + down)
    inside = a * delta + c * delta**2
    above = up + (a + 2 * c) * (delta - 1.0)
    below = down + (a - 2 * c) * (delta + 1.0)
    return np.where(delta > 1.0, above, np.where(delta < -1.0, below, inside))


def _absolute(x_hat: Array, up: Array, down: Array, delta: Array, asymmetry: str):
    """An absolute source moves the prediction by −s(δ)."""
    return "add", -interpolate(up, down, delta, asymmetry)


def _relative(x_hat: Array, up: Array, down: Array, delta: Array, asymmetry: str):
    """A relative source multiplies the prediction by 1 − s(δ)/x̂."""
    return "mul", 1.0 - interpolate(up, down, delta, asymmetry) / x_hat[:, None]


def _lognormal(x_hat: Array, up: Array, down: Array, delta: Array, asymmetry: str):
    """A log-normal source multiplies the prediction by exp(ℓ(δ)) with ℓ(±1) = −ln(1 + u_±/x̂)
    (one factor κ = 1 + u/x̂ for both sides of a symmetric source): method.md §1."""
    xh = x_hat[:, None]
    l_up = -np.log1p(up / xh)
    symmetric = down == -up
    l_down = np.where(symmetric, -l_up, -np.log1p(np.where(symmetric, 0.0, down) / xh))
    return "mul", np.exp(interpolate(l_up, l_down, delta, asymmetry))


#: How each type of source enters the prediction X = x̄ · Π(factors) + Σ(terms): one function
#: per type, ``f(x̂, up, down, δ, asymmetry) -> ("mul" | "add", array (n_estimates, n_sources))``.
RESPONSES: dict[str, Callable[..., tuple[str, Array]]] = {
    "absolute": _absolute,
    "relative": _relative,
    "lognormal": _lognormal,
}


def response_types(measurement: Measurement) -> tuple[str, ...]:
    """The response type (a key of :data:`RESPONSES`) of each source of ``measurement``."""
    return tuple(
        "relative"
        if s in measurement.relative
        else "lognormal"
        if s in measurement.lognormal
        else "absolute"
        for s in measurement.source_names
    )


# --------------------------------------------------------------------------- combiner access
def estimate_parameters(combiner: Combiner) -> NDArray[np.intp]:
    """For each estimate of the combination (measurements in order, estimates in order) the
    index of the combined parameter it measures: observables first, then spectators."""
    if getattr(combiner, "linear", None):
        from ..exceptions import InvalidArgument

        raise InvalidArgument(
            "pseudo-experiments of a combination with linear maps (merged or summed bins, "
            f"totals: linear quantities {list(combiner.linear)}) are not supported yet; combine "
            "without them, or in the bins every measurement has"
        )
    return np.asarray(combiner._param_of_estimate, dtype=np.intp)


def combiner_with_definition(combiner: Combiner, chi2: str) -> Combiner:
    """The same combination with another χ² definition (``"neyman"`` or ``"pearson"``); every
    other option (errors on errors included) is kept: :meth:`Combiner.with_chi2`."""
    return combiner.with_chi2(chi2)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- one measurement
@dataclass(frozen=True, eq=False)
class _MeasurementModel:
    """Everything needed to draw one measurement's pseudo-data (arrays precomputed once)."""

    name: str
    estimate_names: tuple[str, ...]
    x_hat: Array
    M: Array
    chol_v: Array  # lower Cholesky factor of V = M⁻¹
    weight: Array | None  # variance per event, for stat="poisson"
    up: Array
    down: Array
    groups: tuple[tuple[str, NDArray[np.intp]], ...]  # (response type, source columns)
    param: NDArray[np.intp]
    src: NDArray[np.intp]
    q: Array  # (n_sources, r): eigenvectors of D with positive eigenvalue
    d: Array  # (r,): those eigenvalues

    def prediction(self, xbar: Array, delta: Array, asymmetry: str) -> Array:
        """X(x̄, λ; λ̂) with δ = λ − λ̂."""
        factor = np.ones_like(self.x_hat)
        added = np.zeros_like(self.x_hat)
        for kind, cols in self.groups:
            how, terms = RESPONSES[kind](
                self.x_hat, self.up[:, cols], self.down[:, cols], delta[cols], asymmetry
            )
            if how == "mul":
                factor = factor * np.prod(terms, axis=1)
            else:
                added = added + np.sum(terms, axis=1)
        return xbar * factor + added


def _measurement_model(
    name: str,
    meas: Measurement,
    param: NDArray[np.intp],
    src: NDArray[np.intp],
    stat: str,
) -> _MeasurementModel:
    where = f"measurement {name!r}"
    V = np.linalg.inv(meas.stat_information)
    V = 0.5 * (V + V.T)
    chol_v = np.asarray(np.linalg.cholesky(V), dtype=np.float64)
    weight = None
    if stat in ("scaled", "poisson"):
        bad = [e for e, v in zip(meas.estimate_names, meas.estimates, strict=True) if not v > 0]
        if bad:
            raise InvalidMeasurement(
                f"{where}: stat={stat!r} scales the statistical variance with the estimate, which "
                f"needs positive estimates, not for {bad}; use stat='fixed'"
            )
    if stat == "poisson":
        off = V - np.diag(np.diag(V))
        if np.any(np.abs(off) > 1e-12 * np.sqrt(np.outer(np.diag(V), np.diag(V)))):
            raise InvalidMeasurement(
                f"{where}: stat='poisson' draws independent counts per estimate, but the "
                "statistical uncertainties of its estimates are correlated; use stat='scaled'"
            )
        weight = np.diag(V) / meas.estimates
    n_s = len(meas.source_names)
    types = response_types(meas)
    groups = tuple(
        (kind, np.array([j for j in range(n_s) if types[j] == kind], dtype=np.intp))
        for kind in dict.fromkeys(types)
    )
    D = 0.5 * (meas.source_information + meas.source_information.T)
    if n_s and np.any(D != 0.0):
        w, v = np.linalg.eigh(D)
        scale = max(1.0, float(np.max(np.abs(w))))
        if w[0] < -1e-8 * scale:
            involved = [meas.source_names[i] for i in np.flatnonzero(np.abs(v[:, 0]) > 0.1)]
            raise InvalidMeasurement(
                f"{where}: cannot generate pseudo-measurements: its source information D has the "
                f"negative eigenvalue {w[0]:.3g} along {involved} (the Hessian leaves less than "
                "the unit prior on these sources), so its data part is not a likelihood"
            )
        keep = w > 1e-12 * scale
        q, d = v[:, keep], w[keep]
    else:
        q, d = np.zeros((n_s, 0)), np.zeros(0)
    if n_s:
        outside = meas.nuisance_values - q @ (q.T @ meas.nuisance_values)
        if np.any(np.abs(outside) > 1e-9):
            log.warning(
                "%s: the fitted source values λ̂ have a component the measurement's data do not "
                "inform (D = 0 there, e.g. %s); pseudo-measurements report λ̂ = 0 in that direction",
                where,
                [meas.source_names[i] for i in np.flatnonzero(np.abs(outside) > 1e-9)][:5],
            )
    return _MeasurementModel(
        name=name,
        estimate_names=meas.estimate_names,
        x_hat=np.array(meas.estimates),
        M=np.array(meas.stat_information),
        chol_v=chol_v,
        weight=weight,
        up=np.array(meas.shifts_up),
        down=np.array(meas.shifts_down),
        groups=groups,
        param=param,
        src=src,
        q=q,
        d=d,
    )


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True, eq=False)
class PseudoExperiment:
    """The data of one pseudo-experiment.

    Attributes
    ----------
    estimates, nuisance_values, stat_information:
        ``{measurement: array}``: what each pseudo-measurement reports (x̂*, λ̂*, M*), in the
        order of the measurement's estimates and sources.
    nuisance_truth:
        The true source values λ of this pseudo-experiment, in the order of
        ``Combiner.sources``.
    """

    estimates: Mapping[str, Array]
    nuisance_values: Mapping[str, Array]
    stat_information: Mapping[str, Array]
    nuisance_truth: Array


class ToyModel:
    """The generation model of pseudo-experiments of a combination (see the module docstring).

    Parameters
    ----------
    combiner:
        The combination (its assumptions are used to generate and to recombine).
    nominal:
        Its result (computed if not given): the default truth, the post-fit pulls, the
        assumed correlation matrix and ndf.
    truth:
        ``{observable: true value}`` (spectators as ``"measurement:estimate"``); observables
        not given are at their nominal combined value.
    nuisance:
        The true source values: ``"prior"`` (drawn from N(0, C) per pseudo-experiment,
        default), ``"zero"``, ``"pulls"`` (the nominal post-fit values), or
        ``{source: value}`` (fixed; unnamed sources at 0).
    stat:
        ``"fixed"``, ``"scaled"`` or ``"poisson"`` (module docstring); default ``"fixed"`` for a
        Neyman and ``"scaled"`` for a Pearson combination.
    """

    def __init__(
        self,
        combiner: Combiner,
        nominal: CombinationResult | None = None,
        *,
        truth: Mapping[str, float] | None = None,
        nuisance: NuisanceMode | Mapping[str, float] = "prior",
        stat: StatModel | None = None,
    ) -> None:
        if nominal is None:
            nominal = combiner.combine(intervals=False, decompositions=False)
        if stat is None:
            stat = "scaled" if combiner.chi2 == "pearson" else "fixed"
        if stat not in STAT_MODELS:
            raise RunError(f"stat must be one of {STAT_MODELS}, not {stat!r}")
        self.combiner = combiner
        self.stat: str = stat
        self.asymmetry: str = combiner.asymmetry
        self.observables: tuple[str, ...] = tuple(combiner.observables)
        self.spectators: tuple[str, ...] = tuple(combiner.spectators)
        self.sources: tuple[str, ...] = tuple(combiner.sources)
        self.ndf: int = int(nominal.ndf)
        self.truth = self._truth(nominal, truth)
        #: the nominal combination's uncertainties: the unit of the bias
        self.sigma = np.array([nominal.errors[o] for o in self.observables], dtype=float)
        self.nuisance_mode, self._fixed_lambda = self._nuisance(nominal, nuisance)
        C = np.asarray(nominal.correlation_assumptions.matrix, dtype=float)
        if C.size:
            w, v = np.linalg.eigh(0.5 * (C + C.T))
            keep = w > 1e-9 * len(w)
            self._prior_factor = v[:, keep] * np.sqrt(w[keep])
        else:
            self._prior_factor = np.zeros((0, 0))
        param = estimate_parameters(combiner)
        self._measurements = []
        e0 = s0 = 0
        for name, meas in combiner.measurements.items():
            n_e, n_s = len(meas.estimate_names), len(meas.source_names)
            self._measurements.append(
                _measurement_model(
                    name, meas, param[e0 : e0 + n_e], np.arange(s0, s0 + n_s, dtype=np.intp), stat
                )
            )
            e0 += n_e
            s0 += n_s

    # ------------------------------------------------------------------ set-up
    def _truth(self, nominal: CombinationResult, truth: Mapping[str, float] | None) -> Array:
        fitted = self.observables + self.spectators
        values = [nominal.values[o] for o in self.observables]
        values += [nominal.spectators[s][0] for s in self.spectators]
        out = np.array(values, dtype=float)
        for k, v in (truth or {}).items():
            if k not in fitted:
                raise UnknownName(
                    f"truth given for {k!r}, which is not a combined observable or spectator; "
                    f"observables are {list(self.observables)[:10]}"
                )
            value = float(v)
            if not np.isfinite(value):
                raise InvalidMeasurement(f"the true value of {k!r} is not finite: {v!r}")
            out[fitted.index(k)] = value
        out.setflags(write=False)
        return out

    def _nuisance(
        self, nominal: CombinationResult, nuisance: NuisanceMode | Mapping[str, float]
    ) -> tuple[str, Array | None]:
        if isinstance(nuisance, Mapping):
            lam = np.zeros(len(self.sources))
            for ref, v in nuisance.items():
                lam[self.combiner._names.source(ref)] = float(v)
            if not np.all(np.isfinite(lam)):
                raise InvalidMeasurement("the true source values must be finite")
            return "fixed", lam
        if nuisance == "prior":
            return "prior", None
        if nuisance == "zero":
            return "zero", np.zeros(len(self.sources))
        if nuisance == "pulls":
            return "pulls", np.array([nominal.pulls[s] for s in self.sources], dtype=float)
        raise RunError(
            f"nuisance must be one of {NUISANCE_MODES} or a mapping {{source: value}}, not {nuisance!r}"
        )

    # ------------------------------------------------------------------ generation
    @property
    def truth_values(self) -> Mapping[str, float]:
        """``{observable: true value}``."""
        return MappingProxyType({o: float(self.truth[i]) for i, o in enumerate(self.observables)})

    def generate(self, rng: np.random.Generator) -> PseudoExperiment:
        """Draw one pseudo-experiment; raises :class:`GenerationError` if the drawn data cannot
        be reported (a non-positive estimate where the variance scales with it)."""
        if self._fixed_lambda is None:
            lam = self._prior_factor @ rng.standard_normal(self._prior_factor.shape[1])
        else:
            lam = self._fixed_lambda
        estimates, nuisance, information = {}, {}, {}
        for mm in self._measurements:
            lam_a = lam[mm.src]
            if mm.d.size:
                xi = rng.standard_normal(mm.d.size)
                lam_hat = mm.q @ ((mm.d * (mm.q.T @ lam_a) + np.sqrt(mm.d) * xi) / (1.0 + mm.d))
            else:
                lam_hat = np.zeros(mm.src.size)
            X = mm.prediction(self.truth[mm.param], lam_a - lam_hat, self.asymmetry)
            estimates[mm.name], information[mm.name] = self._fluctuate(mm, X, rng)
            nuisance[mm.name] = lam_hat
        return PseudoExperiment(estimates, nuisance, information, lam)

    def _fluctuate(self, mm: _MeasurementModel, X: Array, rng: np.random.Generator):
        if self.stat == "fixed":
            return X + mm.chol_v @ rng.standard_normal(X.size), mm.M
        ratio = X / mm.x_hat
        if not np.all(ratio > 0):
            raise GenerationError(
                f"the prediction of {self._which(mm, ratio <= 0)} is not positive, so its "
                f"statistical variance (stat={self.stat!r}) is undefined"
            )
        if self.stat == "scaled":
            x = X + np.sqrt(ratio) * (mm.chol_v @ rng.standard_normal(X.size))
        else:
            assert mm.weight is not None
            x = mm.weight * rng.poisson(X / mm.weight)
        if not np.all(x > 0):
            raise GenerationError(
                f"pseudo-measurement {self._which(mm, x <= 0)} ≤ 0: the variance it would "
                f"report (stat={self.stat!r}, proportional to the estimate) is zero or negative"
            )
        s = np.sqrt(mm.x_hat / x)
        return x, mm.M * np.outer(s, s)

    @staticmethod
    def _which(mm: _MeasurementModel, bad: NDArray[np.bool_]) -> str:
        names = [f"{mm.name}:{mm.estimate_names[i]}" for i in np.flatnonzero(bad)]
        return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")

    def combiner_for(self, pseudo: PseudoExperiment, combiner: Combiner | None = None) -> Combiner:
        """The combination of the pseudo-measurements (``combiner``: the same combination with
        another χ² definition, default the model's own)."""
        combiner = self.combiner if combiner is None else combiner
        stat = None if self.stat == "fixed" else pseudo.stat_information
        return combiner.with_estimates(pseudo.estimates, pseudo.nuisance_values, stat)

    # ------------------------------------------------------------------ identity
    def describe(self) -> dict[str, object]:
        """A JSON-ready description of the model (without the measurements' arrays)."""
        return {
            "chi2": self.combiner.chi2,
            "asymmetry": self.asymmetry,
            "stat": self.stat,
            "nuisance": self.nuisance_mode,
            "observables": list(self.observables),
            "truth": [float(t) for t in self.truth[: len(self.observables)]],
            "sigma": [float(e) for e in self.sigma],
            "ndf": self.ndf,
        }

    def fingerprint(self, **options: object) -> str:
        """SHA-256 of everything that determines the pseudo-experiments and their
        recombination: the measurements' arrays, the mapping, the correlation assumptions, the
        χ² definition, the truth, the nuisance and statistical models, plus ``options``."""
        h = hashlib.sha256()
        comb = self.combiner

        def add(value: object) -> None:
            if isinstance(value, np.ndarray):
                arr = np.ascontiguousarray(value, dtype=np.float64)
                h.update(repr(arr.shape).encode())
                h.update(arr.astype("<f8").tobytes())
            else:
                h.update(json.dumps(value, sort_keys=True, default=str).encode())
            h.update(b"|")

        add({"kind": "hepcombine-toys/1", **self.describe(), "options": options})
        add(
            {
                "spectators": list(self.spectators),
                "sources": list(self.sources),
                "param": estimate_parameters(comb).tolist(),
                "correlations": sorted([i, j, rho] for (i, j), rho in comb.correlations.items()),
                "repair": comb.repair,
            }
        )
        for name, meas in comb.measurements.items():
            add([name, list(meas.estimate_names), list(meas.source_names), sorted(meas.relative)])
            for arr in (
                meas.estimates,
                meas.stat_information,
                meas.shifts_up,
                meas.shifts_down,
                meas.source_information,
                meas.nuisance_values,
            ):
                add(np.asarray(arr))
        add(np.asarray(self.truth))
        if self._fixed_lambda is not None:
            add(self._fixed_lambda)
        return h.hexdigest()


def __dir__() -> list[str]:
    return list(__all__)

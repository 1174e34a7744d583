"""The Convino χ² combination: names → canonical arrays → χ² → solver → result.

Naming. Measurements are named (``Combiner({"ATLAS": m1, "CMS": m2})`` or measurements built
with ``name=``). An estimate or a source is referred to as ``"measurement:name"``, or by its bare
name where that is unique among all measurements of the combination; a tuple
``("measurement", "name")`` works as well. Sources are always distinct parameters per
measurement, even when two measurements use the same name: say how they are related with a
correlation (``{("ATLAS:lumi", "CMS:lumi"): 1.0}``). References are resolved by
:class:`hepcombine.names.Names`, the resolver the readers use too.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._stats import chi2_sf
from .chi2 import CombinedChi2, GammaConstraint, MeasurementBlock
from .correlations import CorrelationFactor, factorize_correlations
from .errors_on_errors import gamma_terms, resolve, with_variance_factors
from .exceptions import InvalidArgument, InvalidCorrelation, InvalidMeasurement, UnknownName
from .linear_maps import linear_quantities
from .measurement import Measurement
from .names import Names, Ref
from .result import BartlettCorrection, CombinationResult, NamedMatrix, Table
from .solver import Solution, blas_threads, make_minuit, minimise, profile_intervals
from .solver.contours import Profile

__all__ = ["Combiner"]

log = logging.getLogger(__name__)

STAT = "stat"
CROSS = "correlations between groups"


def _check_pearson(name: str, meas: Measurement) -> None:
    """The Pearson χ² divides by the estimates: every one must be positive."""
    bad = [e for e, v in zip(meas.estimate_names, meas.estimates, strict=True) if not v > 0]
    if bad:
        raise InvalidMeasurement(
            f"measurement {name!r}: the Pearson χ² needs positive estimates, not for {bad}; "
            "use chi2='neyman'"
        )


class Combiner:
    """Combine measurements with the χ² method of the Convino paper (method.md §2).

    Parameters
    ----------
    measurements:
        ``{name: Measurement}``, or a sequence of measurements built with ``name=``.
    observables:
        ``{combined name: [estimate references]}``: which estimates measure which combined
        quantity, any number from any measurement. Estimates mapped to nothing are
        spectators (fitted as their own free parameter and reported). ``None``: estimates with
        the same name in different measurements are combined into an observable of that name.
    correlations:
        ``{(source a, source b): ρ}``: the assumed correlation between two sources (of the same
        or of different measurements), −1 ≤ ρ ≤ 1, ±1 exact. Unlisted pairs are uncorrelated.
    chi2:
        ``"neyman"`` (statistical uncertainties fixed) or ``"pearson"`` (scaled with the
        prediction, method.md §2).
    groups:
        ``{group: [source references]}`` for the uncertainty breakdown and the impacts. By
        default sources are grouped by their bare name across measurements (``"lumi"`` =
        ATLAS's and CMS's lumi), as in BLUE tables.
    asymmetry:
        How asymmetric shifts are interpolated: ``"convino"`` (piecewise linear, kink at 0, as
        the original program) or ``"smooth"`` (quadratic for |λ| ≤ 1, linear outside).
    repair:
        Replace an indefinite correlation assumption by the nearest valid correlation matrix
        instead of raising; the changes are reported in ``result.correlation_repairs``.
    minimiser:
        ``"newton"`` (default): hepcombine's Newton solver with an active set for kinks and
        verified Venzon–Moolgavkar profile intervals (method.md §2b); ``"minuit"``: iminuit's
        Migrad and Minos, as the original program, for comparison. A quadratic χ² (Neyman,
        absolute, symmetric) is solved exactly by linear algebra either way.
    errors_on_errors:
        ``{source or pattern: ε}`` or ``{source or pattern: (ε, "dependent" | "independent")}``
        (or an :class:`~hepcombine.errors_on_errors.ErrorOnError`): the relative uncertainty ε
        of the size of these sources, the gamma variance model (method.md §2c; see
        :mod:`hepcombine.errors_on_errors`). A bare name stands for every source of that name,
        a pattern (``"JES*"``, ``"atlas:*"``) for all it matches. ``"dependent"`` (default):
        one ε and one variance factor for all of them, which must be whole correlated groups;
        ``"independent"``: one per source. The χ² is then −2 ln L of that model (not
        quadratic), χ²_min its value at the minimum; ε = 0 is the Gaussian χ² exactly.
    bartlett:
        With errors on errors, report Bartlett-corrected results: each profile interval at
        Δχ² = b (the Bartlett factor of its profile statistic, instead of 1) and the goodness
        of fit χ²_min · ndf / b_χ² (``result.bartlett``). The factors are reported either way.
    linear:
        ``{name: {"sum_of": [observables]} | {"coefficients": {observable: a}}, "measured_by":
        [estimates], "report": True}`` (or :class:`~hepcombine.linear_maps.LinearQuantity`):
        combined quantities that are linear combinations Σ a_c x̄_c of the observables, and
        the estimates that measure them (a total beside the bins, a coarser bin spanning several
        combined bins). Those estimates are mapped to nothing else. The χ² stays quadratic for
        Neyman with absolute sources. Reported quantities (the default) appear in the result
        after the observables, with their covariance and correlations to every observable.
        An observable measured only through linear quantities is listed in ``observables``
        with an empty list.
    """

    def __init__(
        self,
        measurements: Mapping[str, Measurement] | Sequence[Measurement],
        observables: Mapping[str, Sequence[Ref]] | None = None,
        correlations: Mapping[tuple[Ref, Ref], float] | None = None,
        chi2: Literal["neyman", "pearson"] = "neyman",
        *,
        groups: Mapping[str, Sequence[Ref]] | None = None,
        asymmetry: Literal["convino", "smooth"] = "convino",
        repair: bool = False,
        minimiser: Literal["newton", "minuit"] = "newton",
        errors_on_errors: Mapping[Ref, Any] | None = None,
        bartlett: bool = False,
        linear: Mapping[str, Any] | None = None,
    ) -> None:
        self.measurements = self._named(measurements)
        if minimiser not in ("newton", "minuit"):
            raise ValueError(f"minimiser must be 'newton' or 'minuit', not {minimiser!r}")
        self.minimiser = minimiser
        if chi2 not in ("neyman", "pearson"):
            raise InvalidArgument(f"chi2 must be 'neyman' or 'pearson', not {chi2!r}")
        if asymmetry not in ("convino", "smooth"):
            raise InvalidArgument(f"asymmetry must be 'convino' or 'smooth', not {asymmetry!r}")
        self.chi2 = chi2
        self.asymmetry = asymmetry
        self.repair = repair
        self._names = Names(self.measurements)
        self.linear = linear_quantities(linear)
        by_linear = self._linear_estimates()
        self.observables, self._param_of_estimate, self.spectators = self._map_observables(
            observables, by_linear
        )
        self._linear_rows = self._linear_coefficients(by_linear)
        self.correlations = self._check_correlations(correlations or {})
        self.groups = self._make_groups(groups)
        self.errors_on_errors = dict(errors_on_errors or {})
        self._eoe = resolve(self._names, self.errors_on_errors)
        self.bartlett = bool(bartlett)
        if self.bartlett and minimiser == "minuit":
            raise InvalidArgument(
                "bartlett=True needs minimiser='newton' (Minos finds Δχ² = 1 intervals only)"
            )
        if chi2 == "pearson":
            for m, meas in self.measurements.items():
                _check_pearson(m, meas)

    # ------------------------------------------------------------------ set-up
    @staticmethod
    def _named(
        measurements: Mapping[str, Measurement] | Sequence[Measurement],
    ) -> dict[str, Measurement]:
        if isinstance(measurements, Mapping):
            out = {str(k): (m if m.name == k else m.named(str(k))) for k, m in measurements.items()}
        else:
            out = {}
            for i, m in enumerate(measurements):
                if not isinstance(m, Measurement):
                    raise InvalidMeasurement(
                        f"input {i} is a {type(m).__name__}, not a Measurement"
                    )
                if not m.name:
                    raise InvalidMeasurement(
                        f"measurement {i} has no name: build it with name=... or pass a dict {{name: measurement}}"
                    )
                if m.name in out:
                    raise InvalidMeasurement(f"two measurements are named {m.name!r}")
                out[m.name] = m
        if not out:
            raise InvalidMeasurement("no measurements to combine")
        for k in out:
            if ":" in k:
                raise InvalidMeasurement(f"measurement name {k!r} must not contain ':'")
        return out

    def _linear_estimates(self) -> dict[int, str]:
        """{estimate index: linear quantity it measures}."""
        out: dict[int, str] = {}
        for q, lq in self.linear.items():
            for ref in lq.measured_by:
                i = self._names.estimate(ref)
                if i in out:
                    m, e = self._names.estimates[i]
                    raise InvalidMeasurement(
                        f"estimate {m}:{e} measures both linear quantities {out[i]!r} and {q!r}"
                    )
                out[i] = q
        return out

    def _linear_coefficients(self, by_linear: Mapping[int, str]) -> dict[int, NDArray]:
        """{estimate index: its row of the linear map over the fitted parameters}; checks that
        every coefficient names an observable."""
        from .names import did_you_mean, some_names

        index = {o: k for k, o in enumerate(self.observables)}
        n_params = len(self.observables) + len(self.spectators)
        clash = set(self.linear) & (set(self.observables) | set(self.spectators))
        if clash:
            raise InvalidMeasurement(
                f"linear quantities {sorted(clash)} have the names of combined observables; "
                "rename them"
            )
        rows: dict[str, NDArray] = {}
        for q, lq in self.linear.items():
            row = np.zeros(n_params)
            for o, a in lq.coefficients.items():
                if o not in index:
                    raise UnknownName(
                        f"linear quantity {q!r}: {o!r} is not a combined observable"
                        f"{did_you_mean(o, self.observables)}; the observables are "
                        f"{some_names(self.observables)}"
                    )
                row[index[o]] = a
            rows[q] = row
        return {i: rows[q] for i, q in by_linear.items()}

    def _map_observables(
        self, observables: Mapping[str, Sequence[Ref]] | None, by_linear: Mapping[int, str]
    ) -> tuple[tuple[str, ...], NDArray[np.intp], tuple[str, ...]]:
        names = self._names
        param = np.full(len(names.estimates), -1, dtype=np.intp)
        if observables is None:
            position: dict[str, int] = {}  # estimate name → observable, in order of appearance
            for i, (_, e) in enumerate(names.estimates):
                if i not in by_linear:
                    param[i] = position.setdefault(e, len(position))
            return tuple(position), param, ()
        obs = tuple(str(o) for o in observables)
        if len(set(obs)) != len(obs):
            raise InvalidMeasurement(f"observable names are not unique: {list(obs)}")
        in_linear = {o for lq in self.linear.values() for o in lq.coefficients}
        for k, (o, refs) in enumerate(observables.items()):
            if isinstance(refs, str):
                raise InvalidMeasurement(
                    f"observable {o!r}: give a list of estimates, not the string {refs!r}"
                )
            if not refs and o not in in_linear:
                raise InvalidMeasurement(f"observable {o!r} combines no estimate")
            for ref in refs:
                i = names.estimate(ref)
                if i in by_linear:
                    m, e = names.estimates[i]
                    raise InvalidMeasurement(
                        f"estimate {m}:{e} is mapped to observable {o!r} and measures the "
                        f"linear quantity {by_linear[i]!r}; map it to one of them"
                    )
                if param[i] >= 0:
                    m, e = names.estimates[i]
                    raise InvalidMeasurement(
                        f"estimate {m}:{e} is mapped to both {obs[param[i]]!r} and {o!r}"
                    )
                param[i] = k
        spectators = []
        for i in map(int, np.flatnonzero(param < 0)):
            if i in by_linear:
                continue
            m, e = names.estimates[i]
            spectators.append(f"{m}:{e}")
            param[i] = len(obs) + len(spectators) - 1
        clash = set(spectators) & set(obs)
        if clash:
            raise InvalidMeasurement(f"observable names {sorted(clash)} clash with spectator names")
        return obs, param, tuple(spectators)

    def _check_correlations(
        self, correlations: Mapping[tuple[Ref, Ref], float]
    ) -> dict[tuple[int, int], float]:
        out: dict[tuple[int, int], float] = {}
        src = self._names.sources
        for key, rho in correlations.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise InvalidCorrelation(f"correlation keys are pairs of sources, got {key!r}")
            i, j = self._names.source(key[0]), self._names.source(key[1])
            label = f"{src[i][0]}:{src[i][1]} ~ {src[j][0]}:{src[j][1]}"
            try:
                rho = float(rho)
            except (TypeError, ValueError):
                raise InvalidCorrelation(f"correlation {label} is not a number: {rho!r}") from None
            if not math.isfinite(rho) or abs(rho) > 1.0:
                raise InvalidCorrelation(f"correlation {label} = {rho} is outside [-1, 1]")
            if i == j:
                raise InvalidCorrelation(
                    f"correlation of source {src[i][0]}:{src[i][1]} with itself"
                )
            pair = (min(i, j), max(i, j))
            if pair in out and out[pair] != rho:
                raise InvalidCorrelation(
                    f"correlation {label} given twice with different values ({out[pair]} and {rho})"
                )
            out[pair] = rho
        return out

    def _make_groups(self, groups: Mapping[str, Sequence[Ref]] | None) -> dict[str, list[int]]:
        if groups is None:
            out: dict[str, list[int]] = {}
            for i, (_, s) in enumerate(self._names.sources):
                out.setdefault(s, []).append(i)
            return out
        out = {}
        seen: dict[int, str] = {}
        for g, refs in groups.items():
            if g in (STAT, CROSS):
                raise InvalidMeasurement(f"group name {g!r} is reserved")
            idx = []
            for ref in refs:
                i = self._names.source(ref)
                if i in seen:
                    raise InvalidMeasurement(f"source {ref!r} is in groups {seen[i]!r} and {g!r}")
                seen[i] = g
                idx.append(i)
            out[g] = idx
        rest = [i for i in range(len(self._names.sources)) if i not in seen]
        for i in rest:  # ungrouped sources form a group of their own
            m, s = self._names.sources[i]
            out[f"{m}:{s}"] = [i]
        return out

    def with_correlations(self, correlations: Mapping[tuple[Ref, Ref], float]) -> Combiner:
        """A copy of this combiner with other correlation assumptions (e.g. for scans)."""
        new = object.__new__(Combiner)
        new.__dict__.update(self.__dict__)
        new.correlations = self._check_correlations(correlations)
        return new

    def with_chi2(self, chi2: Literal["neyman", "pearson"]) -> Combiner:
        """A copy of this combiner with the other χ² definition (everything else shared)."""
        if chi2 not in ("neyman", "pearson"):
            raise InvalidArgument(f"chi2 must be 'neyman' or 'pearson', not {chi2!r}")
        if chi2 == "pearson":
            for m, meas in self.measurements.items():
                _check_pearson(m, meas)
        new = object.__new__(Combiner)
        new.__dict__.update(self.__dict__)
        new.chi2 = chi2
        return new

    def options(self) -> dict[str, Any]:
        """The keyword options of this combination (χ² definition, asymmetry, repair,
        minimiser, errors on errors, Bartlett, linear quantities), to build a related one with
        ``Combiner``."""
        return {
            "chi2": self.chi2,
            "asymmetry": self.asymmetry,
            "repair": self.repair,
            "minimiser": self.minimiser,
            "errors_on_errors": dict(self.errors_on_errors),
            "bartlett": self.bartlett,
            "linear": dict(self.linear),
        }

    def with_estimates(
        self,
        estimates: Mapping[str, ArrayLike],
        nuisance_values: Mapping[str, ArrayLike] | None = None,
        stat_information: Mapping[str, ArrayLike] | None = None,
    ) -> Combiner:
        """A copy of this combiner whose measurements report other data (e.g. pseudo-experiments).

        ``estimates``, ``nuisance_values`` (λ̂) and ``stat_information`` (M) map measurement
        names to arrays in the order of the measurement's estimates (sources); measurements
        not named keep theirs. The shifts of relative and log-normal sources keep their size
        relative to the estimate (they are scaled by new/old estimate); absolute shifts, the source information
        D, names, observables, correlations, groups and the χ² definition are shared.
        """
        changes: dict[str, dict[str, NDArray[np.float64]]] = {}
        given = {
            "estimates": estimates,
            "nuisance_values": nuisance_values or {},
            "stat_information": stat_information or {},
        }
        for what, arrays in given.items():
            for m, value in arrays.items():
                if m not in self.measurements:
                    raise UnknownName(
                        f"with_estimates: no measurement {m!r}; measurements are {list(self.measurements)}"
                    )
                try:
                    changes.setdefault(m, {})[what] = np.asarray(value, dtype=float)
                except (TypeError, ValueError):
                    raise InvalidMeasurement(
                        f"measurement {m!r}: {what} must be numbers, got {value!r:.60}"
                    ) from None
        measurements = dict(self.measurements)
        for m, change in changes.items():
            old = measurements[m]
            x = change.get("estimates")
            if x is not None and (old.relative or old.lognormal):
                if x.shape != old.estimates.shape:
                    raise InvalidMeasurement(
                        f"measurement {m!r}: {x.shape} estimates given, expected {old.estimates.shape}"
                    )
                ratio = np.divide(x, old.estimates, out=np.ones_like(x), where=old.estimates != 0)
                multiplicative = old.relative | old.lognormal
                rel = np.array([s in multiplicative for s in old.source_names], dtype=bool)
                for key, shifts in (("shifts_up", old.shifts_up), ("shifts_down", old.shifts_down)):
                    scaled = shifts.copy()
                    scaled[:, rel] *= ratio[:, None]
                    change[key] = scaled
            measurements[m] = new_m = old._replace(**change)
            if self.chi2 == "pearson":
                _check_pearson(m, new_m)
        new = object.__new__(Combiner)
        new.__dict__.update(self.__dict__)
        new.measurements = measurements
        return new

    # ------------------------------------------------------------------ the χ²
    @property
    def sources(self) -> tuple[str, ...]:
        """Every source of the combination as ``"measurement:source"``, in parameter order."""
        # the names never change (copies made by with_* share them): built once
        cached = self.__dict__.get("_sources_cache")
        if cached is None or cached[0] is not self._names:
            cached = (self._names, tuple(f"{m}:{s}" for m, s in self._names.sources))
            self._sources_cache = cached
        return cached[1]

    def _factor(self) -> CorrelationFactor:
        # the factor of these assumptions, computed once (the opt-in repair of large blocks
        # is the expensive part); copies made by with_* keep it only for the same assumptions
        key = (tuple(sorted(self.correlations.items())), self.repair, self.sources)
        cached = self.__dict__.get("_factor_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        factor = factorize_correlations(list(self.sources), self.correlations, repair=self.repair)
        self._factor_cache = (key, factor)
        return factor

    def with_errors_on_errors(self, errors_on_errors: Mapping[Ref, Any]) -> Combiner:
        """A copy of this combiner with other errors on errors (e.g. for scans over ε)."""
        new = object.__new__(Combiner)
        new.__dict__.update(self.__dict__)
        new.errors_on_errors = dict(errors_on_errors)
        new._eoe = resolve(self._names, new.errors_on_errors)
        return new

    def _model(
        self, factor: CorrelationFactor, constraints: Sequence[GammaConstraint] = ()
    ) -> CombinedChi2:
        blocks = []
        e0 = s0 = 0
        n_params = len(self.observables) + len(self.spectators)
        for meas in self.measurements.values():
            n_e, n_s = len(meas.estimate_names), len(meas.source_names)
            param = self._param_of_estimate[e0 : e0 + n_e]
            linear = None
            if self._linear_rows and any(i in self._linear_rows for i in range(e0, e0 + n_e)):
                linear = np.zeros((n_e, n_params))
                for mu in range(n_e):
                    row = self._linear_rows.get(e0 + mu)
                    if row is None:
                        linear[mu, param[mu]] = 1.0
                    else:
                        linear[mu] = row
            rel = _flags(meas.source_names, meas.relative)
            logn = _flags(meas.source_names, meas.lognormal)
            blocks.append(
                MeasurementBlock(
                    x_hat=meas.estimates,
                    M=meas.stat_information,
                    up=meas.shifts_up,
                    down=meas.shifts_down,
                    D=meas.source_information,
                    lam_hat=meas.nuisance_values,
                    rel=rel,
                    asym=meas.is_asymmetric if n_s else np.zeros(0, dtype=bool),
                    param=param,
                    src=np.arange(s0, s0 + n_s),
                    logn=logn,
                    linear=linear,
                )
            )
            e0 += n_e
            s0 += n_s
        return CombinedChi2(
            blocks,
            n_params,
            factor.L,
            pearson=self.chi2 == "pearson",
            asymmetry=self.asymmetry,
            constraints=constraints,
        )

    # ------------------------------------------------------------------ combine
    def combine(self, *, intervals: bool = True, decompositions: bool = True) -> CombinationResult:
        """Minimise the combined χ² and return the result.

        ``intervals=False`` skips the profile-likelihood (Minos) intervals of a non-quadratic
        χ² (they are then reported with status ``"not computed"``). ``decompositions=False``
        skips the uncertainty breakdown, weights and impacts (empty tables), e.g. for scans
        that need only values, errors and χ².

        Small combinations run with one BLAS thread (the caller's setting is restored
        afterwards): for them, thread synchronisation costs more than it brings.
        """
        size = len(self.observables) + len(self.spectators) + len(self._names.sources)
        with blas_threads(size):
            return self._combine(intervals, decompositions)

    def _combine(self, intervals: bool, decompositions: bool) -> CombinationResult:
        factor = self._factor()
        constraints, eoe_terms = gamma_terms(self._eoe, factor)
        model = self._model(factor, constraints)
        obs = self.observables
        fitted = list(obs) + list(self.spectators)
        theta_names = fitted + list(factor.eta_names)
        sol = minimise(model, theta_names, minimiser=self.minimiser)
        if constraints and sol.minimum is not None:
            sol = self._lowest(model, sol, theta_names)
        n_p = model.n_params
        ndf = model.n_estimates - n_p
        bartlett = None
        if constraints:
            bartlett = self._bartlett(model, sol, ndf)
        levels = dict.fromkeys(obs, 1.0)
        if bartlett is not None and self.bartlett:
            levels = dict(bartlett.profile)
        if intervals or sol.method == "linear solve":
            if bartlett is not None and self.bartlett:
                from .solver.bartlett import intervals_at

                ivals, status = intervals_at(sol, model, theta_names, obs, list(levels.values()))
            else:
                ivals, status = profile_intervals(sol, model, theta_names, obs)
            if constraints and sol.minimum is not None:
                ivals, status = self._verified(model, sol, ivals, status, levels)
        else:
            ivals = dict.fromkeys(obs, (math.nan, math.nan))
            status = dict.fromkeys(obs, "not computed")
        theta, cov = sol.theta, sol.covariance

        # sources: λ = L η
        L = factor.L
        c_xl = cov[:n_p, n_p:] @ L.T
        full_cov = np.empty((n_p + len(L), n_p + len(L)))
        full_cov[:n_p, :n_p] = cov[:n_p, :n_p]
        full_cov[:n_p, n_p:] = c_xl
        full_cov[n_p:, :n_p] = c_xl.T
        full_cov[n_p:, n_p:] = L @ cov[n_p:, n_p:] @ L.T
        sources = list(self.sources)
        lam = L @ theta[n_p:]
        lam_err = np.sqrt(np.clip(np.diag(full_cov)[n_p:], 0.0, None))
        err = np.sqrt(np.diag(cov)[:n_p])
        k = len(obs)
        # the reported quantities: the observables, then the reported linear quantities, as
        # rows T of θ (their covariance T V Tᵀ, their rows of V: R = T V)
        reported = [q for q, lq in self.linear.items() if lq.report]
        if reported:
            T = np.zeros((k + len(reported), model.npar))
            T[:k, :k] = np.eye(k)
            for j, q in enumerate(reported):
                T[k + j, :n_p] = self._linear_row(q)
            R = T @ cov
            cov_obs = R @ T.T
            cov_obs = 0.5 * (cov_obs + cov_obs.T)
            rep_values = T @ theta
            rep_err = np.sqrt(np.clip(np.diag(cov_obs), 0.0, None))
        else:
            R = cov[:k]
            cov_obs = cov[:k, :k].copy()
            rep_values = theta[:k]
            rep_err = err[:k]
        all_obs = tuple(obs) + tuple(reported)
        corr_obs = cov_obs / np.outer(rep_err, rep_err)
        if reported:
            ivals, status = dict(ivals), dict(status)
            for j, q in enumerate(reported):
                ivals[q], status[q] = self._linear_interval(
                    model,
                    sol,
                    theta_names,
                    T[k + j, :n_p],
                    q,
                    rep_values[k + j],
                    rep_err[k + j],
                    intervals,
                )
                levels[q] = 1.0
        d = np.sqrt(np.clip(np.diag(full_cov), 1e-300, None))
        full_corr = full_cov / np.outer(d, d)

        k_rep = len(all_obs)
        if decompositions:
            weights, stat_var = self._weights(model, theta, R, all_obs)
            breakdown = self._breakdown(model, factor, R, np.diag(cov_obs), stat_var, all_obs)
            impacts = self._impacts(factor, cov, R, np.diag(cov_obs), n_p, all_obs)
        else:
            empty = Table((), all_obs, np.zeros((0, k_rep)))
            weights, breakdown = Table(all_obs, (), np.zeros((k_rep, 0))), empty
            impacts = empty
        chi2_min = float(sol.chi2)
        pvalue = chi2_sf(ndf, chi2_min) if ndf > 0 else float("nan")

        minuit = sol.minuit

        def factory():
            if minuit is not None:
                return minuit
            m = make_minuit(model, theta, theta_names)
            m.strategy = 0
            m.migrad()
            m.hesse()
            return m

        return CombinationResult(
            observables=all_obs,
            values=dict(zip(all_obs, rep_values.tolist(), strict=True)),
            errors=dict(zip(all_obs, rep_err.tolist(), strict=True)),
            intervals=ivals,
            interval_status=status,
            covariance=NamedMatrix(all_obs, cov_obs),
            correlation=NamedMatrix(all_obs, corr_obs),
            spectators={
                s: (float(theta[k + i]), float(err[k + i])) for i, s in enumerate(self.spectators)
            },
            pulls=dict(zip(sources, lam.tolist(), strict=True)),
            constraints=dict(zip(sources, lam_err.tolist(), strict=True)),
            full_correlation=NamedMatrix(tuple(fitted + sources), full_corr),
            chi2=chi2_min,
            ndf=ndf,
            pvalue=pvalue,
            breakdown=breakdown,
            weights=weights,
            impacts=impacts,
            chi2_definition=self.chi2,
            method=sol.method,
            edm=sol.edm,
            correlation_repairs=dict(factor.repaired),
            correlation_assumptions=NamedMatrix(tuple(sources), factor.matrix),
            _minuit_factory=factory,
            # for result.contour (hepcombine.solver.contours): the χ², its minimum, the names
            _profile=Profile(model, sol, tuple(fitted), tuple(sources)),
            notes=self._notes(sol),
            errors_on_errors=with_variance_factors(eoe_terms, constraints, theta[n_p:]),
            bartlett=bartlett,
            interval_levels=levels,
            linear_quantities=tuple(reported),
        )

    def _linear_row(self, q: str) -> NDArray:
        """The coefficients of linear quantity ``q`` over the fitted parameters."""
        row = np.zeros(len(self.observables) + len(self.spectators))
        index = {o: i for i, o in enumerate(self.observables)}
        for o, a in self.linear[q].coefficients.items():
            row[index[o]] = a
        return row

    def _linear_interval(
        self,
        model: CombinedChi2,
        sol: Solution,
        names: list[str],
        row: NDArray,
        q: str,
        value: float,
        error: float,
        intervals: bool,
    ) -> tuple[tuple[float, float], str]:
        """The 68 % interval of the linear quantity rowᵀx̄: value ± error exactly for a
        quadratic χ²; otherwise the profile interval in the parameters with one x̄_j (the
        largest |a_j|) replaced by the quantity itself — the same χ², written through the
        linear map x̄ = S⁻¹x̄′ (``MeasurementBlock.linear``)."""
        if sol.method == "linear solve":
            return (value - error, value + error), "exact"
        if not intervals:
            return (math.nan, math.nan), "not computed"
        from dataclasses import replace

        n_p = model.n_params
        j = int(np.argmax(np.abs(row)))
        S = np.eye(n_p)
        S[j] = row
        S_inv = np.linalg.inv(S)
        blocks = [replace(b, linear=b.design(n_p) @ S_inv) for b in model.blocks]
        moved = CombinedChi2(
            blocks,
            n_p,
            model.L,
            pearson=model.pearson,
            asymmetry=model.asymmetry,
            constraints=model.constraints,
        )
        new_names = list(names)
        new_names[j] = q
        start = sol.theta.copy()
        start[:n_p] = S @ sol.theta[:n_p]
        moved_sol = minimise(moved, new_names, minimiser=self.minimiser, start=start)
        ivals, status = profile_intervals(moved_sol, moved, new_names, [q])
        return ivals[q], status[q]

    @staticmethod
    def _lowest(model: CombinedChi2, sol: Solution, names: list[str]) -> Solution:
        """The lowest minimum over the far branches of the errors-on-errors terms
        (:mod:`hepcombine.solver.gvm`), starting from the one Newton's method found."""
        from .solver.gvm import lowest_minimum

        assert sol.minimum is not None
        sigma = np.sqrt(np.clip(np.diag(sol.covariance), 1e-300, None))
        best = lowest_minimum(model, sol.minimum, sigma)
        if best is sol.minimum:
            return sol
        log.info(
            "errors on errors: a lower minimum on a far branch (χ² %.8g < %.8g)",
            best.chi2,
            sol.chi2,
        )
        return minimise(model, names, start=best.theta)

    def _verified(
        self,
        model: CombinedChi2,
        sol: Solution,
        ivals: dict[str, tuple[float, float]],
        status: dict[str, str],
        levels: Mapping[str, float],
    ) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
        """The intervals checked on every branch of the errors-on-errors terms; endpoints found
        again where another branch is lower there (status ``"profile scan (branches)"``)."""
        from .solver.gvm import verify_intervals

        assert sol.minimum is not None
        sigma = np.sqrt(np.clip(np.diag(sol.covariance), 1e-300, None))
        idx = {o: i for i, o in enumerate(self.observables)}
        checked = verify_intervals(
            model,
            sol.minimum,
            sigma,
            [idx[o] for o in self.observables if not status[o].startswith("failed")],
            {idx[o]: ivals[o] for o in self.observables},
            {idx[o]: float(levels[o]) for o in self.observables},
        )
        ivals, status = dict(ivals), dict(status)
        for o in self.observables:
            if idx[o] in checked and checked[idx[o]][1]:
                ivals[o] = checked[idx[o]][0]
                ok = all(np.isfinite(ivals[o]))
                status[o] = (
                    "profile scan (branches)"
                    if ok
                    else (
                        "failed: the profiled χ² on another branch of the errors-on-errors terms "
                        "does not reach the level within the search range"
                    )
                )
        return ivals, status

    def _bartlett(self, model: CombinedChi2, sol: Solution, ndf: int) -> BartlettCorrection:
        """The Bartlett factors at the minimum (:mod:`hepcombine.solver.bartlett`)."""
        from .solver.bartlett import bartlett_factors

        sides = None
        if sol.kinks is not None and sol.on_kinks:
            sides = np.full(model.n_lambda, np.nan)
            for (src,), side in sol.on_kinks:
                sides[src] = side
        k = len(self.observables)
        b = bartlett_factors(model, sol.theta, list(range(k)), ndf, sides)
        statistic = float(sol.chi2) * ndf / float(b.chi2) if ndf > 0 else math.nan
        return BartlettCorrection(
            profile=dict(zip(self.observables, b.profile.tolist(), strict=True)),
            chi2=float(b.chi2),
            applied=self.bartlett,
            goodness_of_fit=statistic,
            pvalue=chi2_sf(ndf, statistic) if ndf > 0 else math.nan,
        )

    def _notes(self, sol: Solution) -> tuple[str, ...]:
        """Sources on their kink at the minimum, by name."""
        sides = {1.0: "δ > 0", -1.0: "δ < 0"}
        return tuple(
            f"source {self.sources[i]} sits on the kink of its asymmetric interpolation at the "
            f"minimum; its curvature-based quantities (errors, constraints) use its "
            f"{sides.get(side, 'mean')} side"
            for (i,), side in sol.on_kinks
        )

    # ------------------------------------------------------------------ decompositions
    def _weights(
        self, model: CombinedChi2, theta: NDArray, R: NDArray, rows: tuple[str, ...]
    ) -> tuple[Table, NDArray]:
        """∂x̄/∂x̂ = V Gᵀ M per measurement, and the statistical variance Σ_α (V Gᵀ) M (G V)
        including the data constraints on the sources (D terms). ``R``: the rows of V of the
        reported quantities (T V)."""
        n_p = model.n_params
        cols: list[str] = []
        blocks: list[NDArray] = []
        stat = np.zeros(len(rows))
        Vx = R[:, :n_p]
        Ve = R[:, n_p:]
        for (mname, meas), (f, E), b in zip(
            self.measurements.items(), model.linear_parts(theta), model.blocks, strict=True
        ):
            B = Ve @ model.L[b.src].T  # (k, n_sources of α): V_xλ
            if b.linear is not None:
                Vy = Vx @ b.linear.T
            else:
                Vy = Vx[:, b.param_range] if b.param_range is not None else Vx[:, b.param]
            if b.nl.size:  # f = 1 for a block of linear sources only
                Vy = Vy * f[None, :]
            A = Vy + B @ E.T  # V Gᵀ, (k, n_e)
            w = A @ b.M
            stat += np.sum(w * A, axis=1)
            if b.has_D:
                stat += np.sum((B @ b.D) * B, axis=1)
            blocks.append(w)
            cols.extend(f"{mname}:{e}" for e in meas.estimate_names)
        return Table(rows, tuple(cols), np.hstack(blocks)), stat

    def _breakdown(
        self,
        model: CombinedChi2,
        factor: CorrelationFactor,
        R: NDArray,
        var: NDArray,
        stat: NDArray,
        names: tuple[str, ...],
    ) -> Table:
        """Variance decomposition (Pinto et al., arXiv:2307.04007): cov = V (Σ_α I_α + I_prior) V
        with V = (½H)⁻¹ = cov; the data terms are "stat", the prior term is split over groups
        through the sensitivity to the sources' global observables, G = V_xη L⁺."""
        n_p = model.n_params
        Ve = R[:, n_p:]
        G = Ve @ factor.L_pinv  # (k, n_sources)
        C = factor.matrix
        # var_g = Σ_{i,j ∈ g} G_i C_ij G_j: the pairs within a group only; groups of one source
        # all at once (G_i² C_ii), the others one by one
        groups = list(self.groups.values())
        var_groups = np.zeros((len(groups), G.shape[0]))
        single = [gi for gi, idx in enumerate(groups) if len(idx) == 1]
        if single:
            src = np.array([groups[gi][0] for gi in single], dtype=np.intp)
            var_groups[single] = (G[:, src] ** 2 * np.diag(C)[src]).T
        for gi, idx in enumerate(groups):
            if len(idx) > 1:
                Gg = G[:, idx]
                var_groups[gi] = np.sum((Gg @ C[np.ix_(idx, idx)]) * Gg, axis=1)
        rows = [STAT, *self.groups]
        out = [stat[None, :], var_groups]
        total_groups = var_groups.sum(axis=0)
        cross = np.sum(Ve * Ve, axis=1) - total_groups
        if np.any(np.abs(cross) > 1e-9 * var):
            rows.append(CROSS)
            out.append(cross[None, :])
        return Table(tuple(rows), names, _signed_sqrt(np.concatenate(out)))

    def _impacts(
        self,
        factor: CorrelationFactor,
        cov: NDArray,
        R: NDArray,
        var: NDArray,
        n_p: int,
        names: tuple[str, ...],
    ) -> Table:
        """Convino's impacts: √(σ² − σ²(group fixed)), by the conditional covariance (exact for
        a quadratic χ², where fixing and refitting is a linear operation)."""
        L = factor.L
        k = len(names)
        Vxx = var
        Vxe = R[:, n_p:]
        Vee = cov[n_p:, n_p:]

        def explained(idx: list[int]) -> NDArray:
            Lg = L[idx]
            c_xl = Vxe @ Lg.T
            c_ll = Lg @ Vee @ Lg.T
            return np.sum((c_xl @ np.linalg.pinv(c_ll, hermitian=True)) * c_xl, axis=1)

        groups = list(self.groups.values())
        out = np.empty((1 + len(groups), k))
        # all sources fixed = η fixed (L has full column rank): the conditional variance
        # V_xx − V_xη V_ηη⁻¹ V_ηx
        if Vee.shape[0]:
            explained_all = np.sum(Vxe * np.linalg.solve(Vee, Vxe.T).T, axis=1)
            out[0] = Vxx - explained_all
        else:
            out[0] = Vxx
        # groups of one source: c_xl² / c_ll for all of them at once (0 where c_ll = 0)
        single = [gi for gi, idx in enumerate(groups) if len(idx) == 1]
        if single:
            src = np.array([groups[gi][0] for gi in single], dtype=np.intp)
            c_xl = (Vxe @ L.T)[:, src]
            c_ll = np.sum((L @ Vee) * L, axis=1)[src]
            positive = c_ll > 0
            part = np.zeros((k, len(src)))
            np.divide(c_xl**2, c_ll, out=part, where=positive[None, :])
            out[1 + np.array(single, dtype=np.intp)] = part.T
        for gi, idx in enumerate(groups):
            if len(idx) > 1:
                out[1 + gi] = explained(idx)
        return Table((STAT, *self.groups), names, _signed_sqrt(out))


def _flags(names: Sequence[str], chosen: frozenset[str]) -> NDArray[np.bool_]:
    """Per name, whether it is one of ``chosen``."""
    if not chosen:
        return np.zeros(len(names), dtype=bool)
    return np.array([s in chosen for s in names], dtype=bool)


def _signed_sqrt(var: NDArray) -> NDArray:
    return np.sign(var) * np.sqrt(np.abs(var))


def __dir__() -> list[str]:
    return list(__all__)
